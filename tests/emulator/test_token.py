"""POST /oauth/token: code exchange, refresh, client authentication and lifetimes."""

from __future__ import annotations

import base64
import hashlib
import secrets

import httpx
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.flows import ALL_CLM, auth_params, bearer, exchange, get_code, tokens

THIRTY_DAYS = 30 * 86400


def code_grant(code: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, **extra}


def refresh_grant(token: object) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": str(token)}


def userinfo(emu: Emulator, client: httpx.Client, token: object) -> httpx.Response:
    return client.get(f"{emu.auth_server}/oauth/userinfo", headers=bearer(token))


def assert_error(response: httpx.Response, error: str, description: str | None = None) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    if description is not None:
        assert body["error_description"] == description


def test_code_exchange_answers_exactly_the_documented_fields(
    emu: Emulator, client: httpx.Client
) -> None:
    response = exchange(emu, client, code_grant(get_code(emu, client)))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 28800
    assert len(body["access_token"]) > 300
    assert body["access_token"] != body["refresh_token"]
    assert {body["access_token"], body["refresh_token"]} <= emu.issued_secrets()


def test_code_works_once(emu: Emulator, client: httpx.Client) -> None:
    code = get_code(emu, client)
    assert exchange(emu, client, code_grant(code)).status_code == 200
    assert_error(exchange(emu, client, code_grant(code)), "invalid_grant")


def test_code_expires_after_two_minutes(emu: Emulator, client: httpx.Client) -> None:
    fresh = get_code(emu, client)
    emu.advance_clock(119)
    assert exchange(emu, client, code_grant(fresh)).status_code == 200
    stale = get_code(emu, client)
    emu.advance_clock(121)
    assert_error(exchange(emu, client, code_grant(stale)), "invalid_grant")


def test_unknown_or_missing_code(emu: Emulator, client: httpx.Client) -> None:
    assert_error(exchange(emu, client, code_grant("not-a-code")), "invalid_grant")
    response = exchange(emu, client, {"grant_type": "authorization_code"})
    assert_error(response, "invalid_request")


