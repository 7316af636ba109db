"""The protocol core against the running emulator, over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from clmwizard.docusign.callback import CallbackListener
from clmwizard.docusign.consent import ConsentRequest, build_consent_request
from clmwizard.docusign.discovery import choose_account, discover_clm_hosts, fetch_userinfo
from clmwizard.docusign.environments import Environment, resolve_environment
from clmwizard.docusign.oauth import TokenSet, exchange_code
from clmwizard.docusign.scopes import DEFAULT_SCOPES
from clmwizard.docusign.session import (
    complete_login,
    discover_hosts,
    profile_after_login,
    refresh_profile,
    rotate_secret,
    store_login,
)
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import ConsentError, follow_consent
from clmwizard.errors import ClmWizardError, GrantDeadError, NetworkError, UsageError
from clmwizard.http import make_client
from clmwizard.store.profile import REFRESH_TOKEN, SECRET_KEY, ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.docusign.helpers import environment, redirect_location
from tests.support.connector_profiles import make_profile

DAY = 24 * 3600


async def consent(
    emu: Emulator,
    redirect_uri: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    *,
    decision: str = "accept",
    use_pkce: bool = True,
) -> tuple[ConsentRequest, str]:
    """Run the consent through the browser stand-in and catch the code on the listener."""
    env = environment(emu)
    request = build_consent_request(
        env, emu.integration_key, scopes, redirect_uri, use_pkce=use_pkce
    )
    async with CallbackListener(redirect_uri, request.state) as listener:
        browser = asyncio.create_task(asyncio.to_thread(follow_consent, request.url, decision))
        try:
            code = await listener.wait(5.0)
        finally:
            await browser
    return request, code


async def pasted(emu: Emulator, redirect_uri: str) -> tuple[ConsentRequest, str]:
    """The consent finished elsewhere: the address it ended on pasted into the waiting listener."""
    request = build_consent_request(
        environment(emu), emu.integration_key, DEFAULT_SCOPES, redirect_uri
    )
    async with CallbackListener(redirect_uri, request.state) as listener:
        location = await asyncio.to_thread(redirect_location, request.url)
        await asyncio.to_thread(listener.deliver_pasted, location)
        code = await listener.wait(2.0)
    return request, code


async def exchange(
    emu: Emulator,
    request: ConsentRequest,
    code: str,
    secret: str | None = None,
    verifier: str | None = None,
) -> TokenSet:
    async with make_client(timeout=5.0) as client:
        return await exchange_code(
            client,
            environment(emu),
            emu.integration_key,
            secret or emu.secret_key,
            code,
            verifier if verifier is not None else request.code_verifier,
        )


async def test_full_sign_in_discovers_the_account_and_hosts(
    emu: Emulator, redirect_uri: str
) -> None:
    request, code = await consent(emu, redirect_uri)
    env = environment(emu)
    async with make_client(timeout=5.0) as client:
        login = await complete_login(
            client, env, emu.integration_key, emu.secret_key, code, request.code_verifier
        )
        hosts = await discover_hosts(client, env, login)
    assert login.account.account_id == emu.account_id
    assert login.userinfo.email == emu.user_email and login.userinfo.user_id == emu.user_id
    assert login.tokens.expires_in == 28800 and login.tokens.refresh_token
    assert (hosts.general, hosts.upload, hosts.download) == (
        emu.clm_hosts["general"],
        emu.clm_hosts["upload"],
        emu.clm_hosts["download"],
    )
    assert "refresh_token=" not in repr(login.tokens)


async def test_without_pkce_the_exchange_works(emu: Emulator, redirect_uri: str) -> None:
    request, code = await consent(emu, redirect_uri, use_pkce=False)
    assert request.code_verifier is None and "code_challenge" not in request.url
    tokens = await exchange(emu, request, code)
    assert tokens.access_token


async def test_wrong_pkce_verifier_is_named(emu: Emulator, redirect_uri: str) -> None:
    request, code = await consent(emu, redirect_uri)
    with pytest.raises(ClmWizardError) as caught:
        await exchange(emu, request, code, verifier="x" * 64)
    assert caught.value.code == "pkce_mismatch"
    assert "refused the PKCE proof" in caught.value.what


async def test_decline_ends_the_wait(emu: Emulator, redirect_uri: str) -> None:
    with pytest.raises(ClmWizardError, match="You declined the consent in DocuSign"):
        await consent(emu, redirect_uri, decision="decline")


async def test_pasted_redirect_completes_the_wait(emu: Emulator, redirect_uri: str) -> None:
    request, code = await pasted(emu, redirect_uri)
    assert (await exchange(emu, request, code)).access_token


@pytest.mark.parametrize(
    ("secret", "code_name", "field", "words"),
    [
        (
            "wrong-secret-value",
            "invalid_grant",
            "secret_key",
            "most likely the secret key is wrong",
        ),
        ("IK", "expired_client_token", "secret_key", "integration key was pasted"),
    ],
)
async def test_wrong_secrets(
    emu: Emulator, redirect_uri: str, secret: str, code_name: str, field: str, words: str
) -> None:
    request, code = await consent(emu, redirect_uri)
    with pytest.raises(ClmWizardError) as caught:
        await exchange(emu, request, code, secret=emu.integration_key if secret == "IK" else secret)
    assert (caught.value.code, caught.value.field) == (code_name, field)
    assert words in caught.value.what + caught.value.cause


@pytest.mark.parametrize("description", ["", "unauthorized_client"])
async def test_wrong_secret_with_a_fresh_code_is_ranked_first(
    emu: Emulator, redirect_uri: str, description: str
) -> None:
    emu.configure_app(wrong_secret_description=description)
    request, code = await consent(emu, redirect_uri)
    received = time.monotonic()
    async with make_client(timeout=5.0) as client:

        async def exchange(secret: str) -> TokenSet:
            return await exchange_code(
                client,
                environment(emu),
                emu.integration_key,
                secret,
                code,
                request.code_verifier,
                received_at=received,
            )

        with pytest.raises(ClmWizardError) as caught:
            await exchange("wrong-secret-value")
        error = caught.value
        assert (error.code, error.field) == ("invalid_grant", "secret_key")
        assert "most likely the secret key is wrong" in error.what
        assert "was sent once, so it has not expired" in error.cause
        assert "expired (after about 2 minutes) or was already used" in error.cause
        # the same code again (as the wizard's "re-enter the secret" does): now it was sent before
        with pytest.raises(ClmWizardError) as again:
            await exchange("wrong-secret-value")
        assert "this run had sent it before" in again.value.cause
        # the emulator did not use the code up for a wrong secret: the right one still works
        tokens = await exchange(emu.secret_key)
        assert tokens.access_token


async def test_a_pasted_code_has_no_known_age(emu: Emulator, redirect_uri: str) -> None:
    emu.configure_app(wrong_secret_description="")
    request, code = await pasted(emu, redirect_uri)
    with pytest.raises(ClmWizardError) as caught:
        await exchange(emu, request, code, secret="wrong-secret-value")
    assert "a wrong secret key, or an expired or used code" in caught.value.what
    assert "cannot tell which" in caught.value.cause


async def test_invalid_client_for_a_wrong_secret_is_still_understood(
    emu: Emulator, redirect_uri: str
) -> None:
    emu.configure_app(wrong_secret_error="invalid_client")
    request, code = await consent(emu, redirect_uri)
    with pytest.raises(ClmWizardError) as caught:
        await exchange(emu, request, code, secret="wrong-secret-value")
    assert (caught.value.code, caught.value.field) == ("invalid_client", "secret_key")
    assert "refused the secret key" in caught.value.what


async def test_expired_and_reused_codes(emu: Emulator, redirect_uri: str) -> None:
    request, code = await consent(emu, redirect_uri)
    emu.advance_clock(121)
    with pytest.raises(ClmWizardError) as expired:
        await exchange(emu, request, code)
    assert expired.value.code == "code_expired" and "about 2 minutes" in expired.value.cause

    request, code = await consent(emu, redirect_uri)
    await exchange(emu, request, code)
    with pytest.raises(ClmWizardError) as reused:
        await exchange(emu, request, code)
    assert reused.value.code == "code_reused" and "works once" in reused.value.cause


async def test_unregistered_redirect_uri_never_comes_back(emu: Emulator) -> None:
    from tests.docusign.helpers import loopback_redirect_uri

    unregistered = loopback_redirect_uri()
    with pytest.raises(ConsentError, match="not registered properly"):
        follow_consent(
            build_consent_request(
                environment(emu), emu.integration_key, DEFAULT_SCOPES, unregistered
            ).url
        )
    async with CallbackListener(unregistered, "S") as listener:
        with pytest.raises(ClmWizardError) as caught:
            await listener.wait(0.1)
    assert f"the redirect URI {unregistered} is not registered" in caught.value.cause


@pytest.mark.parametrize("emu", [2], indirect=True)
async def test_account_choice(emu: Emulator, redirect_uri: str) -> None:
    request, code = await consent(emu, redirect_uri)
    env = environment(emu)
    async with make_client(timeout=5.0) as client:
        tokens = await exchange(emu, request, code)
        info = await fetch_userinfo(client, env, tokens.access_token)
    assert len(info.accounts) == 2
    default = choose_account(info)
    assert default.is_default and default.account_id == emu.account_id
    other = next(a for a in info.accounts if a is not default)
    assert choose_account(info, other.account_id.upper()) == other
    with pytest.raises(UsageError) as caught:
        choose_account(info, "00000000-0000-0000-0000-000000000000")
    assert caught.value.field == "account_id"
    assert default.account_id in caught.value.cause and other.account_id in caught.value.cause


async def test_discovery_without_spring_scopes(emu: Emulator, redirect_uri: str) -> None:
    request, code = await consent(emu, redirect_uri, ["signature", "extended"])
    tokens = await exchange(emu, request, code)
    async with make_client(timeout=5.0) as client:
        with pytest.raises(ClmWizardError) as caught:
            await discover_clm_hosts(client, environment(emu), emu.account_id, tokens.access_token)
    error = caught.value
    assert error.code == "clm_401" and error.field == "scopes"
    assert "lacks the CLM scopes spring_read and spring_write" in error.cause
    assert "Admin → System Domains" in error.fix and "by hand" in error.fix


# -- stored profiles: refresh, rotate, dead grants ---------------------------------------------


async def signed_in_profile(
    emu: Emulator, redirect_uri: str, tmp_path: Path, scopes: Sequence[str] = DEFAULT_SCOPES
) -> tuple[ProfileStore, MemorySecretStore]:
    request, code = await consent(emu, redirect_uri, scopes)
    env = environment(emu)
    async with make_client(timeout=5.0) as client:
        login = await complete_login(
            client, env, emu.integration_key, emu.secret_key, code, request.code_verifier
        )
        hosts = await discover_hosts(client, env, login) if "spring_read" in scopes else None
    base = Profile(
        name="p",
        environment=env.name,
        auth_server=env.auth_server,
        clm_auth_server=env.clm_auth_server,
        integration_key=emu.integration_key,
        scopes=list(scopes),
        redirect_uri=redirect_uri,
    )
    profile = profile_after_login(
        base, login.tokens, login.userinfo, login.account, hosts, now=login.tokens.obtained_at
    )
    profiles, secrets = ProfileStore(tmp_path / "profiles"), MemorySecretStore()
    store_login(profiles, secrets, profile, emu.secret_key, login.tokens)
    return profiles, secrets


async def test_refresh_with_extended_rolls_forward(
    emu: Emulator, redirect_uri: str, tmp_path: Path
) -> None:
    profiles, secrets = await signed_in_profile(emu, redirect_uri, tmp_path)
    first = secrets.get("p", REFRESH_TOKEN)
    for _ in range(3):  # 60 days in all: only `extended` survives that
        emu.advance_clock(20 * DAY)
        result = await refresh_profile("p", profiles, secrets)
    assert secrets.get("p", REFRESH_TOKEN) == result.tokens.refresh_token != first
    stored = profiles.load("p")
    assert stored.last_refresh_at == result.tokens.obtained_at
    assert stored.refresh_token_expires_at == result.refresh_expires_at
    assert stored.consented_at is not None and result.refresh_expires_at is not None
    assert (result.refresh_expires_at - result.tokens.obtained_at).days == 30


async def test_refresh_without_extended_dies_after_30_days(
    emu: Emulator, redirect_uri: str, tmp_path: Path
) -> None:
    scopes = ["signature", "spring_read", "spring_write"]
    profiles, secrets = await signed_in_profile(emu, redirect_uri, tmp_path, scopes)
    emu.advance_clock(10 * DAY)
    result = await refresh_profile("p", profiles, secrets)
    assert result.refresh_expires_at == profiles.load("p").consented_at + __import__(
        "datetime"
    ).timedelta(days=30)  # type: ignore[operator]
    emu.advance_clock(21 * DAY)
    with pytest.raises(GrantDeadError) as caught:
        await refresh_profile("p", profiles, secrets)
    assert caught.value.code == "expired_no_extended" and caught.value.exit_code == 3
    assert "without `extended` it dies 30 days after consent" in caught.value.what


async def test_dead_grant_after_revoked_consent(
    emu: Emulator, redirect_uri: str, tmp_path: Path
) -> None:
    profiles, secrets = await signed_in_profile(emu, redirect_uri, tmp_path)
    emu.revoke_consent()
    with pytest.raises(GrantDeadError) as caught:
        await refresh_profile("p", profiles, secrets)
    assert caught.value.code == "consent_revoked" and "Connected Apps" in caught.value.cause


async def test_revoked_secret_points_at_rotate(
    emu: Emulator, redirect_uri: str, tmp_path: Path
) -> None:
    profiles, secrets = await signed_in_profile(emu, redirect_uri, tmp_path)
    emu.revoke_secret("secret_key")
    with pytest.raises(GrantDeadError) as caught:
        await refresh_profile("p", profiles, secrets)
    assert caught.value.code == "secret_revoked"
    assert "clmwizard rotate --profile p" in caught.value.fix


async def test_rotation_proves_the_new_secret_first(
    emu: Emulator, redirect_uri: str, tmp_path: Path
) -> None:
    profiles, secrets = await signed_in_profile(emu, redirect_uri, tmp_path)
    before = (secrets.get("p", SECRET_KEY), secrets.get("p", REFRESH_TOKEN), profiles.load("p"))
    with pytest.raises(UsageError) as caught:
        await rotate_secret("p", "not-the-right-secret", profiles, secrets)
    assert "Nothing changed" in caught.value.what and caught.value.field == "secret_key"
    assert (
        secrets.get("p", SECRET_KEY),
        secrets.get("p", REFRESH_TOKEN),
        profiles.load("p"),
    ) == before
    await refresh_profile("p", profiles, secrets)  # the old secret still works

    with pytest.raises(UsageError, match="already stored"):
        await rotate_secret("p", emu.secret_key, profiles, secrets)

    result = await rotate_secret("p", emu.spare_secret_key, profiles, secrets)
    assert secrets.get("p", SECRET_KEY) == emu.spare_secret_key
    assert secrets.get("p", REFRESH_TOKEN) == result.tokens.refresh_token
    assert profiles.load("p").last_rotation_at == result.tokens.obtained_at
    emu.revoke_secret("secret_key")
    await refresh_profile("p", profiles, secrets)  # the new secret carries on alone


async def test_failed_profile_write_restores_the_secrets(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    class BrokenProfiles(ProfileStore):
        def save(self, profile: Profile) -> None:
            raise OSError("disk full")

    secrets = MemorySecretStore()
    secrets.set_many("p", {SECRET_KEY: "old-secret-1", REFRESH_TOKEN: "old-refresh-1"})
    tokens = TokenSet("new-access-1", "new-refresh-1", 28800, datetime.now(UTC))
    profile = make_profile(name="p", clm_hosts=ClmHosts("https://a", "https://b", "https://c"))
    with pytest.raises(OSError):
        store_login(BrokenProfiles(tmp_path), secrets, profile, "new-secret-1", tokens)
    assert secrets.get("p", SECRET_KEY) == "old-secret-1"
    assert secrets.get("p", REFRESH_TOKEN) == "old-refresh-1"
    assert secrets.get("p", "access_token") is None


# -- faults --------------------------------------------------------------------------------------


async def _tokens(emu: Emulator, redirect_uri: str) -> TokenSet:
    request, code = await consent(emu, redirect_uri)
    return await exchange(emu, request, code)


def _count(emu: Emulator, origin: str, path: str) -> int:
    return sum(1 for entry in emu.request_log if entry[0] == origin and entry[2] == path)


async def test_transient_failures_on_userinfo_and_discovery_are_retried(
    emu: Emulator, redirect_uri: str
) -> None:
    tokens = await _tokens(emu, redirect_uri)
    env = environment(emu)
    emu.inject_fault("auth", "/oauth/userinfo", status=503)
    emu.inject_fault("clm_auth", "/api/v2", status=500)
    emu.inject_fault("clm_auth", "/api/v2", status=429, retry_after=30)  # capped in tests
    async with make_client(timeout=5.0) as client:
        info = await fetch_userinfo(client, env, tokens.access_token)
        hosts = await discover_clm_hosts(client, env, emu.account_id, tokens.access_token)
    assert info.accounts[0].account_id == emu.account_id
    assert hosts.general == emu.clm_hosts["general"]
    assert _count(emu, "auth", "/oauth/userinfo") == 2
    assert _count(emu, "clm_auth", f"/api/v2/{emu.account_id}/account") == 3


async def test_latency_beyond_the_timeout_is_a_network_error(
    emu: Emulator, redirect_uri: str
) -> None:
    tokens = await _tokens(emu, redirect_uri)
    emu.inject_fault("auth", "/oauth/userinfo", latency=0.5, count=0)
    async with make_client(timeout=0.1) as client:
        with pytest.raises(NetworkError) as caught:
            await fetch_userinfo(client, environment(emu), tokens.access_token)
    assert caught.value.what.endswith("did not answer in time.")
    assert caught.value.exit_code == 5
    emu.clear_faults()


async def test_exchange_is_never_retried_after_it_was_sent(
    emu: Emulator, redirect_uri: str
) -> None:
    request, code = await consent(emu, redirect_uri)
    emu.inject_fault("auth", "/oauth/token", status=500)
    with pytest.raises(NetworkError) as server_error:
        await exchange(emu, request, code)
    assert "does not resend it" in server_error.value.fix
    assert _count(emu, "auth", "/oauth/token") == 1

    request, code = await consent(emu, redirect_uri)
    emu.inject_fault("auth", "/oauth/token", drop=True)
    with pytest.raises(NetworkError) as dropped:
        await exchange(emu, request, code)
    assert "broke before an answer arrived" in dropped.value.what
    assert "works only once" in dropped.value.fix
    assert _count(emu, "auth", "/oauth/token") == 2


async def test_malformed_and_unreachable(emu: Emulator, redirect_uri: str) -> None:
    tokens = await _tokens(emu, redirect_uri)
    emu.inject_fault("auth", "/oauth/userinfo", malformed=True)
    async with make_client(timeout=2.0) as client:
        with pytest.raises(NetworkError) as malformed:
            await fetch_userinfo(client, environment(emu), tokens.access_token)
        assert "not the expected JSON" in malformed.value.what
        from tests.docusign.helpers import free_port

        nowhere: Environment = resolve_environment("demo", f"http://127.0.0.1:{free_port()}")
        with pytest.raises(NetworkError) as unreachable:
            await fetch_userinfo(client, nowhere, tokens.access_token)
    assert unreachable.value.what.startswith("Could not reach 127.0.0.1:")
    assert unreachable.value.code == "unreachable"


async def test_http_client_identifies_itself(emu: Emulator) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers["user-agent"])

    async with make_client() as client:
        client.event_hooks["request"] = [record]
        await client.get(emu.auth_server + "/oauth/userinfo")
    from clmwizard import __version__

    assert seen == [f"clmwizard/{__version__}"]
