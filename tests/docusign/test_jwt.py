"""JWT Grant against the emulator over real sockets: success, consent, and every refusal."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from clmwizard.docusign.jwt import JwtConsentRequired, check_profile_jwt, request_jwt_token
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError, NetworkError, UsageError
from clmwizard.store.profile import RSA_PRIVATE_KEY
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.docusign.helpers import environment, query, redirect_location
from tests.support.jwt_profiles import jwt_profile, other_rsa_key


async def check(secrets: MemorySecretStore, clock: object = time.time) -> object:
    async with httpx.AsyncClient(timeout=10) as client:
        return await check_profile_jwt("system", ProfileStore(), secrets, client, clock=clock)  # type: ignore[arg-type]


async def test_consent_given_issues_a_one_hour_token_that_userinfo_accepts(emu: Emulator) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets)
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    result = await check(secrets)
    assert result.state == "given" and result.token is not None  # type: ignore[attr-defined]
    token = result.token  # type: ignore[attr-defined]
    assert token.expires_in == 3600
    assert "impersonation" in result.scopes  # type: ignore[attr-defined]
    info = httpx.get(
        f"{emu.auth_server}/oauth/userinfo",
        headers={"Authorization": f"Bearer {token.access_token}"},
    )
    assert info.status_code == 200 and info.json()["sub"] == emu.user_id
    record = ProfileStore().load("system").jwt_consent
    assert record is not None and record.state == "given" and record.user_id == emu.user_id


async def test_consent_required_gives_the_consent_url_and_a_recheck_succeeds(
    emu: Emulator, redirect_uri: str
) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets, redirect_uri=redirect_uri)
    needed = await check(secrets)
    assert needed.state == "needed"  # type: ignore[attr-defined]
    url = needed.consent_url  # type: ignore[attr-defined]
    params = query(url)
    assert params["client_id"] == emu.integration_key
    assert params["redirect_uri"] == redirect_uri
    assert params["scope"].split()[0] == "impersonation"
    assert set(params["scope"].split()) >= {"signature", "spring_read", "spring_write"}
    record = ProfileStore().load("system").jwt_consent
    assert record is not None and record.state == "needed"

    location = redirect_location(url)  # the user opens it and presses Accept
    assert "code=" in location
    given = await check(secrets)
    assert given.state == "given"  # type: ignore[attr-defined]
    assert ProfileStore().load("system").jwt_consent.state == "given"  # type: ignore[union-attr]


async def test_consent_for_fewer_scopes_is_not_enough(emu: Emulator) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets)
    emu.grant_jwt_consent(["signature"])  # not the spring scopes the profile asks for
    assert (await check(secrets)).state == "needed"  # type: ignore[attr-defined]
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    assert (await check(secrets)).state == "given"  # type: ignore[attr-defined]
    emu.revoke_jwt_consent()
    assert (await check(secrets)).state == "needed"  # type: ignore[attr-defined]


async def test_a_key_pair_of_another_key_is_named_as_the_likelier_cause(emu: Emulator) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets, private_key=other_rsa_key())
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    with pytest.raises(ClmWizardError) as caught:
        await check(secrets)
    assert caught.value.code == "wrong_key_pair"
    assert "no_valid_keys_or_signatures" in caught.value.what
    assert "wrong key pair is likelier" in caught.value.cause
    assert "PRIVATE KEY" not in caught.value.render()


@pytest.mark.parametrize("offset", [7200.0, -7200.0])
async def test_a_skewed_clock_is_named_with_how_far_off_it_is(emu: Emulator, offset: float) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets)
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    with pytest.raises(ClmWizardError) as caught:
        await check(secrets, clock=lambda: time.time() + offset)
    assert caught.value.code == "clock_skew"
    direction = "ahead of" if offset > 0 else "behind"
    assert f"120 min {direction}" in caught.value.cause
    # a small difference is within DocuSign's leeway and still works
    assert (await check(secrets, clock=lambda: time.time() + 20)).state == "given"  # type: ignore[attr-defined]


async def test_an_unknown_user_is_named(emu: Emulator) -> None:
    secrets = MemorySecretStore()
    stranger = str(uuid.uuid4())
    jwt_profile(emu, secrets, jwt_user_id=stranger)
    with pytest.raises(ClmWizardError) as caught:
        await check(secrets)
    assert caught.value.code == "user_not_found" and stranger in caught.value.what
    assert caught.value.field == "jwt_user_id"


async def test_an_unknown_integration_key_is_issuer_not_found(emu: Emulator) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets, integration_key=str(uuid.uuid4()))
    with pytest.raises(ClmWizardError) as caught:
        await check(secrets)
    assert caught.value.code == "issuer_not_found"


async def test_missing_user_or_key_is_a_usage_error_before_any_request(emu: Emulator) -> None:
    secrets = MemorySecretStore()
    jwt_profile(emu, secrets, jwt_user_id=None)
    with pytest.raises(UsageError) as caught:
        await check(secrets)
    assert caught.value.field == "jwt_user_id"
    jwt_profile(emu, secrets)
    secrets.delete("system", [RSA_PRIVATE_KEY])
    with pytest.raises(UsageError) as caught:
        await check(secrets)
    assert caught.value.field == "rsa_private_key"
    assert emu.request_log == []


async def test_a_key_that_is_not_a_pem_private_key_is_refused_without_echoing_it(
    emu: Emulator,
) -> None:
    secrets = MemorySecretStore()
    broken = (
        "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END RSA PRIVATE KEY-----"
    )
    jwt_profile(emu, secrets, private_key=broken)
    with pytest.raises(UsageError) as caught:
        await check(secrets)
    assert caught.value.code == "bad_rsa_key"
    assert "bm90IGEga2V5" not in caught.value.render()


def _answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        form = request.content.decode()
        assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in form
        assert "authorization" not in request.headers  # no Basic header
        return httpx.Response(status, json=body, headers=headers or {})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def _request(emu: Emulator, client: httpx.AsyncClient) -> None:
    async with client:
        await request_jwt_token(
            client,
            environment(emu),
            emu.integration_key,
            emu.user_id,
            emu.jwt_private_key,
            ["signature"],
            redirect_uri="http://127.0.0.1:8765/callback",
        )


async def test_answers_beyond_the_emulator_are_mapped(emu: Emulator) -> None:
    with pytest.raises(NetworkError) as caught:
        await _request(emu, _answer(503, {}))
    assert caught.value.code == "http_503"
    with pytest.raises(ClmWizardError) as caught:
        await _request(emu, _answer(400, {"error": "invalid_grant", "error_description": "x"}))
    assert caught.value.code == "invalid_grant" and "x" in caught.value.what
    with pytest.raises(ClmWizardError) as caught:
        await _request(
            emu, _answer(400, {"error": "invalid_grant", "error_description": "user_not_found"})
        )
    assert caught.value.code == "user_not_found"
    with pytest.raises(JwtConsentRequired) as consent:
        await _request(emu, _answer(400, {"error": "consent_required"}))
    assert consent.value.exit_code == 3 and "impersonation" in consent.value.consent_url
    bad_sig = {"error": "invalid_grant", "error_description": "no_valid_keys_or_signatures"}
    with pytest.raises(ClmWizardError) as caught:  # no Date header: both causes named
        await _request(emu, _answer(400, bad_sig))
    assert caught.value.code == "no_valid_keys_or_signatures"
    with pytest.raises(NetworkError) as caught:
        await _request(emu, _answer(200, {"token_type": "Bearer"}))
    assert caught.value.code == "malformed"


async def test_a_connection_that_never_opened_is_tried_once_more(emu: Emulator) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"access_token": "a" * 40, "expires_in": 3600})

    await _request(emu, httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    assert len(calls) == 2

    def always(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(NetworkError) as caught:
        await _request(emu, httpx.AsyncClient(transport=httpx.MockTransport(always)))
    assert caught.value.code == "timeout"
