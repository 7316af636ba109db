"""DocuSign's OAuth error answers, each turned into a plain sentence with a fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from clmwizard.docusign.environments import Environment
from clmwizard.errors import ClmWizardError, GrantDeadError, NetworkError, UsageError
from clmwizard.http import server_error

Grant = Literal["authorization_code", "refresh_token"]

WHERE_SECRET = "In DocuSign: Apps and Keys → your app → Secret Keys."
WHERE_KEY = "In DocuSign: Apps and Keys → your app."
CODE_LIFETIME = 120.0  # DocuSign: a code lives about 2 minutes
# The public evidence for a wrong secret: invalid_grant with this description (sometimes).
WRONG_SECRET_HINT = "unauthorized_client"


@dataclass(frozen=True)
class CodeFacts:
    """What the client knows about the code it sent: seconds since it arrived (None when
    unknown) and whether this run had already sent it once."""

    age: float | None = None
    sent_before: bool = False


def _other_environment(env: Environment) -> str:
    if env.name == "production":
        return (
            "A key created in the developer environment (account-d) is unknown on production "
            "until it has gone through Go-Live, and production answers invalid_grant."
        )
    if env.name == "demo":
        return (
            "A production key is unknown in the developer environment (account-d), which "
            "answers invalid_grant."
        )
    return "A key from another DocuSign environment gets invalid_grant here."


def oauth_error_fields(body: Any) -> tuple[str, str]:
    """(error, error_description) of a token endpoint answer; empty strings when absent."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    description = body.get("error_description")
    return (
        error if isinstance(error, str) else "",
        description if isinstance(description, str) else "",
    )


def token_error(
    status: int,
    body: Any,
    *,
    grant: Grant,
    env: Environment,
    host: str,
    code: CodeFacts | None = None,
) -> ClmWizardError:
    """The error for a non-200 answer of `POST /oauth/token`; `code` for a code exchange."""
    error, description = oauth_error_fields(body)
    detail = f"{error} / {description.rstrip('.')}" if description else error
    refresh = grant == "refresh_token"
    dead = GrantDeadError if refresh else ClmWizardError

    if status == 429:
        return server_error(status, f"https://{host}")
    if status >= 500:
        return NetworkError(
            f"{host} failed while issuing tokens (HTTP {status}).",
            cause="DocuSign's service had trouble on its side.",
            fix="Wait a minute, then try again."
            if refresh
            else "The code works only once and clmwizard does not resend it: wait a minute, "
            "then sign in again.",
            code=f"http_{status}",
        )
    if error == "invalid_client":
        return dead(
            f"DocuSign refused the secret key ({detail}).",
            cause="The secret key was mistyped, deleted in DocuSign, or belongs to another "
            "integration key.",
            fix=f"{WHERE_SECRET} Paste the secret again, or add a new one"
            + (" and store it with `clmwizard rotate`." if refresh else "."),
            wizard_fix=f"{WHERE_SECRET} Add a new secret key and store it with s (rotate "
            "secret) on the start screen."
            if refresh
            else "",
            field="secret_key",
            code="invalid_client",
        )
    if error == "invalid_grant" and description == "expired_client_token":
        return dead(
            f"DocuSign refused the credentials ({detail}).",
            cause="DocuSign answers this when the integration key was pasted as the secret key.",
            fix=f"Use the secret key, not the integration key. {WHERE_SECRET} "
            "(A secret is shown only once when it is added; if it is lost, add a new one.)",
            field="secret_key",
            code="expired_client_token",
        )
    if error == "invalid_grant" and description in (
        "no_valid_keys_or_signatures",
        "issuer_not_found",
    ):
        return ClmWizardError(
            f"DocuSign refused the JWT assertion ({detail}).",
            cause="The RSA key does not belong to the integration key, the integration key is "
            "wrong, or this computer's clock is off.",
            fix=f"{WHERE_KEY} Check the RSA key pair and the system clock.",
            field="integration_key",
            code=description,
        )
    if error == "invalid_grant" and (
        "verifier" in description.lower() or "pkce" in description.lower()
    ):
        return ClmWizardError(
            f"DocuSign refused the PKCE proof ({detail}).",
            cause="The code was issued for another sign-in attempt (a consent URL from an "
            "earlier run), so this run's code_verifier does not match it.",
            fix="Sign in again and use only the consent URL this run prints.",
            code="pkce_mismatch",
        )
    if error == "invalid_grant" and refresh and description == WRONG_SECRET_HINT:
        return GrantDeadError(
            f"DocuSign refused the refresh ({detail}): most likely the secret key is wrong.",
            cause="DocuSign answers a wrong, deleted or replaced secret key this way; a dead "
            "refresh token gets invalid_grant too, but without unauthorized_client.",
            fix=f"{WHERE_SECRET} Check that the secret key is still listed; if it was deleted, "
            "add a new one and store it with `clmwizard rotate`.",
            wizard_fix=f"{WHERE_SECRET} Check that the secret key is still listed; if it was "
            "deleted, add a new one and store it with s (rotate secret) on the start screen.",
            field="secret_key",
            code="secret_refused",
        )
    if error == "invalid_grant" and refresh:
        return GrantDeadError(
            f"The refresh token no longer works ({detail}).",
            cause="It expired (30 days after consent without `extended`, or after 30 days "
            "unused), consent was revoked (Profile → Connected Apps), or it was issued in "
            "another environment.",
            fix="Consent again with `clmwizard login` (keep `extended` in the scopes), then "
            "update the connection in Power Automate.",
            wizard_fix="Consent again with c (re-consent) on the start screen (keep `extended` "
            "in the scopes), then update the connection in Power Automate.",
            code="invalid_grant",
        )
    lowered = description.lower()
    if error == "invalid_grant" and "already used" in lowered:
        return ClmWizardError(
            f"The authorization code was already used ({detail}).",
            cause="A code works once; this one was exchanged before (a second tab, a repeated "
            "paste, or a retried request).",
            fix="Sign in again to get a fresh code.",
            code="code_reused",
        )
    if error == "invalid_grant" and "expired" in lowered and "code" in lowered:
        return ClmWizardError(
            f"The authorization code expired before it was exchanged ({detail}).",
            cause="DocuSign's codes live about 2 minutes.",
            fix="Sign in again and paste the address promptly.",
            code="code_expired",
        )
    if error == "invalid_grant":
        return code_refused(detail, description, code or CodeFacts(), env)
    if error == "unauthorized_client":
        return dead(
            f"DocuSign does not let this integration key use this sign-in ({detail}).",
            cause="The key is not set up for the Authorization Code Grant with a secret key, "
            "or it belongs to the other environment.",
            fix=f"{WHERE_KEY} Authentication: choose Authorization Code Grant and add a secret "
            "key; check the environment.",
            field="integration_key",
            code="unauthorized_client",
        )
    if error == "consent_required":
        return dead(
            f"DocuSign says consent is missing ({detail}).",
            cause="The user has not consented to these scopes for this integration key (or "
            "revoked it), or the scopes asked now go beyond the consent given.",
            fix="Consent again with `clmwizard login`, with every scope the integration needs.",
            wizard_fix="Consent again (c re-consent on the start screen), with every scope the "
            "integration needs.",
            field="scopes",
            code="consent_required",
        )
    if error == "invalid_scope":
        return UsageError(
            f"DocuSign refused the scopes ({detail}).",
            fix="Use scopes from the catalogue, e.g. signature spring_read spring_write extended.",
            field="scopes",
            code="invalid_scope",
        )
    if error in ("unsupported_grant_type", "invalid_request"):
        return ClmWizardError(
            f"DocuSign refused the request ({detail}).",
            cause="The server at this address does not speak DocuSign's OAuth as expected; "
            "a wrong --auth-server is the usual cause.",
            wizard_cause="The server at this address does not speak DocuSign's OAuth as "
            "expected; a wrong OAuth server address is the usual cause.",
            fix="Check the OAuth server address (environment).",
            wizard_fix="Check the Environment and its OAuth server address on the Integration "
            "key step.",
            field="environment",
            code=error,
        )
    if status == 404:
        return NetworkError(
            f"{host} has no OAuth token endpoint (HTTP 404).",
            cause="The OAuth server address is wrong.",
            fix="Check --environment / --auth-server.",
            wizard_fix="Check the Environment and its OAuth server address on the Integration "
            "key step.",
            field="environment",
            code="http_404",
        )
    if error:
        return dead(
            f"DocuSign refused the request ({detail}).",
            fix="Check the integration key, the secret key and the environment, then try again.",
            code=error,
        )
    return NetworkError(
        f"{host} answered HTTP {status} without an OAuth error.",
        cause="Something other than DocuSign's OAuth server may have answered (a proxy?), or "
        "the server address is wrong.",
        fix="Check the OAuth server address and the network.",
        code=f"http_{status}",
    )


