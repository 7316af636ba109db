"""Connections: create, reuse, find one made in the portal, the consent link (and its refusal),
waiting for Connected, and each way a sign-in fails in its own plain words."""

from __future__ import annotations

from typing import Any

import pytest

from clmwizard.errors import ClmWizardError, GrantDeadError, UsageError
from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.connect import (
    ConnectTarget,
    ensure_connection,
    remember_connection,
    targets,
    wait_connected,
)
from clmwizard.powerplatform.connections import consent_link, get_connection
from tests.powerplatform.fake_flows import (
    CONNECTOR,
    ENV,
    FLOW,
    POWER_APPS,
    REDIRECT,
    TOKEN,
    FakePlatform,
    record,
)
from tests.support.connector_profiles import make_profile


def api(fake: FakePlatform) -> PowerAppsApi:
    return PowerAppsApi(fake.client(), TOKEN, "oid", power_apps_url=POWER_APPS, flow_url=FLOW)


def target(**connector: Any) -> ConnectTarget:
    r = record(**connector)
    return ConnectTarget(r, r.connectors[0])


def test_targets_need_something_published() -> None:
    with pytest.raises(UsageError) as caught:
        targets(make_profile(), None)
    assert caught.value.code == "nothing_published" and "clmwizard publish" in caught.value.fix
    profile = make_profile(publications=[record("three")])
    assert [t.connector.key for t in targets(profile, None)] == ["general", "upload", "download"]
    with pytest.raises(UsageError):
        targets(profile, "env-other")


async def test_a_new_connection_is_created_then_reused() -> None:
    fake = FakePlatform()
    profile = make_profile(publications=[record()])
    connection, how = await ensure_connection(api(fake), profile, targets(profile, ENV)[0])
    assert how == "created" and not connection.connected and connection.signed_in_never
    assert len(fake.connections) == 1
    remember_connection(ENV, CONNECTOR, connection.name)(profile)
    again, how = await ensure_connection(api(fake), profile, targets(profile, ENV)[0])
    assert how == "reused" and again.name == connection.name and len(fake.connections) == 1


async def test_a_connection_made_in_the_portal_is_found_connected_first() -> None:
    fake = FakePlatform()
    fake.add_connection("Error")
    by_hand = fake.add_connection("Connected")
    profile = make_profile(publications=[record()])
    connection, how = await ensure_connection(api(fake), profile, targets(profile, ENV)[0])
    assert how == "found" and connection.name == by_hand and connection.connected
    assert len(fake.connections) == 2  # nothing created


async def test_a_forgotten_connection_is_replaced_by_what_exists_or_a_new_one() -> None:
    fake = FakePlatform()
    profile = make_profile(publications=[record(connection_name="gone0000")])
    _, how = await ensure_connection(api(fake), profile, targets(profile, ENV)[0])
    assert how == "created"


async def test_the_consent_link_is_read_and_its_refusal_names_the_portal_path() -> None:
    fake = FakePlatform()
    name = fake.add_connection()
    link = await consent_link(
        api(fake), ENV, CONNECTOR, name, "http://127.0.0.1:9/x", display_name="CLM", profile="p"
    )
    assert link.startswith("https://consent.test/login")
    fake.consent_refused = True
    with pytest.raises(ClmWizardError) as caught:
        await consent_link(
            api(fake), ENV, CONNECTOR, name, "http://127.0.0.1:9/x", display_name="CLM", profile="p"
        )
    error = caught.value
    assert error.code == "consent_link_refused"
    assert "New connection" in error.fix and "clmwizard connect --profile p" in error.fix
    assert "NotSupported" in error.cause


async def test_waiting_ends_when_connected_and_ticks_the_clock() -> None:
    fake = FakePlatform(polls_until_connected=3)
    name = fake.add_connection()
    initial = await get_connection(api(fake), ENV, CONNECTOR, name)
    assert initial is not None
    ticks: list[float] = []
    done = await wait_connected(
        api(fake), target(), initial, "p", timeout=10, tick=ticks.append, poll=0.01
    )
    assert done.connected and ticks and ticks == sorted(ticks)


