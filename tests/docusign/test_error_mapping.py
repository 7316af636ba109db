"""Every token-endpoint answer of the reference maps to a plain sentence, a fix and a field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clmwizard.docusign.environments import DEMO, PRODUCTION
from clmwizard.docusign.errors import CodeFacts, token_error
from clmwizard.docusign.session import explain_dead_grant
from clmwizard.errors import ClmWizardError, GrantDeadError, NetworkError, UsageError
from clmwizard.store.profile import Profile

IK = "3f6c0e1a-5b2d-4c7e-9a8b-1d2e3f4a5b6c"


def body(error: str, description: str | None = None) -> dict[str, str]:
    answer = {"error": error}
    if description is not None:
        answer["error_description"] = description
    return answer


CASES = [
    # (status, body, grant, class, code, field, words in what+cause+fix)
    (
        400,
        body("invalid_client"),
        "authorization_code",
        ClmWizardError,
        "invalid_client",
        "secret_key",
        "refused the secret key",
    ),
    (
        400,
        body("invalid_grant", "expired_client_token"),
        "authorization_code",
        ClmWizardError,
        "expired_client_token",
        "secret_key",
        "integration key was pasted as the secret key",
    ),
    (
        400,
        body("invalid_grant"),
        "authorization_code",
        ClmWizardError,
        "invalid_grant",
        "secret_key",
        "a wrong secret key, or an expired or used code",
    ),
    (
        400,
        body("invalid_grant", "unauthorized_client"),
        "authorization_code",
        ClmWizardError,
        "invalid_grant",
        "secret_key",
        "most likely the secret key is wrong",
    ),
    (
        400,
        body("invalid_grant", "unauthorized_client"),
        "refresh_token",
        GrantDeadError,
        "secret_refused",
        "secret_key",
        "clmwizard rotate",
    ),
    (
        400,
        body("invalid_grant", "The authorization code has expired."),
        "authorization_code",
        ClmWizardError,
        "code_expired",
        None,
        "about 2 minutes",
    ),
    (
        400,
        body("invalid_grant", "The authorization code was already used."),
        "authorization_code",
        ClmWizardError,
        "code_reused",
        None,
        "works once",
    ),
    (
        400,
        body("invalid_grant", "The PKCE code_verifier is missing or wrong."),
        "authorization_code",
        ClmWizardError,
        "pkce_mismatch",
        None,
        "code_verifier",
    ),
    (
        400,
        body("consent_required"),
        "authorization_code",
        ClmWizardError,
        "consent_required",
        "scopes",
        "Consent again",
    ),
    (
        400,
        body("unauthorized_client"),
        "authorization_code",
        ClmWizardError,
        "unauthorized_client",
        "integration_key",
        "Authorization Code Grant",
    ),
    (
        400,
        body("invalid_grant", "no_valid_keys_or_signatures"),
        "authorization_code",
        ClmWizardError,
        "no_valid_keys_or_signatures",
        "integration_key",
        "clock",
    ),
    (
        400,
        body("invalid_grant", "issuer_not_found"),
        "authorization_code",
        ClmWizardError,
        "issuer_not_found",
        "integration_key",
        "RSA key",
    ),
    (
        400,
        body("unsupported_grant_type"),
        "authorization_code",
        ClmWizardError,
        "unsupported_grant_type",
        "environment",
        "--auth-server",
    ),
    (
        400,
        body("invalid_scope"),
        "authorization_code",
        UsageError,
        "invalid_scope",
        "scopes",
        "refused the scopes",
    ),
    (
        500,
        body("server_error"),
        "authorization_code",
        NetworkError,
        "http_500",
        None,
        "does not resend it",
    ),
    (503, None, "refresh_token", NetworkError, "http_503", None, "then try again"),
    (429, None, "authorization_code", NetworkError, "http_429", None, "too many"),
    (404, None, "authorization_code", NetworkError, "http_404", "environment", "wrong"),
    (400, "not json", "authorization_code", NetworkError, "http_400", None, "proxy"),
    (
        400,
        body("invalid_grant"),
        "refresh_token",
        GrantDeadError,
        "invalid_grant",
        None,
        "Consent again",
    ),
    (
        400,
        body("invalid_client"),
        "refresh_token",
        GrantDeadError,
        "invalid_client",
        "secret_key",
        "clmwizard rotate",
    ),
]


@pytest.mark.parametrize(("status", "answer", "grant", "cls", "code", "field", "words"), CASES)
def test_token_errors(status, answer, grant, cls, code, field, words) -> None:  # type: ignore[no-untyped-def]
    error = token_error(status, answer, grant=grant, env=DEMO, host="account-d.docusign.com")
    assert type(error) is cls
    assert (error.code, error.field) == (code, field)
    text = f"{error.what} {error.cause} {error.fix}"
    assert words in text
    assert error.fix, "every error carries a fix"


@pytest.mark.parametrize(("status", "answer", "grant", "cls", "code", "field", "words"), CASES)
def test_token_errors_shown_in_the_wizard_name_no_flags(  # type: ignore[no-untyped-def]
    status, answer, grant, cls, code, field, words
) -> None:
    error = token_error(status, answer, grant=grant, env=DEMO, host="account-d.docusign.com")
    shown = error.render_for_wizard()
    assert error.what in shown
    assert " --" not in shown and "`clmwizard " not in shown, shown


def test_plain_invalid_grant_names_the_environment_mix_up() -> None:
    error = token_error(
        400,
        body("invalid_grant"),
        grant="authorization_code",
        env=PRODUCTION,
        host="account.docusign.com",
    )
    assert "developer environment (account-d) is unknown on production" in error.cause
    assert "Go-Live" in error.cause


def _exchange_error(description: str | None, facts: CodeFacts) -> ClmWizardError:
    return token_error(
        400,
        body("invalid_grant", description),
        grant="authorization_code",
        env=DEMO,
        host="account-d.docusign.com",
        code=facts,
    )


@pytest.mark.parametrize("description", [None, "unauthorized_client"])
def test_invalid_grant_at_the_exchange_names_both_causes_and_ranks_them(
    description: str | None,
) -> None:
    both = "same answer for a wrong secret key and for an authorization code that expired"
    fresh = _exchange_error(description, CodeFacts(age=3.2, sent_before=False))
    assert "most likely the secret key is wrong" in fresh.what
    assert both in fresh.cause and "arrived 3 s ago and was sent once" in fresh.cause
    assert "has not expired" in fresh.cause and fresh.field == "secret_key"
    assert "Secret Keys" in fresh.fix

    old = _exchange_error(description, CodeFacts(age=150.0, sent_before=False))
    assert "most likely the code expired or was already used" in old.what
    assert both in old.cause and "arrived 150 s ago" in old.cause
    assert "a wrong secret key is the other possible cause" in old.cause
    assert "Sign in again for a fresh code" in old.fix

    resent = _exchange_error(description, CodeFacts(age=10.0, sent_before=True))
    assert "most likely the code expired or was already used" in resent.what
    assert "this run had sent it before" in resent.cause

    unknown_resent = _exchange_error(description, CodeFacts(age=None, sent_before=True))
    assert "the code was already used, or the secret key is wrong" in unknown_resent.what


def test_invalid_grant_of_unknown_age_without_a_hint_says_it_cannot_tell() -> None:
    error = _exchange_error(None, CodeFacts())
    assert "a wrong secret key, or an expired or used code" in error.what
    assert "cannot tell which" in error.cause


def _profile(scopes: list[str], consented_days_ago: float, now: datetime) -> Profile:
    consented = now - timedelta(days=consented_days_ago)
    return Profile(
        name="p",
        environment="demo",
        auth_server=DEMO.auth_server,
        clm_auth_server=DEMO.clm_auth_server,
        integration_key=IK,
        scopes=scopes,
        redirect_uri="http://127.0.0.1:8765/callback",
        consented_at=consented,
        last_refresh_at=consented,
        refresh_token_expires_at=consented + timedelta(days=30),
    )


def _dead(
    what: str = "The refresh token no longer works (invalid_grant).", code: str = "invalid_grant"
) -> GrantDeadError:
    return GrantDeadError(what, code=code)


def test_dead_grant_causes_from_what_the_profile_knows() -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    expired = explain_dead_grant(_dead(), _profile(["signature", "spring_read"], 31, now), now)
    assert expired.code == "expired_no_extended" and expired.field == "scopes"
    assert "without `extended` it dies 30 days after consent" in expired.what
    assert "consent given 2025-01-29" in expired.what
    assert '--scopes "signature spring_read extended"' in expired.fix

    unused = explain_dead_grant(_dead(), _profile(["signature", "extended"], 40, now), now)
    assert unused.code == "expired_unused" and "unused for more than 30 days" in unused.what

    revoked = explain_dead_grant(_dead(), _profile(["signature", "extended"], 2, now), now)
    assert revoked.code == "consent_revoked" and "Connected Apps" in revoked.cause

    secret = explain_dead_grant(
        _dead("DocuSign refused the secret key (invalid_client).", "invalid_client"),
        _profile(["signature", "extended"], 2, now),
        now,
    )
    assert secret.code == "secret_revoked" and "clmwizard rotate --profile p" in secret.fix
    refused = explain_dead_grant(
        _dead(
            "DocuSign refused the refresh (invalid_grant / unauthorized_client).", "secret_refused"
        ),
        _profile(["signature", "extended"], 2, now),
        now,
    )
    assert refused.code == "secret_revoked" and "grant itself may still be alive" in refused.fix
    assert all(
        isinstance(e, GrantDeadError) and e.exit_code == 3
        for e in (expired, unused, revoked, secret)
    )
