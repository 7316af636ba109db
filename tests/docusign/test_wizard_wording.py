"""Errors the wizard shows speak of its own controls: no command-line flag, no `clmwizard …`
command, for the network, discovery, session and host errors (the CLI keeps its wording)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from clmwizard.docusign.discovery import choose_account, fetch_userinfo, parse_userinfo
from clmwizard.docusign.environments import DEMO
from clmwizard.docusign.hosts import check_clm_host, unconfirmed_error
from clmwizard.docusign.session import explain_dead_grant, refresh_profile, rotate_secret
from clmwizard.errors import ClmWizardError, GrantDeadError
from clmwizard.store.profile import REFRESH_TOKEN, SECRET_KEY, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore

IK = "3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"
SECRET = "b7c1d2e3-aaaa-4bbb-8ccc-0123456789ab"
NEW_SECRET = "c8d2e3f4-bbbb-4ccc-9ddd-123456789abc"
URL = "https://account-d.docusign.com/oauth/token"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
USERINFO = {
    "sub": "5d0c9c3e-1111-4222-8333-444455556666",
    "accounts": [
        {
            "account_id": "9a217f4f-d7c0-4a89-9f9c-3e2d6442bd14",
            "account_name": "A",
            "is_default": True,
        }
    ],
}


def names_no_flags(error: ClmWizardError) -> None:
    shown = error.render_for_wizard()
    assert error.what in shown
    assert " --" not in shown and "`clmwizard " not in shown, shown
    assert "clmwizard login" not in shown and "clmwizard refresh" not in shown, shown
    assert error.fix and error.wizard_fix, "the CLI keeps its own wording"


def profile(scopes: list[str] | None = None, **changes: object) -> Profile:
    consented = NOW - timedelta(days=40)
    base = Profile(
        name="p",
        environment="demo",
        auth_server=DEMO.auth_server,
        clm_auth_server=DEMO.clm_auth_server,
        integration_key=IK,
        scopes=scopes or ["signature", "spring_read", "extended"],
        redirect_uri="http://127.0.0.1:8765/callback",
        consented_at=consented,
        last_refresh_at=consented,
        refresh_token_expires_at=consented + timedelta(days=30),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_account_id_that_is_not_a_guid() -> None:
    bad = {"accounts": [{"account_id": "../../../oauth/userinfo?x="}]}
    with pytest.raises(ClmWizardError) as caught:
        parse_userinfo(bad, URL)
    names_no_flags(caught.value)


def test_an_unknown_account_id() -> None:
    with pytest.raises(ClmWizardError) as caught:
        choose_account(parse_userinfo(USERINFO, URL), "1c5e0b8a-2f4d-4e6a-9b3c-7d8e9f0a1b2c")
    names_no_flags(caught.value)


@pytest.mark.parametrize("status", [401])
async def test_userinfo_refused(status: int) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json={}))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ClmWizardError) as caught:
            await fetch_userinfo(client, DEMO, "access-token-fake")
    names_no_flags(caught.value)


def test_an_unconfirmed_host() -> None:
    verdict = check_clm_host("https://clm.evil.example")
    names_no_flags(unconfirmed_error([verdict], doing="exporting", retry="clmwizard export"))


@pytest.mark.parametrize(
    ("code", "what", "scopes"),
    [
        ("invalid_grant", "grant expired", ["signature", "spring_read"]),
        ("invalid_grant", "grant expired", None),
    ],
    ids=["expired-no-extended", "expired-unused"],
)
def test_dead_grants(code: str, what: str, scopes: list[str] | None) -> None:
    error = GrantDeadError(what, fix="consent again", code=code)
    names_no_flags(explain_dead_grant(error, profile(scopes), NOW))


@pytest.mark.parametrize("command", ["refresh", "rotate"])
async def test_an_untrusted_oauth_server(tmp_path: Path, command: str) -> None:
    store = ProfileStore(tmp_path / "profiles")
    store.save(profile(auth_server="http://127.0.0.1:47001"))
    secrets = MemorySecretStore()
    secrets.set_many("p", {SECRET_KEY: SECRET, REFRESH_TOKEN: "refresh-token-fake"})
    with pytest.raises(ClmWizardError) as caught:
        if command == "refresh":
            await refresh_profile("p", store, secrets)
        else:
            await rotate_secret("p", NEW_SECRET, store, secrets)
    assert caught.value.code == "untrusted_server"
    names_no_flags(caught.value)
    key = "f (refresh)" if command == "refresh" else "s (rotate secret)"
    assert key in caught.value.render_for_wizard()


async def test_a_missing_secret(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "profiles")
    store.save(profile())
    with pytest.raises(ClmWizardError) as caught:
        await refresh_profile("p", store, MemorySecretStore())
    names_no_flags(caught.value)