@pytest.mark.parametrize(
    ("code", "message", "expected", "kind"),
    [
        ("access_denied", "The user declined", "consent_declined", ClmWizardError),
        ("invalid_client", "Client secret mismatch", "connector_secret_rejected", ClmWizardError),
        ("invalid_grant", "refresh token revoked", "connection_grant_dead", GrantDeadError),
        ("redirect_uri_mismatch", "bad redirect", "redirect_not_registered", ClmWizardError),
        ("SomethingElse", "odd", "connection_error", ClmWizardError),
    ],
)
async def test_each_failure_has_its_own_words(
    code: str, message: str, expected: str, kind: type[ClmWizardError]
) -> None:
    fake = FakePlatform(error_after_polls=(2, code, message))
    name = fake.add_connection()
    initial = await get_connection(api(fake), ENV, CONNECTOR, name)
    assert initial is not None
    with pytest.raises(kind) as caught:
        await wait_connected(api(fake), target(), initial, "p", timeout=10, poll=0.01)
    error = caught.value
    assert error.code == expected and message in error.cause
    assert "clmwizard" in error.fix
    if expected == "redirect_not_registered":
        assert REDIRECT in error.fix


async def test_an_error_the_connection_already_had_is_not_this_sign_ins_answer() -> None:
    fake = FakePlatform()
    name = fake.add_connection("Error", "invalid_grant", "expired unused")
    initial = await get_connection(api(fake), ENV, CONNECTOR, name)
    assert initial is not None
    with pytest.raises(ClmWizardError) as caught:
        await wait_connected(api(fake), target(), initial, "p", timeout=0.3, poll=0.01)
    assert caught.value.code == "connect_timeout"  # waited, did not misread the old error
    assert REDIRECT in caught.value.cause and "again" in caught.value.fix


async def test_the_browser_coming_back_with_an_error_ends_the_wait_at_once() -> None:
    fake = FakePlatform()
    name = fake.add_connection()
    initial = await get_connection(api(fake), ENV, CONNECTOR, name)
    assert initial is not None
    with pytest.raises(ClmWizardError) as caught:
        await wait_connected(
            api(fake),
            target(),
            initial,
            "p",
            timeout=10,
            poll=0.01,
            returned=lambda: {"error": "access_denied", "error_description": "declined"},
        )
    assert caught.value.code == "consent_declined"


async def test_a_connection_deleted_while_waiting_says_so() -> None:
    fake = FakePlatform()
    name = fake.add_connection()
    initial = await get_connection(api(fake), ENV, CONNECTOR, name)
    assert initial is not None
    del fake.connections[name]
    with pytest.raises(ClmWizardError) as caught:
        await wait_connected(api(fake), target(), initial, "p", timeout=10, poll=0.01)
    assert caught.value.code == "connection_deleted"


async def test_a_refused_token_is_renewed_once_then_reported() -> None:
    fake = FakePlatform()
    renewals: list[int] = []

    async def renew() -> str | None:
        renewals.append(1)
        return TOKEN

    stale = PowerAppsApi(fake.client(), "stale", "oid", power_apps_url=POWER_APPS, flow_url=FLOW)
    stale.renew_token = renew
    name = fake.add_connection("Connected")
    found = await get_connection(stale, ENV, CONNECTOR, name)
    assert found is not None and found.connected and renewals == [1]
    await get_connection(stale, ENV, CONNECTOR, name)  # the fresh token is kept
    assert renewals == [1]

    async def nothing() -> str | None:
        return None

    dead = PowerAppsApi(fake.client(), "stale", "oid", power_apps_url=POWER_APPS, flow_url=FLOW)
    dead.renew_token = nothing
    with pytest.raises(ClmWizardError) as caught:
        await get_connection(dead, ENV, CONNECTOR, name)
    assert caught.value.code == "http_401"


@pytest.mark.parametrize(("code", "connected"), [("good-code", True), ("bad-code", False)])
async def test_a_code_the_browser_brings_back_is_confirmed(code: str, connected: bool) -> None:
    fake = FakePlatform()
    name = fake.add_connection()
    initial = await get_connection(api(fake), ENV, CONNECTOR, name)
    assert initial is not None

    async def wait() -> object:
        return await wait_connected(
            api(fake), target(), initial, "p", timeout=5, poll=0.01, returned=lambda: {"code": code}
        )

    if connected:
        assert (await wait()).connected  # type: ignore[attr-defined]
    else:
        with pytest.raises(GrantDeadError) as caught:
            await wait()
        assert "invalid_grant" in caught.value.cause
    confirms = [r for r in fake.requests if r.url.path.endswith("/confirmConsentCode")]
    assert len(confirms) == 1  # a code works once: never sent twice
