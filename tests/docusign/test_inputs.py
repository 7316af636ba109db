"""Environments, scopes, keys, consent URL, pasted redirects and redirect URIs: no network."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from clmwizard.docusign.callback import parse_redirect_uri
from clmwizard.docusign.consent import build_consent_request, code_from_pasted, pkce_challenge
from clmwizard.docusign.environments import DEMO, PRODUCTION, resolve_environment
from clmwizard.docusign.keys import validate_integration_key, validate_secret_key
from clmwizard.docusign.scopes import (
    CATALOGUE,
    DEFAULT_SCOPES,
    PRESETS,
    parse_scopes,
    scope_warnings,
)
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.redact import redact

IK = "3f6c0e1a-5b2d-4c7e-9a8b-1d2e3f4a5b6c"


# -- environments ------------------------------------------------------------------------------


def test_named_environments_have_the_documented_hosts() -> None:
    assert resolve_environment("demo") == DEMO
    assert DEMO.token_url == "https://account-d.docusign.com/oauth/token"
    assert DEMO.clm_auth_server == "https://authuat.springcm.com"
    assert PRODUCTION.authorization_url == "https://account.docusign.com/oauth/auth"
    assert PRODUCTION.clm_auth_server == "https://auth.springcm.com"
    assert PRODUCTION.oauth_host == "account.docusign.com"


def test_custom_origin_is_normalised_and_loopback_http_allowed() -> None:
    env = resolve_environment("demo", "http://127.0.0.1:8000/", "http://localhost:9000")
    assert (env.name, env.auth_server, env.clm_auth_server) == (
        "custom",
        "http://127.0.0.1:8000",
        "http://localhost:9000",
    )
    assert env.userinfo_url == "http://127.0.0.1:8000/oauth/userinfo"


def test_known_origin_given_as_auth_server_keeps_its_name() -> None:
    env = resolve_environment("demo", "https://account.docusign.com")
    assert env.name == "production" and env.clm_auth_server == "https://auth.springcm.com"


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ("http://account-d.docusign.com", "plain http"),
        ("https://account-d.docusign.com/oauth/auth", "origin only"),
        ("account-d.docusign.com", "not a web address"),
    ],
)
def test_bad_origins_are_refused_with_the_reason(origin: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_environment("demo", origin)
    assert words in caught.value.what and caught.value.field == "environment"


def test_unknown_environment_name() -> None:
    with pytest.raises(UsageError, match="Unknown environment 'staging'") as caught:
        resolve_environment("staging")
    assert caught.value.field == "environment"


# -- scopes ------------------------------------------------------------------------------------


def test_catalogue_covers_the_reference_scopes_with_purposes() -> None:
    names = {scope.name for scope in CATALOGUE}
    assert {
        "signature",
        "extended",
        "impersonation",
        "spring_read",
        "spring_write",
        "content",
        "organization_read",
        "click.manage",
        "openid",
        "cors",
        "dtr.rooms.read",
        "room_forms",
        "account_product_read",
    } <= names
    assert all(scope.purpose.endswith(".") for scope in CATALOGUE)
    unconfirmed = [scope.name for scope in CATALOGUE if scope.unconfirmed]
    assert unconfirmed == ["account_product_read"]


def test_presets_and_default() -> None:
    by_key = {preset.key: preset for preset in PRESETS}
    assert DEFAULT_SCOPES == ("signature", "spring_read", "spring_write", "extended")
    assert set(by_key["clm"].scopes) == set(DEFAULT_SCOPES)
    assert len(by_key["clm-broad"].scopes) == 9
    assert set(by_key["jwt"].scopes) == {*DEFAULT_SCOPES, "impersonation"}
    for preset in PRESETS:
        assert parse_scopes(preset.scopes) == sorted(
            preset.scopes, key=[s.name for s in CATALOGUE].index
        )


def test_parse_scopes_dedupes_and_orders() -> None:
    assert parse_scopes("extended, spring_write signature  extended") == [
        "signature",
        "extended",
        "spring_write",
    ]


def test_unknown_scopes_are_named_with_suggestions() -> None:
    with pytest.raises(UsageError) as caught:
        parse_scopes("signature spring_raed Extended frobnicate")
    error = caught.value
    assert error.field == "scopes"
    assert "spring_raed (did you mean spring_read?)" in error.what
    assert "Extended (did you mean extended?)" in error.what
    assert "frobnicate" in error.what and "Unknown scopes" in error.what


def test_empty_scopes() -> None:
    with pytest.raises(UsageError, match="No scopes given"):
        parse_scopes("  ")


def test_scope_warnings() -> None:
    assert scope_warnings(DEFAULT_SCOPES) == []
    warnings = scope_warnings(["signature", "spring_read", "spring_write"])
    assert warnings == [
        "Without `extended` the refresh token dies 30 days after consent, and the connector "
        "with it."
    ]
    no_clm = scope_warnings(["signature", "extended"])
    assert len(no_clm) == 1 and "every CLM call fails with 401" in no_clm[0]
    half = scope_warnings(["spring_read", "extended"])
    assert half == ["Without `spring_write` CLM uploads and other changes fail with 401 or 403."]
    assert any(
        "account_product_read" in w
        for w in scope_warnings([*DEFAULT_SCOPES, "account_product_read"])
    )


# -- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [IK, IK.upper(), f"  {IK}\n", "{" + IK + "}", IK.replace("-", ""), f"urn:uuid:{IK}"]
)
def test_integration_key_forms_are_canonicalised(text: str) -> None:
    assert validate_integration_key(text) == IK


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "empty"),
        ("12345678", "account number"),
        ("ada@example.com", "email address"),
        ("https://account-d.docusign.com", "web address"),
        ("eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJ4In0.sig", "token"),
        ("3f6c0e1a-5b2d-4c7e-9a8b", "not a GUID"),
    ],
)
def test_bad_integration_keys_say_what_they_look_like(text: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        validate_integration_key(text)
    assert caught.value.field == "integration_key"
    assert hint in caught.value.what + caught.value.cause
    assert "Apps and Keys" in caught.value.fix


def test_secret_key_checks() -> None:
    assert validate_secret_key("  s3cr3t-value\n", IK) == "s3cr3t-value"
    assert "s3cr3t-value" not in redact("oops s3cr3t-value")
    cases = {
        "": "empty",
        "abc def": "spaces or line breaks",
        IK.upper(): "That is the integration key",
        "-----BEGIN RSA PRIVATE KEY-----": "RSA private key",
    }
    for secret, words in cases.items():
        with pytest.raises(UsageError) as caught:
            validate_secret_key(secret, IK)
        assert words in caught.value.what and caught.value.field == "secret_key"


# -- consent URL -------------------------------------------------------------------------------


def test_consent_url_carries_every_parameter_and_a_valid_s256_challenge() -> None:
    request = build_consent_request(
        DEMO, IK, ["signature", "extended"], "http://127.0.0.1:8765/callback"
    )
    parts = urlsplit(request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DEMO.authorization_url
    assert "scope=signature%20extended" in parts.query  # spaces as %20, not +
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == IK
    assert params["redirect_uri"] == "http://127.0.0.1:8765/callback"
    assert params["state"] == request.state
    assert len(base64.urlsafe_b64decode(request.state + "==")) == 16  # 128 bits
    assert params["code_challenge_method"] == "S256"
    verifier = request.code_verifier
    assert verifier is not None and 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pkce_challenge(verifier) == params["code_challenge"]
    assert "prompt" not in params
    assert verifier not in redact(f"verifier {verifier}")


def test_consent_without_pkce_and_with_prompt_login() -> None:
    request = build_consent_request(
        DEMO, IK, ["signature"], "http://127.0.0.1:1/cb", use_pkce=False, prompt_login=True
    )
    params = parse_qs(urlsplit(request.url).query)
    assert request.code_verifier is None
    assert "code_challenge" not in params and params["prompt"] == ["login"]
    other = build_consent_request(DEMO, IK, ["signature"], "http://127.0.0.1:1/cb")
    assert other.state != request.state


# -- pasted redirects --------------------------------------------------------------------------


def test_pasted_url_query_and_bare_code() -> None:
    code = "eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0.code-value"
    url = f"http://127.0.0.1:8765/callback?code={code}&state=S1"
    assert code_from_pasted(f"  {url}\n", "S1") == code
    assert code_from_pasted(f"?code={code}&state=S1", "S1") == code
    assert code_from_pasted(f"code={code}", "S1") == code
    assert code_from_pasted(code, "S1") == code
    assert code not in redact(f"got {code}")


def test_pasted_decline_state_mismatch_and_garbage() -> None:
    with pytest.raises(ClmWizardError, match="You declined the consent"):
        code_from_pasted("http://127.0.0.1:8765/callback?error=access_denied&state=S1", "S1")
    with pytest.raises(ClmWizardError, match="belongs to another consent request") as caught:
        code_from_pasted("http://127.0.0.1:8765/callback?code=abcdefgh1&state=OTHER", "S1")
    assert caught.value.code == "state_mismatch"
    with pytest.raises(UsageError, match="carries no code"):
        code_from_pasted("https://account-d.docusign.com/oauth/auth?response_type=code", "S1")
    with pytest.raises(UsageError, match="neither an address nor a code"):
        code_from_pasted("this is not it", "S1")
    with pytest.raises(UsageError, match="Nothing was pasted"):
        code_from_pasted("   ", "S1")


# -- redirect URI ------------------------------------------------------------------------------


def test_loopback_redirect_uris() -> None:
    assert parse_redirect_uri("http://127.0.0.1:8765/callback") == ("127.0.0.1", 8765, "/callback")
    assert parse_redirect_uri("http://[::1]:9000/") == ("::1", 9000, "/")
    assert parse_redirect_uri("http://localhost:9000") == ("localhost", 9000, "/")


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("https://global.consent.azure-apim.net/redirect", "uses https"),
        ("http://example.com:8765/callback", "does not point at this computer"),
        ("ftp://127.0.0.1/x", "not an http address"),
        ("http://127.0.0.1:8765/cb?x=1", "query or fragment"),
    ],
)
def test_non_loopback_redirect_uris_are_refused(uri: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_redirect_uri(uri)
    assert words in caught.value.what and caught.value.field == "redirect_uri"
    if "azure-apim" in uri or "example.com" in uri:
        assert "Power Automate's own redirect URL" in caught.value.fix
