"""A hostile or broken Microsoft side (and the DocuSign answers `jwt` and the redirect check read),
over TLS on loopback: the emulator's Power Platform with hostile faults. Every answer is read
through clmwizard.http: 300 MB answers are refused without being held, a dripping answer ends
at the request's total deadline, and nested JSON, bad gzip, a captive portal's HTML, a redirect,
10 MB of text or an absurd `expires_in` end as plain ClmWizardErrors (sane values for the last),
never a traceback."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from clmwizard.context import demo_microsoft
from clmwizard.emulator import Emulator
from clmwizard.errors import EXIT_NETWORK, ClmWizardError
from clmwizard.http import make_client, ssl_context
from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.settings import MicrosoftSettings, make_settings
from clmwizard.powerplatform.setup import make_api
from clmwizard.powerplatform.signin import sign_in_service_principal
from clmwizard.store.secrets import MemorySecretStore

TIMEOUT = 0.5  # per read; the total deadline is then clmwizard.http.MIN_DEADLINE: 2 s
DEADLINE = 2.0
HUGE = 300 * 1024 * 1024
PORTAL = "<html><body><form action='/login'>Sign in to the hotel Wi-Fi PORTAL-MARKER</form>"
ATTACKS: dict[str, dict[str, Any]] = {
    "300 MB": {"huge": HUGE},
    "drip": {"drip": 0.3, "count": 0},
    "nested": {"nested": 100_000},
    "bad gzip": {"bad_gzip": True},
    "html": {"text": PORTAL * 3},
    "302": {"location": "https://portal.example/login"},
    "10 MB text": {"text": "PORTAL-MARKER " * 750_000, "content_type": "text/plain"},
}


def short_client(emu: Emulator) -> httpx.AsyncClient:
    return make_client(timeout=TIMEOUT, verify=ssl_context(emu.power_platform.ca_cert))


def settings_of(emu: Emulator) -> MicrosoftSettings:
    pp = emu.power_platform
    return make_settings(client_id=pp.client_id, base=demo_microsoft(emu, pp.ca_cert))


async def sign_in(emu: Emulator) -> Any:
    async with short_client(emu) as http:
        return await sign_in_service_principal(
            settings_of(emu), MemorySecretStore(), "acme", http, emu.power_platform.client_secret
        )


async def api_call(emu: Emulator, call: Callable[[PowerAppsApi], Awaitable[object]]) -> object:
    who = await sign_in(emu)
    async with short_client(emu) as http:
        api = make_api(http, who, settings_of(emu))
        api.attempts = 1
        return await call(api)


async def upload(api: PowerAppsApi, environment: str) -> object:
    sas = await api.generate_storage(environment)
    return await api.upload_icon(sas, "icon.png", b"\x89PNG icon")


async def jwt_token(emu: Emulator) -> object:
    from clmwizard.docusign.environments import resolve_environment
    from clmwizard.docusign.jwt import request_jwt_token

    emu.grant_jwt_consent(["signature"])
    async with make_client(timeout=TIMEOUT) as client:
        return await request_jwt_token(
            client,
            resolve_environment("demo", emu.auth_server, emu.clm_auth_server),
            emu.integration_key,
            emu.user_id,
            emu.jwt_private_key,
            ["signature"],
            redirect_uri="http://127.0.0.1:8765/callback",
        )


def tenant_path(emu: Emulator, rest: str) -> str:
    return f"/{emu.power_platform.tenant}/{rest}"


# (origin, path prefix, the call) of every bounded path that is not MSAL's or the redirect check
TARGETS: dict[str, tuple[str, Callable[[Emulator], str], Callable[[Emulator], Awaitable[object]]]]
TARGETS = {
    "connector list": (
        "powerapps",
        lambda emu: "/providers/Microsoft.PowerApps/apis",
        lambda emu: api_call(
            emu, lambda api: api.list_connectors(emu.power_platform.default_environment)
        ),
    ),
    "environment list": (
        "flow",
        lambda emu: "/providers/Microsoft.ProcessSimple/environments",
        lambda emu: api_call(emu, lambda api: api.list_environments()),
    ),
    "blob storage": (
        "blob",
        lambda emu: "/",
        lambda emu: api_call(emu, lambda api: upload(api, emu.power_platform.default_environment)),
    ),
    "Entra discovery": (
        "entra",
        lambda emu: tenant_path(emu, "v2.0/.well-known/openid-configuration"),
        sign_in,
    ),
    "Entra token": ("entra", lambda emu: tenant_path(emu, "oauth2/v2.0/token"), sign_in),
    "jwt": ("auth", lambda emu: "/oauth/token", jwt_token),
}
# The error code each attack ends in (every one exits 5, as network errors do).
OUTCOMES = {
    "300 MB": "too_large",
    "drip": "timeout",
    "nested": "malformed",
    "bad gzip": "bad_encoding",
    "html": "malformed",
    "302": "malformed",
    "10 MB text": "too_large",
}


def outcome(target: str, attack: str) -> str:
    if target == "jwt" and attack == "302":
        return "http_302"  # DocuSign's token endpoint: an HTTP error without an OAuth error
    return OUTCOMES[attack]


def target_service(target: str) -> str:
    if target.startswith("Entra"):
        return "The Microsoft sign-in"
    return "The icon storage" if target == "blob storage" else "The Power Apps API"


CASES = [
    pytest.param(target, attack, id=f"{target}-{attack}")
    for target in TARGETS
    for attack in ATTACKS
    # what a blob PUT answers (nothing) is never parsed: only its size and encoding matter
    if not (target == "blob storage" and attack in ("nested", "html", "10 MB text", "drip"))
]


@pytest.mark.parametrize(("target", "attack"), CASES)
async def test_a_hostile_answer_is_a_plain_error_within_bounds(
    microsoft: Emulator, target: str, attack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, path, call = TARGETS[target]
    microsoft.inject_fault(origin, path(microsoft), **{"count": 1, **ATTACKS[attack]})
    started = time.monotonic()
    tracemalloc.start()
    try:
        with pytest.raises(ClmWizardError) as caught:
            await call(microsoft)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    assert peak < 100 * 1024 * 1024, f"{peak / 1e6:.0f} MB"
    assert elapsed < DEADLINE + 2.5, f"{elapsed:.1f} s"  # one deadline, and the sign-in before
    error = caught.value
    assert "PORTAL-MARKER" not in error.render()
    assert (error.code, error.exit_code) == (outcome(target, attack), EXIT_NETWORK), error.render()
    if target != "jwt":  # DocuSign's messages name the host only, as they always did
        assert target_service(target) in error.what, error.what
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "PORTAL-MARKER" not in out + err


async def test_an_absurd_expires_in_from_entra_is_clamped(microsoft: Emulator) -> None:
    """expires_in 1e20 made MSAL fail with a traceback; a day at most is believed."""
    path = tenant_path(microsoft, "oauth2/v2.0/token")
    for absurd in (1e20, -5, "99999999999999999999", "soon"):
        microsoft.inject_fault(
            "entra", path, fields={"expires_in": absurd, "ext_expires_in": 1e300}
        )
        who = await sign_in(microsoft)
        assert who.expires_at <= datetime.now(UTC) + timedelta(days=1, minutes=1)


async def test_an_absurd_expires_in_from_jwt_is_clamped(microsoft: Emulator) -> None:
    microsoft.inject_fault("auth", "/oauth/token", fields={"expires_in": 1e20})
    token = await jwt_token(microsoft)
    assert 0 < token.expires_in <= 86400  # type: ignore[attr-defined]


REDIRECT_ATTACKS = ("300 MB", "drip", "bad gzip")
PUBLISH_ATTACKS = ("html", "302", "10 MB text", "nested", "bad gzip", "300 MB")


@pytest.mark.parametrize("attack", REDIRECT_ATTACKS)
async def test_the_redirect_check_reads_a_bounded_page(microsoft: Emulator, attack: str) -> None:
    """A 300 MB page took 955 MB; now any page beyond 2 MB is "could not tell"."""
    from clmwizard.powerplatform.redirect import check_redirect_url
    from clmwizard.store.profile import Profile

    profile = Profile(
        name="acme",
        environment="custom",
        auth_server=microsoft.auth_server,
        clm_auth_server=microsoft.clm_auth_server,
        integration_key=microsoft.integration_key,
        scopes=["signature"],
        redirect_uri="http://127.0.0.1:8765/callback",
    )
    microsoft.inject_fault("auth", "/oauth/auth", **{"count": 1, **ATTACKS[attack]})
    started = time.monotonic()
    tracemalloc.start()
    try:
        async with make_client(timeout=TIMEOUT) as client:
            check = await check_redirect_url(
                client, profile, "https://global.consent.azure-apim.net/redirect"
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.verdict == "unknown"
    assert peak < 100 * 1024 * 1024 and time.monotonic() - started < DEADLINE + 1.5


@pytest.mark.parametrize("attack", PUBLISH_ATTACKS)
def test_publish_ends_with_a_plain_network_error_and_no_traceback(
    microsoft: Emulator,
    attack: str,
    signed_in: Callable[..., None],
    publish_argv: Callable[..., list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: MSAL's logger printed a traceback with the whole body through Python's
    last-resort handler, and the run ended as "Unexpected error … this is a bug"."""
    from clmwizard.cli import main

    signed_in()
    pp = microsoft.power_platform
    monkeypatch.setenv("CLMWIZARD_MS_CLIENT_SECRET", pp.client_secret)
    path = tenant_path(microsoft, "oauth2/v2.0/token")
    microsoft.inject_fault("entra", path, **{"count": 1, **ATTACKS[attack]})
    argv = publish_argv("--service-principal", "--client-id", pp.client_id, "--dry-run")
    code = main(
        argv, client_factory=lambda **options: make_client(**{**options, "timeout": TIMEOUT})
    )
    out, err = capsys.readouterr()
    assert code == EXIT_NETWORK, out + err
    assert "Traceback" not in err and "PORTAL-MARKER" not in out + err
    assert "Microsoft sign-in" in err and "Unexpected error" not in err
