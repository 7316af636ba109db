"""Injected faults, the HTTP test controls and the request log."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.flows import bearer, exchange, get_code, tokens


@pytest.fixture
def token(emu: Emulator, client: httpx.Client) -> str:
    return str(tokens(emu, client)["access_token"])


def groups_url(emu: Emulator) -> str:
    return f"{emu.clm_hosts['general']}/v2/{emu.account_id}/attributegroups"


def test_status_fault_for_the_next_n_requests_with_clm_rate_limit_headers(
    emu: Emulator, client: httpx.Client, token: str
) -> None:
    from email.utils import parsedate_to_datetime

    emu.inject_fault("general", "/v2/", status=429, count=2, retry_after=7)
    for _ in range(2):
        response = client.get(groups_url(emu), headers=bearer(token))
        assert response.status_code == 429
        assert "retry-after" not in response.headers  # CLM sends X-RateLimit-* instead
        assert response.headers["x-ratelimit-limit"] == "6250"
        reset = parsedate_to_datetime(response.headers["x-ratelimit-reset"]).timestamp()
        assert 5 <= reset - time.time() <= 8
        error = response.json()["Error"]
        assert error["HttpStatusCode"] == 429
        assert error["ErrorCode"] == 103
    assert client.get(groups_url(emu), headers=bearer(token)).status_code == 200


def test_fault_on_the_auth_origin_uses_the_oauth_error_shape(
    emu: Emulator, client: httpx.Client
) -> None:
    code = get_code(emu, client)
    emu.inject_fault("auth", "/oauth/token", status=503)
    failed = exchange(emu, client, {"grant_type": "authorization_code", "code": code})
    assert failed.status_code == 503
    assert failed.json()["error"] == "temporarily_unavailable"
    assert "retry-after" not in failed.headers
    # The faulted request never reached the server: the code still works.
    ok = exchange(emu, client, {"grant_type": "authorization_code", "code": code})
    assert ok.status_code == 200


def test_fault_matches_origin_and_prefix_only(
    emu: Emulator, client: httpx.Client, token: str
) -> None:
    emu.inject_fault("general", f"/v2/{emu.account_id}/folders", status=500)
    emu.inject_fault("upload", "/", status=502)
    assert client.get(groups_url(emu), headers=bearer(token)).status_code == 200
    url = f"{emu.clm_auth_server}/api/v2/{emu.account_id}/account"
    assert client.get(url, headers=bearer(token)).status_code == 200
    folder = client.get(
        f"{emu.clm_hosts['general']}/v2/{emu.account_id}/folders",
        params={"path": "/"},
        headers=bearer(token),
    )
    assert folder.status_code == 500
    assert folder.json()["Error"]["HttpStatusCode"] == 500


def test_count_zero_lasts_until_cleared(emu: Emulator, client: httpx.Client, token: str) -> None:
    emu.inject_fault("general", "/", status=500, count=0)
    for _ in range(4):
        assert client.get(groups_url(emu), headers=bearer(token)).status_code == 500
    emu.clear_faults()
    assert client.get(groups_url(emu), headers=bearer(token)).status_code == 200


def test_dropped_connection(emu: Emulator, client: httpx.Client, token: str) -> None:
    emu.inject_fault("general", "/", drop=True)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get(groups_url(emu), headers=bearer(token))
    assert client.get(groups_url(emu), headers=bearer(token)).status_code == 200


def test_malformed_body(emu: Emulator, client: httpx.Client, token: str) -> None:
    emu.inject_fault("general", "/", malformed=True)
    response = client.get(groups_url(emu), headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_latency_only_delays_the_real_answer(
    emu: Emulator, client: httpx.Client, token: str
) -> None:
    emu.inject_fault("general", "/", latency=0.3)
    started = time.monotonic()
    response = client.get(groups_url(emu), headers=bearer(token))
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["Total"] == 2
    with pytest.raises(httpx.ReadTimeout):
        emu.inject_fault("general", "/", latency=0.5)
        client.get(groups_url(emu), headers=bearer(token), timeout=0.1)


def test_bad_fault_arguments(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="origin must be one of"):
        emu.inject_fault("esign", "/")
    with pytest.raises(ValueError, match="status"):
        emu.inject_fault("auth", "/", status=42)


def test_http_controls(emu: Emulator, client: httpx.Client) -> None:
    controls = f"{emu.auth_server}/_emulator"
    assert client.get(f"{controls}/info").json() == emu.info()
    before = emu.now()
    moved = client.post(f"{controls}/clock", json={"advance": 3600})
    assert moved.status_code == 200
    assert moved.json()["now"] >= before + 3600
    fault = {"origin": "clm_auth", "path_prefix": "/api", "status": 500, "count": 0}
    assert client.post(f"{controls}/faults", json=fault).status_code == 200
    account = f"{emu.clm_auth_server}/api/v2/{emu.account_id}/account"
    assert client.get(account).status_code == 500
    assert client.delete(f"{controls}/faults").status_code == 200
    assert client.get(account).status_code == 401
    assert (
        client.post(f"{controls}/faults", json={"origin": "x", "path_prefix": "/"}).status_code
        == 400
    )
    assert client.post(f"{controls}/faults", json={"colour": "red"}).status_code == 400
    uri = "http://127.0.0.1:5555/cb"
    added = client.post(f"{controls}/redirect-uris", json={"uri": uri})
    assert added.json()["redirect_uris"] == ["http://127.0.0.1:8765/callback", uri]
    assert client.get(f"{controls}/nothing").status_code == 404
    assert client.post(f"{controls}/clock", content=b"[1]").status_code == 400


def test_http_revocation_controls(emu: Emulator, client: httpx.Client) -> None:
    controls = f"{emu.auth_server}/_emulator"
    grant = tokens(emu, client)
    assert client.post(f"{controls}/revoke-consent").status_code == 200
    refresh = {"grant_type": "refresh_token", "refresh_token": str(grant["refresh_token"])}
    assert exchange(emu, client, refresh).json()["error"] == "invalid_grant"
    assert (
        client.post(f"{controls}/revoke-secret", json={"which": "spare_secret_key"}).status_code
        == 200
    )
    code = get_code(emu, client)
    response = exchange(
        emu,
        client,
        {"grant_type": "authorization_code", "code": code},
        secret=emu.spare_secret_key,
    )
    assert response.json() == {"error": "invalid_grant", "error_description": "unauthorized_client"}
    assert client.post(f"{controls}/revoke-secret", json={"which": "other"}).status_code == 400
    assert client.post(f"{controls}/clear", json={}).status_code == 404


def test_http_app_settings_control(emu: Emulator, client: httpx.Client) -> None:
    controls = f"{emu.auth_server}/_emulator"
    changed = client.post(f"{controls}/app", json={"wrong_secret_error": "invalid_client"})
    assert changed.status_code == 200
    assert changed.json() == {
        "wrong_secret_error": "invalid_client",
        "wrong_secret_description": "unauthorized_client",
        "require_pkce": False,
        "allow_plain_pkce": False,
        "public_client": False,
        # how DocuSign's error page reads and answers (both unconfirmed, so switchable)
        "unknown_client_message": (
            "Invalid authentication request: The client id is not registered with DocuSign."
        ),
        "error_page_status": 400,
    }
    code = get_code(emu, client)
    response = exchange(
        emu, client, {"grant_type": "authorization_code", "code": code}, secret="1" * 36
    )
    assert response.json()["error"] == "invalid_client"
    assert client.post(f"{controls}/app", json={"wrong_secret_error": "x"}).status_code == 400
    assert client.post(f"{controls}/app", json={"require_pkce": "yes"}).status_code == 400
    assert client.post(f"{controls}/app", json={"nonsense": True}).status_code == 400


def test_request_log_has_no_queries_and_no_controls(emu: Emulator, client: httpx.Client) -> None:
    code = get_code(emu, client)
    client.get(f"{emu.auth_server}/_emulator/info")
    exchange(emu, client, {"grant_type": "authorization_code", "code": code})
    log = emu.request_log
    assert log == [
        ("auth", "GET", "/oauth/auth"),
        ("auth", "POST", "/oauth/consent"),
        ("auth", "POST", "/oauth/token"),
    ]
    assert code not in repr(log)
    listed = client.get(f"{emu.auth_server}/_emulator/requests").json()
    assert listed == [list(entry) for entry in log]


def test_issued_secrets_cover_everything_handed_out(emu: Emulator, client: httpx.Client) -> None:
    code = get_code(emu, client)
    grant = exchange(emu, client, {"grant_type": "authorization_code", "code": code}).json()
    refreshed = exchange(
        emu, client, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    ).json()
    issued = emu.issued_secrets()
    expected = {
        emu.secret_key,
        emu.spare_secret_key,
        code,
        grant["access_token"],
        grant["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        emu.power_platform.client_secret,  # the Power Platform side's service principal
    }
    assert issued == expected


def test_non_loopback_host_is_refused() -> None:
    from clmwizard.errors import UsageError

    with pytest.raises(UsageError, match="only listens on this computer"):
        Emulator(host="0.0.0.0")


def test_ipv6_loopback(client: httpx.Client) -> None:
    with Emulator(host="::1") as emu:
        assert emu.auth_server.startswith("http://[::1]:")
        response = client.get(f"{emu.auth_server}/oauth/userinfo")
        assert response.status_code == 401


def test_stop_closes_keep_alive_connections(client: httpx.Client) -> None:
    emu = Emulator().start()
    url = f"{emu.auth_server}/oauth/userinfo"
    assert client.get(url).status_code == 401  # leaves a pooled keep-alive connection
    emu.stop()
    with pytest.raises(httpx.TransportError):
        client.get(url)
