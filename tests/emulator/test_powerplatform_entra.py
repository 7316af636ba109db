"""The emulator's Entra ID, driven by MSAL itself (Microsoft's library) over TLS."""

from __future__ import annotations

import hashlib
import re
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msal
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.platform_helpers import (
    FLOW,
    POWER_APPS,
    V,
    claims,
    device_code_sign_in,
    httpx_client,
    msal_http_client,
    public_app,
)


@pytest.fixture
def entra_emu() -> Iterator[Emulator]:
    """The emulator with device codes polled every second (its default interval is longer)."""
    with Emulator() as emulator:
        emulator.power_platform.set_policies(device_code_interval=1)
        yield emulator


def confidential_app(
    entra_emu: Emulator, tmp_path: Path, secret: str | None = None
) -> msal.ConfidentialClientApplication:
    pp = entra_emu.power_platform
    return msal.ConfidentialClientApplication(
        pp.client_id,
        client_credential=secret or pp.client_secret,
        authority=pp.authority,
        instance_discovery=False,
        http_client=msal_http_client(entra_emu, tmp_path),
    )


def device_flow(app: msal.PublicClientApplication) -> dict[str, Any]:
    flow: dict[str, Any] = app.initiate_device_flow(scopes=[POWER_APPS])
    assert "user_code" in flow, flow
    return flow


def test_discovery_is_what_msal_reads(entra_emu: Emulator, tmp_path: Path) -> None:
    pp = entra_emu.power_platform
    with httpx_client(entra_emu) as client:
        document = client.get(f"{pp.authority}/v2.0/.well-known/openid-configuration").json()
    assert document["issuer"] == f"{pp.authority}/v2.0"
    assert document["device_authorization_endpoint"] == f"{pp.authority}/oauth2/v2.0/devicecode"
    public_app(entra_emu, tmp_path)  # MSAL fetches and accepts it
    assert ("entra", "GET", f"/{pp.tenant}/v2.0/.well-known/openid-configuration") in (
        entra_emu.request_log
    )


