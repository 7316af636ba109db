"""The emulator's JWT bearer grant, driven by hand-built assertions (PyJWT, not the client core):
real RS256 checks, consent per user and scope set, 1-hour tokens, and DocuSign's refusals."""

from __future__ import annotations

import signal
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.platform_helpers import emulator_command, stop
from tests.support.jwt_profiles import other_rsa_key

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def claims(emu: Emulator, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": emu.integration_key,
        "sub": emu.user_id,
        "aud": urlsplit(emu.auth_server).netloc,
        "iat": now,
        "exp": now + 3600,
        "scope": "signature impersonation",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def grant(emu: Emulator, assertion: str, **extra: str) -> httpx.Response:
    return httpx.post(
        f"{emu.auth_server}/oauth/token",
        data={"grant_type": GRANT, "assertion": assertion, **extra},
        timeout=5,
    )


def signed(emu: Emulator, key: str | None = None, **changes: Any) -> str:
    return jwt.encode(claims(emu, **changes), key or emu.jwt_private_key, algorithm="RS256")


def refusal(response: httpx.Response) -> tuple[str, str | None]:
    assert response.status_code == 400, response.text
    body = response.json()
    return body["error"], body.get("error_description")


def test_a_consented_assertion_gets_a_one_hour_token_without_refresh_token() -> None:
    with Emulator() as emu:
        emu.grant_jwt_consent(["signature"])
        answer = grant(emu, signed(emu))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert "refresh_token" not in body
        assert body["access_token"] in emu.issued_secrets()
        assert emu.jwt_private_key in emu.issued_secrets()
        emu.advance_clock(3601)  # the token dies after an hour
        info = httpx.get(
            f"{emu.auth_server}/oauth/userinfo",
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
        assert info.status_code == 401


def test_consent_is_per_user_and_scope_set_and_the_consent_page_records_it() -> None:
    with Emulator() as emu:
        assert refusal(grant(emu, signed(emu))) == ("consent_required", None)
        emu.grant_jwt_consent(["signature"])
        assert grant(emu, signed(emu)).status_code == 200
        wider = signed(emu, scope="signature impersonation spring_read")
        assert refusal(grant(emu, wider))[0] == "consent_required"
        # without impersonation in the assertion the grant is refused as well
        assert refusal(grant(emu, signed(emu, scope="signature")))[0] == "consent_required"
        emu.revoke_jwt_consent()
        assert refusal(grant(emu, signed(emu)))[0] == "consent_required"


def test_the_http_controls_grant_and_revoke_jwt_consent() -> None:
    with Emulator() as emu:
        control = f"{emu.auth_server}/_emulator/jwt-consent"
        assert httpx.post(control, json={"scopes": ["signature"]}).status_code == 200
        assert grant(emu, signed(emu)).status_code == 200
        assert httpx.delete(control).status_code == 200
        assert refusal(grant(emu, signed(emu)))[0] == "consent_required"


def test_the_signature_is_checked_for_real() -> None:
    with Emulator() as emu:
        emu.grant_jwt_consent(["signature"])
        bad = ("invalid_grant", "no_valid_keys_or_signatures")
        assert refusal(grant(emu, signed(emu, key=other_rsa_key()))) == bad
        header, _payload, signature = signed(emu).split(".")
        tampered_claims = signed(emu, sub=emu.user_id, scope="signature impersonation openid")
        forged = f"{header}.{tampered_claims.split('.')[1]}.{signature}"
        assert refusal(grant(emu, forged)) == bad
        unsigned = jwt.encode(claims(emu), "not-the-key-but-long-enough-for-hs256!!", "HS256")
        assert refusal(grant(emu, unsigned)) == bad
        assert refusal(grant(emu, "not.a.jwt")) == bad
        assert refusal(grant(emu, "x" * 20000)) == bad


def test_clock_rules_future_iat_expired_and_lifetime_over_an_hour() -> None:
    with Emulator() as emu:
        emu.grant_jwt_consent(["signature"])
        now = int(time.time())
        skew = ("invalid_grant", "no_valid_keys_or_signatures")
        assert refusal(grant(emu, signed(emu, iat=now + 600, exp=now + 3000))) == skew
        assert refusal(grant(emu, signed(emu, iat=now - 7200, exp=now - 3600))) == skew
        assert refusal(grant(emu, signed(emu, exp=now + 7200)))[1] == "invalid_request"
        assert refusal(grant(emu, signed(emu, iat=None)))[0] == "invalid_grant"
        # within the leeway it works
        assert grant(emu, signed(emu, iat=now + 30, exp=now + 3000)).status_code == 200
        # the emulator clock moves: an assertion made before the jump is now expired
        old = signed(emu)
        emu.advance_clock(4000)
        assert refusal(grant(emu, old)) == skew


def test_unknown_issuer_user_and_audience() -> None:
    with Emulator() as emu:
        emu.grant_jwt_consent(["signature"])
        issuer = signed(emu, iss=str(uuid.uuid4()))
        assert refusal(grant(emu, issuer)) == ("invalid_grant", "issuer_not_found")
        user = signed(emu, sub=str(uuid.uuid4()))
        assert refusal(grant(emu, user)) == ("invalid_grant", "user_not_found")
        audience = signed(emu, aud="account-d.docusign.com")
        assert refusal(grant(emu, audience))[0] == "invalid_grant"
        assert refusal(grant(emu, ""))[0] == "invalid_request"


def test_the_date_header_follows_the_emulator_clock() -> None:
    with Emulator() as emu:
        emu.advance_clock(86400 * 3)
        answer = grant(emu, signed(emu))
        from email.utils import parsedate_to_datetime

        served = parsedate_to_datetime(answer.headers["Date"]).timestamp()
        assert abs(served - emu.now()) < 5


@pytest.mark.timeout(60)
def test_the_first_json_line_gives_the_jwt_test_key() -> None:
    with emulator_command("--auto-consent") as (process, info):
        key = info["jwt_private_key"]
        assert key.startswith("-----BEGIN") and "PRIVATE KEY" in key
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": info["integration_key"],
                "sub": info["user_id"],
                "aud": urlsplit(info["auth_server"]).netloc,
                "iat": now,
                "exp": now + 3600,
                "scope": "signature impersonation",
            },
            key,
            algorithm="RS256",
        )
        answer = httpx.post(
            f"{info['auth_server']}/oauth/token",
            data={"grant_type": GRANT, "assertion": assertion},
        )
        assert answer.status_code == 200, answer.text
        code, _, _ = stop(process, signal.SIGINT)
        assert code == 0