def test_redirect_uri_is_optional_but_must_match_when_sent(
    emu: Emulator, client: httpx.Client
) -> None:
    good = code_grant(get_code(emu, client), redirect_uri="http://127.0.0.1:8765/callback")
    assert exchange(emu, client, good).status_code == 200
    bad = code_grant(get_code(emu, client), redirect_uri="http://127.0.0.1:8765/other")
    assert_error(exchange(emu, client, bad), "invalid_grant")


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_pkce_s256(emu: Emulator, client: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    pkce = {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    right = get_code(emu, client, **pkce)
    response = exchange(emu, client, code_grant(right, code_verifier=verifier))
    assert response.status_code == 200
    wrong = get_code(emu, client, **pkce)
    response = exchange(emu, client, code_grant(wrong, code_verifier=verifier + "x"))
    assert_error(response, "invalid_grant")
    missing = get_code(emu, client, **pkce)
    assert_error(exchange(emu, client, code_grant(missing)), "invalid_grant")


def test_pkce_plain_is_refused_unless_allowed(emu: Emulator, client: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    for extra in ({"code_challenge_method": "plain"}, {}):  # no method: RFC 7636's plain
        response = client.get(
            f"{emu.auth_server}/oauth/auth",
            params=auth_params(emu, ALL_CLM, code_challenge=verifier, **extra),
        )
        assert response.status_code == 400
        assert "The code challenge method is not supported (use S256)" in response.text
    emu.configure_app(allow_plain_pkce=True)
    plain = get_code(emu, client, code_challenge=verifier, code_challenge_method="plain")
    assert exchange(emu, client, code_grant(plain, code_verifier=verifier)).status_code == 200
    default = get_code(emu, client, code_challenge=verifier)
    response = exchange(emu, client, code_grant(default, code_verifier=verifier))
    assert response.status_code == 200
    s256_sent_as_plain = get_code(emu, client, code_challenge=_challenge(verifier))
    response = exchange(emu, client, code_grant(s256_sent_as_plain, code_verifier=verifier))
    assert_error(response, "invalid_grant")


def test_an_app_that_requires_pkce_refuses_a_code_request_without_a_challenge(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.configure_app(require_pkce=True)
    response = client.get(f"{emu.auth_server}/oauth/auth", params=auth_params(emu, ALL_CLM))
    assert response.status_code == 400 and "location" not in response.headers
    assert "This application requires PKCE" in response.text
    verifier = secrets.token_urlsafe(48)
    pkce = {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    code = get_code(emu, client, **pkce)
    assert exchange(emu, client, code_grant(code, code_verifier=verifier)).status_code == 200


def test_client_credentials_in_the_form_body(emu: Emulator, client: httpx.Client) -> None:
    url = f"{emu.auth_server}/oauth/token"
    body = {"client_id": emu.integration_key, "client_secret": emu.secret_key}
    response = client.post(url, data={**code_grant(get_code(emu, client)), **body})
    assert response.status_code == 200, response.text
    wrong = {**body, "client_secret": "1" * 36}
    response = client.post(url, data={**code_grant(get_code(emu, client)), **wrong})
    assert_error(response, "invalid_grant", "unauthorized_client")
    both = client.post(
        url,
        data={**code_grant(get_code(emu, client)), **body},
        auth=(emu.integration_key, emu.secret_key),
    )
    assert_error(both, "invalid_request")
    no_secret = {"client_id": emu.integration_key}
    response = client.post(url, data={**code_grant(get_code(emu, client)), **no_secret})
    assert_error(response, "invalid_grant", "invalid_authorization_header")


def test_public_app_exchanges_with_client_id_and_verifier_only(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.configure_app(public_client=True)
    url = f"{emu.auth_server}/oauth/token"
    verifier = secrets.token_urlsafe(48)
    pkce = {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    public = {"client_id": emu.integration_key}
    code = get_code(emu, client, **pkce)
    response = client.post(url, data={**code_grant(code, code_verifier=verifier), **public})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "token_type", "refresh_token", "expires_in"}
    code = get_code(emu, client, **pkce)
    response = client.post(url, data={**code_grant(code), **public})
    assert_error(response, "invalid_grant", "The PKCE code_verifier is missing.")
    no_challenge = get_code(emu, client)
    response = client.post(url, data={**code_grant(no_challenge, code_verifier=verifier), **public})
    assert_error(response, "invalid_grant")
    emu.configure_app(public_client=False)
    code = get_code(emu, client, **pkce)
    response = client.post(url, data={**code_grant(code, code_verifier=verifier), **public})
    assert_error(response, "invalid_grant", "invalid_authorization_header")


def test_verifier_without_a_recorded_challenge_is_ignored(
    emu: Emulator, client: httpx.Client
) -> None:
    code = get_code(emu, client)
    assert exchange(emu, client, code_grant(code, code_verifier="x" * 50)).status_code == 200


def test_both_secret_keys_work_until_revoked(emu: Emulator, client: httpx.Client) -> None:
    spare = exchange(emu, client, code_grant(get_code(emu, client)), emu.spare_secret_key)
    assert spare.status_code == 200
    emu.revoke_secret("secret_key")
    revoked = exchange(emu, client, code_grant(get_code(emu, client)))
    assert_error(revoked, "invalid_grant", "unauthorized_client")
    # Grants outlive a rotated secret: the refresh token works with the other secret.
    refreshed = exchange(
        emu, client, refresh_grant(spare.json()["refresh_token"]), emu.spare_secret_key
    )
    assert refreshed.status_code == 200


def test_wrong_secret_is_invalid_grant_as_the_evidence_says(
    emu: Emulator, client: httpx.Client
) -> None:
    response = exchange(emu, client, code_grant(get_code(emu, client)), secret="1" * 36)
    assert_error(response, "invalid_grant", "unauthorized_client")
    emu.configure_app(wrong_secret_description="")
    response = exchange(emu, client, code_grant(get_code(emu, client)), secret="1" * 36)
    assert response.json() == {"error": "invalid_grant"}


def test_wrong_secret_as_invalid_client_is_selectable(emu: Emulator, client: httpx.Client) -> None:
    emu.configure_app(wrong_secret_error="invalid_client")
    response = exchange(emu, client, code_grant(get_code(emu, client)), secret="1" * 36)
    assert_error(response, "invalid_client")
    with pytest.raises(ValueError):
        emu.configure_app(wrong_secret_error="access_denied")


def test_a_rejected_client_does_not_consume_the_code(emu: Emulator, client: httpx.Client) -> None:
    code = get_code(emu, client)
    assert exchange(emu, client, code_grant(code), secret="wrong-secret").status_code == 400
    assert exchange(emu, client, code_grant(code)).status_code == 200


def test_integration_key_pasted_as_secret(emu: Emulator, client: httpx.Client) -> None:
    response = exchange(emu, client, code_grant(get_code(emu, client)), emu.integration_key)
    assert_error(response, "invalid_grant", "expired_client_token")


def test_key_unknown_to_this_server(emu: Emulator, client: httpx.Client) -> None:
    response = client.post(
        f"{emu.auth_server}/oauth/token",
        data=code_grant(get_code(emu, client)),
        auth=("11111111-2222-3333-4444-555555555555", emu.secret_key),
    )
    assert_error(response, "invalid_grant", "unknown_client")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic not base64!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":only-secret").decode(),
    ],
)
def test_bad_basic_header_is_invalid_grant(
    emu: Emulator, client: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(
        f"{emu.auth_server}/oauth/token",
        data=code_grant(get_code(emu, client)),
        headers=headers,
    )
    assert_error(response, "invalid_grant")


def test_json_body_is_refused(emu: Emulator, client: httpx.Client) -> None:
    response = client.post(
        f"{emu.auth_server}/oauth/token",
        json=code_grant(get_code(emu, client)),
        auth=(emu.integration_key, emu.secret_key),
    )
    assert_error(response, "invalid_request")


def test_unsupported_grant_types(emu: Emulator, client: httpx.Client) -> None:
    for grant_type in ("client_credentials", "password", ""):
        response = exchange(emu, client, {"grant_type": grant_type})
        assert_error(response, "unsupported_grant_type")
    # JWT Grant is emulated (tests/emulator/test_jwt_grant.py): without an assertion it is a
    # malformed request, not an unknown grant.
    jwt = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}
    assert_error(exchange(emu, client, jwt), "invalid_request")


def test_refresh_rolls_tokens_and_kills_the_used_one(emu: Emulator, client: httpx.Client) -> None:
    first = tokens(emu, client)
    response = exchange(emu, client, refresh_grant(first["refresh_token"]))
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert_error(exchange(emu, client, refresh_grant(first["refresh_token"])), "invalid_grant")
    assert userinfo(emu, client, second["access_token"]).status_code == 200
    assert userinfo(emu, client, first["access_token"]).status_code == 200  # still live


def test_refresh_errors(emu: Emulator, client: httpx.Client) -> None:
    assert_error(exchange(emu, client, refresh_grant("nonsense")), "invalid_grant")
    assert_error(exchange(emu, client, {"grant_type": "refresh_token"}), "invalid_request")
    code = get_code(emu, client)
    assert_error(exchange(emu, client, refresh_grant(code)), "invalid_grant")


def test_access_token_expires_after_eight_hours(emu: Emulator, client: httpx.Client) -> None:
    access = tokens(emu, client)["access_token"]
    emu.advance_clock(28799)
    assert userinfo(emu, client, access).status_code == 200
    emu.advance_clock(2)
    response = userinfo(emu, client, access)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_refresh_token_with_extended_rolls_forward(emu: Emulator, client: httpx.Client) -> None:
    refresh = tokens(emu, client, "spring_read extended")["refresh_token"]
    for _ in range(3):  # 3 x 20 days: only alive because each refresh restarts 30 days
        emu.advance_clock(20 * 86400)
        response = exchange(emu, client, refresh_grant(refresh))
        assert response.status_code == 200
        refresh = response.json()["refresh_token"]
    emu.advance_clock(THIRTY_DAYS + 1)
    assert_error(exchange(emu, client, refresh_grant(refresh)), "invalid_grant")


def test_refresh_token_without_extended_keeps_the_first_expiry(
    emu: Emulator, client: httpx.Client
) -> None:
    refresh = tokens(emu, client, "signature spring_read")["refresh_token"]
    emu.advance_clock(20 * 86400)
    response = exchange(emu, client, refresh_grant(refresh))
    assert response.status_code == 200
    refresh = response.json()["refresh_token"]
    emu.advance_clock(9 * 86400)  # day 29: still inside the first 30 days
    response = exchange(emu, client, refresh_grant(refresh))
    assert response.status_code == 200
    refresh = response.json()["refresh_token"]
    emu.advance_clock(86400 + 1)  # day 30 + 1 s
    assert_error(exchange(emu, client, refresh_grant(refresh)), "invalid_grant")


def test_unused_refresh_token_dies_after_thirty_days(emu: Emulator, client: httpx.Client) -> None:
    refresh = tokens(emu, client)["refresh_token"]
    emu.advance_clock(THIRTY_DAYS - 1)
    ok = exchange(emu, client, refresh_grant(refresh))
    assert ok.status_code == 200
    late = tokens(emu, client)["refresh_token"]
    emu.advance_clock(THIRTY_DAYS + 1)
    assert_error(exchange(emu, client, refresh_grant(late)), "invalid_grant")


def test_revoked_consent_kills_refresh_tokens_not_live_access_tokens(
    emu: Emulator, client: httpx.Client
) -> None:
    grant = tokens(emu, client)
    emu.revoke_consent()
    assert_error(exchange(emu, client, refresh_grant(grant["refresh_token"])), "invalid_grant")
    assert userinfo(emu, client, grant["access_token"]).status_code == 200
    # The stored consent is gone too: the consent page shows again.
    page = client.get(
        f"{emu.auth_server}/oauth/auth",
        params={
            "response_type": "code",
            "scope": "signature spring_read spring_write extended",
            "client_id": emu.integration_key,
            "redirect_uri": emu.redirect_uris[0],
        },
    )
    assert page.status_code == 200
    # A new consent gives a working grant.
    fresh = tokens(emu, client)
    assert exchange(emu, client, refresh_grant(fresh["refresh_token"])).status_code == 200


def test_errors_never_echo_secrets(emu: Emulator, client: httpx.Client) -> None:
    code = get_code(emu, client)
    response = exchange(emu, client, code_grant(code), secret="wrong-secret-value")
    assert code not in response.text
    assert "wrong-secret-value" not in response.text
    assert emu.secret_key not in response.text