def test_device_code_approved_after_pending(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = device_flow(app)
    assert flow["verification_uri"] in flow["message"] and flow["user_code"] in flow["message"]
    assert flow["expires_in"] == 900 and flow["interval"] == 1
    timer = threading.Timer(1.5, entra_emu.power_platform.approve_device_code, [flow["user_code"]])
    timer.start()
    result = app.acquire_token_by_device_flow(flow)
    timer.join()
    assert "access_token" in result, result
    token = claims(result["access_token"])
    pp = entra_emu.power_platform
    assert token["aud"] == "https://service.powerapps.com/"
    assert token["oid"] == pp.user_oid and token["tid"] == pp.tenant
    assert result["id_token_claims"]["preferred_username"] == pp.user_principal_name
    assert result["id_token_claims"]["oid"] == pp.user_oid
    polls = [e for e in entra_emu.request_log if e[0] == "entra" and e[2].endswith("/token")]
    assert len(polls) >= 2  # at least one authorization_pending before the approval
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [pp.user_principal_name]


def test_silent_refresh_uses_the_refresh_token(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = device_flow(app)
    entra_emu.power_platform.approve_device_code()
    first = app.acquire_token_by_device_flow(flow)
    assert "access_token" in first, first
    again = app.acquire_token_silent(
        [POWER_APPS], account=app.get_accounts()[0], force_refresh=True
    )
    assert again is not None and "access_token" in again, again
    assert again["access_token"] != first["access_token"]
    assert claims(again["access_token"])["oid"] == entra_emu.power_platform.user_oid


def test_device_code_declined(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = device_flow(app)
    entra_emu.power_platform.decline_device_code(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_declined"


def test_device_code_expired(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = device_flow(app)
    entra_emu.advance_clock(901)
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "expired_token"
    assert result["error_codes"] == [70019]  # Entra's documented code


def test_a_device_code_entra_does_not_know_is_bad_verification_code(
    emu: Emulator, tmp_path: Path
) -> None:
    app = public_app(emu, tmp_path)
    flow = device_flow(app)
    emu.power_platform.forget_device_code(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "bad_verification_code"


def test_polling_too_fast_is_told_to_slow_down(entra_emu: Emulator) -> None:
    pp = entra_emu.power_platform
    pp.set_policies(device_code_interval=5)
    with httpx_client(entra_emu) as client:
        start = client.post(
            f"{pp.authority}/oauth2/v2.0/devicecode",
            data={"client_id": pp.public_client_id, "scope": POWER_APPS},
        ).json()
        poll = {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": pp.public_client_id,
            "device_code": start["device_code"],
        }
        first = client.post(f"{pp.authority}/oauth2/v2.0/token", data=poll)
        second = client.post(f"{pp.authority}/oauth2/v2.0/token", data=poll)
    assert first.json()["error"] == "authorization_pending"
    assert second.json()["error"] == "slow_down"
    body = second.json()
    for key in ("error_description", "error_codes", "timestamp", "trace_id", "correlation_id"):
        assert key in body
    assert body["error_description"].startswith("AADSTS70016:")


def test_admin_consent_required(entra_emu: Emulator, tmp_path: Path) -> None:
    entra_emu.power_platform.set_policies(admin_consent_required=True)
    app = public_app(entra_emu, tmp_path)
    flow = device_flow(app)
    entra_emu.power_platform.approve_device_code()
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [65001]
    assert result["suberror"] == "consent_required"


def test_client_credentials(entra_emu: Emulator, tmp_path: Path) -> None:
    result = confidential_app(entra_emu, tmp_path).acquire_token_for_client([POWER_APPS])
    assert "access_token" in result, result
    token = claims(result["access_token"])
    assert token["oid"] == entra_emu.power_platform.service_principal_oid
    assert token["aud"] == "https://service.powerapps.com/" and token["idtyp"] == "app"


def test_client_credentials_with_a_wrong_secret(entra_emu: Emulator, tmp_path: Path) -> None:
    result = confidential_app(entra_emu, tmp_path, "not-the-secret").acquire_token_for_client(
        [POWER_APPS]
    )
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret")


def test_conditional_access_blocks(entra_emu: Emulator, tmp_path: Path) -> None:
    entra_emu.power_platform.set_policies(conditional_access_blocked=True)
    result = confidential_app(entra_emu, tmp_path).acquire_token_for_client([POWER_APPS])
    assert result["error_codes"] == [53003]


def test_unknown_tenant_fails_discovery(entra_emu: Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unable to get authority configuration") as failure:
        msal.PublicClientApplication(
            entra_emu.power_platform.public_client_id,
            authority=f"{entra_emu.power_platform.authority_host}/not-a-tenant",
            instance_discovery=False,
            http_client=msal_http_client(entra_emu, tmp_path),
        )
    assert "AADSTS90002" in str(failure.value.__context__)


def test_interactive_sign_in_with_pkce(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = app.initiate_auth_code_flow([POWER_APPS], redirect_uri="http://localhost:53117")
    assert flow["code_verifier"]
    with httpx_client(entra_emu) as client:
        response = client.get(flow["auth_uri"])
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("http://localhost:53117?")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert "access_token" in result, result
    # MSAL sends the SHA-256 of its nonce; the id token carries what was sent.
    assert result["id_token_claims"]["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()
    assert claims(result["access_token"])["oid"] == entra_emu.power_platform.user_oid


def test_a_wrong_pkce_verifier_is_refused(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = app.initiate_auth_code_flow([POWER_APPS], redirect_uri="http://localhost:53118")
    with httpx_client(entra_emu) as client:
        location = client.get(flow["auth_uri"]).headers["location"]
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    flow["code_verifier"] = "x" * 43
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [501481]


def test_a_client_without_the_ca_is_refused(entra_emu: Emulator) -> None:
    context = ssl.create_default_context()
    context.load_default_certs()
    with (
        httpx.Client(verify=context, trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(f"{entra_emu.power_platform.authority}/v2.0/.well-known/openid-configuration")


def test_a_start_makes_a_new_ca() -> None:
    with Emulator() as first, Emulator() as second:
        assert first.power_platform.ca_cert != second.power_platform.ca_cert
        assert first.info()["power_platform"]["ca_cert"].startswith("-----BEGIN CERTIFICATE")
    started = time.perf_counter()
    with Emulator(power_platform=False) as plain:
        assert "power_platform" not in plain.info()
    assert time.perf_counter() - started < 5


def test_the_verification_page_approves_the_code(entra_emu: Emulator, tmp_path: Path) -> None:
    app = public_app(entra_emu, tmp_path)
    flow = device_flow(app)
    with httpx_client(entra_emu) as browser:
        page = browser.get(flow["verification_uri"])
        wrong = browser.post(
            flow["verification_uri"], data={"user_code": "NOPE", "decision": "approve"}
        )
        done = browser.post(
            flow["verification_uri"],
            data={"user_code": flow["user_code"].lower(), "decision": "approve"},
        )
    assert page.status_code == 200 and 'name="user_code"' in page.text
    assert "not valid" in wrong.text and "You have signed in" in done.text
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result


def test_auto_approve_for_the_demo(entra_emu: Emulator, tmp_path: Path) -> None:
    entra_emu.power_platform.set_policies(auto_approve_device_codes=True)
    app = public_app(entra_emu, tmp_path)
    result = app.acquire_token_by_device_flow(device_flow(app))
    assert "access_token" in result, result


def test_interactive_sign_in_with_form_post(entra_emu: Emulator, tmp_path: Path) -> None:
    """MSAL's acquire_token_interactive asks for response_mode=form_post."""
    app = public_app(entra_emu, tmp_path)
    flow = app.initiate_auth_code_flow(
        [POWER_APPS], redirect_uri="http://localhost:53119", response_mode="form_post"
    )
    with httpx_client(entra_emu) as client:
        page = client.get(flow["auth_uri"])
    assert page.status_code == 200
    assert '<form method="post" action="http://localhost:53119">' in page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    result = app.acquire_token_by_auth_code_flow(flow, fields)
    assert "access_token" in result, result


def test_a_flow_token_comes_silently_from_the_power_apps_sign_in(
    entra_emu: Emulator, tmp_path: Path
) -> None:
    """One Microsoft sign-in serves both APIs: MSAL's device code for the Power Apps scope, then a
    silent token for the Flow API from the same account (the refresh token, another resource)."""
    pp = entra_emu.power_platform
    pp.set_policies(device_code_interval=0)
    app, first = device_code_sign_in(entra_emu, tmp_path)
    silent = app.acquire_token_silent([FLOW], account=app.get_accounts()[0])
    assert silent is not None and "access_token" in silent, silent
    token = claims(silent["access_token"])
    assert token["aud"] == "https://service.flow.microsoft.com/"
    assert token["oid"] == pp.user_oid
    flows = f"{pp.flow_url}/providers/Microsoft.ProcessSimple/environments/"
    flows += f"{pp.default_environment}/flows"
    with httpx_client(entra_emu) as client:
        ok = client.get(
            flows,
            params=V,
            headers={"Authorization": f"Bearer {silent['access_token']}"},
        )
        refused = client.get(
            flows,
            params=V,
            headers={"Authorization": f"Bearer {first['access_token']}"},
        )
    assert ok.status_code == 200 and ok.json() == {"value": []}
    assert refused.status_code == 401
