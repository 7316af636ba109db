"""A connection's DocuSign grant, as the platform keeps it: everything from the connector as
published (its own client id, secret, scopes, URLs), never from the client's code.

`exchange` turns the code DocuSign sent to the connector's redirect URL into tokens at the
connector's token URL; `refresh` renews them at its refresh URL. Both run outside the state lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from clmwizard.emulator.powerplatform.outbound import Answer, OutboundError, post_form
from clmwizard.emulator.powerplatform.records import DocuSignGrant

# The connection parameter that holds the OAuth settings (paconn requires this name).
TOKEN_PARAMETER = "token"


@dataclass
class OAuthSettings:
    client_id: str
    client_secret: str
    scopes: list[str]
    authorization_url: str
    token_url: str
    refresh_url: str
    redirect_url: str


class GrantError(Exception):
    """The token endpoint refused (or could not be reached); `code` names it for statuses."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def oauth_settings(record: dict[str, Any]) -> OAuthSettings | None:
    """The stored connector's OAuth settings, or None when it has no usable oauthSetting."""
    parameters = record.get("properties", {}).get("connectionParameters")
    parameter = parameters.get(TOKEN_PARAMETER) if isinstance(parameters, dict) else None
    if not isinstance(parameter, dict) or parameter.get("type") != "oauthSetting":
        return None
    settings = parameter.get("oAuthSettings")
    if not isinstance(settings, dict):
        return None
    custom = settings.get("customParameters")
    custom = custom if isinstance(custom, dict) else {}

    def value(name: str) -> str:
        entry = custom.get(name)
        found = entry.get("value") if isinstance(entry, dict) else None
        return found if isinstance(found, str) else ""

    scopes = settings.get("scopes")
    return OAuthSettings(
        client_id=str(settings.get("clientId") or ""),
        client_secret=str(record.get("clientSecrets", {}).get(TOKEN_PARAMETER) or ""),
        scopes=[s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [],
        authorization_url=value("authorizationUrl"),
        token_url=value("tokenUrl"),
        # unconfirmed: a connector without a refresh URL refreshes at its token URL
        refresh_url=value("refreshUrl") or value("tokenUrl"),
        redirect_url=str(settings.get("redirectUrl") or ""),
    )


def _describe(answer: Answer) -> str:
    payload = answer.json()
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        described = str(payload["error"])[:100]
        if isinstance(payload.get("error_description"), str):
            described += f" ({str(payload['error_description'])[:200]})"
        return f"{answer.status}: {described}"
    return f"{answer.status}: {answer.text(200)}"


def _grant(answer: Answer, now: float, previous: DocuSignGrant | None) -> DocuSignGrant:
    payload = answer.json()
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
        raise GrantError("InvalidTokenResponse", "The token endpoint's answer had no access_token.")
    expires_in = payload.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
    refresh = payload.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        if previous is None:
            raise GrantError("InvalidTokenResponse", "The token endpoint sent no refresh_token.")
        refresh = previous.refresh_token  # an answer without one keeps the old (RFC 6749 6)
    return DocuSignGrant(
        access_token=payload["access_token"],
        refresh_token=refresh,
        access_expires_at=now + lifetime,
        obtained_at=previous.obtained_at if previous else now,
        refreshed_at=now,
    )


def _post(
    settings: OAuthSettings,
    which: Literal["token", "refresh"],
    fields: dict[str, str],
    client_auth: str,
    ca_pem: str,
) -> Answer:
    """POST `fields` to the connector's token or refresh URL (`which`)."""
    try:
        return post_form(
            settings.token_url if which == "token" else settings.refresh_url,
            fields,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            client_auth=client_auth,
            ca_pem=ca_pem,
        )
    except OutboundError as error:
        code = "TokenEndpointUnreachable" if which == "token" else "RefreshEndpointUnreachable"
        raise GrantError(code, f"The {which} URL could not be reached: {error}") from None


def exchange(
    settings: OAuthSettings, code: str, now: float, client_auth: str, ca_pem: str
) -> DocuSignGrant:
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        # unconfirmed: whether the platform sends redirect_uri at the exchange (RFC 6749 does)
        "redirect_uri": settings.redirect_url,
    }
    answer = _post(settings, "token", fields, client_auth, ca_pem)
    if answer.status != 200:
        raise GrantError(
            "TokenExchangeFailed",
            f"The connector's token URL refused the authorization code: {_describe(answer)}",
        )
    return _grant(answer, now, None)


def refresh(
    settings: OAuthSettings, grant: DocuSignGrant, now: float, client_auth: str, ca_pem: str
) -> DocuSignGrant:
    fields = {"grant_type": "refresh_token", "refresh_token": grant.refresh_token}
    answer = _post(settings, "refresh", fields, client_auth, ca_pem)
    if answer.status != 200:
        # U: the real wording; this follows what users quote from Power Automate's emails.
        raise GrantError(
            "Unauthorized",
            "Failed to refresh access token for service: oauth2. "
            f"The connector's refresh URL answered {_describe(answer)}",
        )
    return _grant(answer, now, grant)