def code_refused(
    detail: str, description: str, code: CodeFacts, env: Environment
) -> ClmWizardError:
    """invalid_grant at the code exchange: DocuSign's one answer for a wrong secret key and for
    an expired or used code. Names both, and ranks them by what this run knows."""
    both = (
        "DocuSign gives this same answer for a wrong secret key and for an authorization code "
        "that expired (after about 2 minutes) or was already used."
    )
    other = (
        " Less likely: the integration key belongs to another environment. "
        + _other_environment(env)
    )
    if code.age is not None and (code.age >= CODE_LIFETIME or code.sent_before):
        why = (
            f"The code arrived {code.age:.0f} s ago"
            + (" and this run had sent it before" if code.sent_before else "")
            + ", so it has probably expired or been used up; a wrong secret key is the other "
            "possible cause."
        )
        return ClmWizardError(
            f"DocuSign refused the code exchange ({detail}): most likely the code expired or "
            "was already used.",
            cause=f"{both} {why}{other}",
            fix="Sign in again for a fresh code and let clmwizard exchange it at once; if that "
            f"fails the same way, check the secret key. {WHERE_SECRET}",
            field="secret_key",
            code="invalid_grant",
        )
    if code.sent_before:
        ranking = (
            "This run had sent this code before, so it may be used up; a wrong secret key is "
            "the other possible cause."
        )
        likelier = "the code was already used, or the secret key is wrong"
    elif code.age is not None:
        ranking = (
            f"The code arrived {code.age:.0f} s ago and was sent once, so it has not expired "
            "and was not used before: a wrong secret key (mistyped, deleted in DocuSign, or "
            "another key's) is the likelier cause."
        )
        likelier = "most likely the secret key is wrong"
    elif description == WRONG_SECRET_HINT:
        ranking = (
            f"The answer says {WRONG_SECRET_HINT}, which DocuSign has been seen to send for a "
            "wrong secret key: that is the likelier cause."
        )
        likelier = "most likely the secret key is wrong"
    else:
        ranking = "clmwizard cannot tell which from the answer alone."
        likelier = "a wrong secret key, or an expired or used code"
    return ClmWizardError(
        f"DocuSign refused the code exchange ({detail}): {likelier}.",
        cause=f"{both} {ranking}{other}",
        fix=f"Check the secret key. {WHERE_SECRET} Then try again within 2 minutes of signing "
        "in; if it still fails, sign in again for a fresh code.",
        field="secret_key",
        code="invalid_grant",
    )
