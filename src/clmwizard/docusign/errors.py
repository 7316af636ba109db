"""DocuSign's OAuth error answers, each turned into a plain sentence with a fix."""

from __future__ import annotations

from typing import Any, Literal

from clmwizard.docusign.environments import Environment
from clmwizard.docusign.http import server_error
from clmwizard.errors import ClmWizardError, GrantDeadError, NetworkError, UsageError

Grant = Literal["authorization_code", "refresh_token"]

WHERE_SECRET = "In DocuSign: Apps and Keys → your app → Secret Keys."
WHERE_KEY = "In DocuSign: Apps and Keys → your app."


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
    status: int, body: Any, *, grant: Grant, env: Environment, host: str
) -> ClmWizardError:
    """The error for a non-200 answer of `POST /oauth/token`."""
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
        return ClmWizardError(
            f"DocuSign refused the authorization code ({detail}).",
            cause="The code lives about 2 minutes and works once: it expired, was already "
            "used, or was issued for another integration key. " + _other_environment(env),
            fix="Sign in again and finish within 2 minutes; check that --environment matches "
            "where the integration key was created.",
            wizard_fix="Sign in again and finish within 2 minutes; check that the Environment "
            "on the Integration key step matches where the integration key was created.",
            field="environment",
            code="invalid_grant",
        )
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
