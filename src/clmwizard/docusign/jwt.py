"""JWT Grant for system integrations: prove that the integration user consented.

`check_profile_jwt` is the one call a screen or command needs: it reads the profile's integration
key, integration user GUID and RSA private key, asks DocuSign for a token by JWT Grant, records on
the profile whether consent was given or is needed, and returns a `JwtCheck`; every other answer
raises a ClmWizardError in plain words. PyJWT and cryptography are imported only here, only when
an assertion is signed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx

from clmwizard.docusign.environments import Environment, environment_of
from clmwizard.docusign.errors import WHERE_KEY, oauth_error_fields
from clmwizard.errors import ClmWizardError, GrantDeadError, NetworkError, UsageError
from clmwizard.http import (
    error_json,
    host_of,
    json_body,
    malformed_error,
    send_once_connected,
    server_error,
    transport_error,
)
from clmwizard.redact import register_secret
from clmwizard.store.profile import RSA_PRIVATE_KEY, JwtConsentRecord, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import SecretStore

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # DocuSign: exp at most one hour after iat
SKEW_SUSPECT = 120  # seconds of clock difference that make skew the likelier cause
MAX_PEM_CHARS = 32 * 1024

Clock = Callable[[], float]


class JwtConsentRequired(GrantDeadError):
    """DocuSign answered consent_required: the user must open `consent_url` and accept."""

    def __init__(self, consent_url: str, user_id: str) -> None:
        super().__init__(
            f"The integration user {user_id} has not consented to this integration key "
            "(consent_required).",
            cause="JWT Grant needs that user's consent to `impersonation` and every scope the "
            "integration asks for; it was never given, was revoked, or covers fewer scopes.",
            fix=f"Open this address signed in to DocuSign as that user and choose Accept: "
            f"{consent_url} — then check again with `clmwizard jwt --profile NAME`.",
            field="jwt_user_id",
            code="consent_required",
        )
        self.consent_url = consent_url
        self.user_id = user_id


@dataclass(frozen=True)
class JwtToken:
    access_token: str
    expires_in: int
    obtained_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.obtained_at + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:  # keep the token out of reprs and tracebacks
        return f"JwtToken(expires_in={self.expires_in}, obtained_at={self.obtained_at!r})"


@dataclass(frozen=True)
class JwtCheck:
    """What a screen shows: consent given (a token was issued) or needed (open `consent_url`)."""

    state: Literal["given", "needed"]
    user_id: str
    scopes: tuple[str, ...]
    checked_at: datetime
    token: JwtToken | None = None
    consent_url: str | None = None


def jwt_scopes(scopes: Sequence[str]) -> list[str]:
    """`impersonation` plus the profile's scopes, in order, once each."""
    return list(dict.fromkeys(["impersonation", *scopes]))


def consent_url(
    env: Environment, integration_key: str, scopes: Sequence[str], redirect_uri: str
) -> str:
    """The individual-consent address for JWT Grant: `/oauth/auth` with `impersonation`."""
    params = {
        "response_type": "code",
        "scope": " ".join(jwt_scopes(scopes)),
        "client_id": integration_key,
        "redirect_uri": redirect_uri,
    }
    return f"{env.authorization_url}?{urlencode(params, quote_via=quote)}"


def _bad_key(cause: str) -> UsageError:
    return UsageError(
        "The stored RSA private key cannot be used to sign.",
        cause=cause,
        fix=f"{WHERE_KEY} Under Service Integration, generate an RSA key pair and add the "
        "private key on the Key screen → Advanced.",
        field="rsa_private_key",
        code="bad_rsa_key",
    )


def build_assertion(
    integration_key: str,
    user_id: str,
    audience: str,
    private_key_pem: str,
    scopes: Sequence[str],
    *,
    now: float,
) -> str:
    """The RS256 assertion DocuSign documents: iss, sub, aud (bare host), iat, exp, scope."""
    if len(private_key_pem) > MAX_PEM_CHARS or "PRIVATE KEY" not in private_key_pem:
        raise _bad_key("It is not a PEM private key (-----BEGIN RSA PRIVATE KEY----- …).")
    import jwt
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _bad_key(
            "It does not parse as an unencrypted PEM private key (truncated, or protected by "
            "a passphrase?)."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _bad_key("It is not an RSA key; DocuSign signs JWT Grant with RSA (RS256).")
    issued_at = int(now)
    claims = {
        "iss": integration_key,
        "sub": user_id,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + ASSERTION_LIFETIME,
        "scope": " ".join(scopes),
    }
    assertion: str = jwt.encode(claims, key, algorithm="RS256")
    register_secret(assertion)
    return assertion


def _server_time(response: httpx.Response) -> float | None:
    header = response.headers.get("Date", "")
    if not header or len(header) > 64:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _skew_words(seconds: float) -> str:
    amount = abs(seconds)
    span = f"{round(amount / 60)} min" if amount >= 120 else f"{round(amount)} s"
    return f"{span} {'ahead of' if seconds > 0 else 'behind'}"


def _signature_error(detail: str, sent_at: float, response: httpx.Response) -> ClmWizardError:
    server = _server_time(response)
    if server is None:
        likelier = (
            "DocuSign's answer carried no usable Date header, so clmwizard cannot compare "
            "clocks: check both the key pair and this computer's clock."
        )
        code = "no_valid_keys_or_signatures"
    elif abs(sent_at - server) > SKEW_SUSPECT:
        likelier = (
            f"Clock skew is likelier: this computer's clock is {_skew_words(sent_at - server)} "
            "DocuSign's, so the assertion looks issued in the future or already expired."
        )
        code = "clock_skew"
    else:
        likelier = (
            f"A wrong key pair is likelier: this computer's clock agrees with DocuSign's "
            f"(within {max(1, int(abs(sent_at - server)))} s), so the signature is what failed."
        )
        code = "wrong_key_pair"
    fix = (
        "Set this computer's clock right (turn on automatic time / NTP), then check again."
        if code == "clock_skew"
        else f"{WHERE_KEY} Service Integration: the RSA key pair must belong to this integration "
        "key (its public half listed there); add the matching private key on the Key screen → "
        "Advanced, or generate a new pair."
    )
    return ClmWizardError(
        f"DocuSign refused the JWT assertion ({detail}).",
        cause=f"DocuSign says this when the RSA key does not belong to the integration key or "
        f"the clocks differ. {likelier}",
        fix=fix,
        field="rsa_private_key",
        code=code,
    )


def jwt_token_error(
    response: httpx.Response,
    body: Any,
    *,
    env: Environment,
    integration_key: str,
    user_id: str,
    consent: str,
    sent_at: float,
) -> ClmWizardError:
    """Plain words for every non-200 answer of a JWT Grant."""
    status = response.status_code
    host = host_of(env.token_url)
    error, description = oauth_error_fields(body)
    detail = f"{error} / {description.rstrip('.')}" if description else error or f"HTTP {status}"
    lowered = description.lower()
    if status == 429 or status >= 500:
        return server_error(status, env.token_url)
    if error == "consent_required":
        return JwtConsentRequired(consent, user_id)
    if error == "invalid_grant" and lowered == "no_valid_keys_or_signatures":
        return _signature_error(detail, sent_at, response)
    if error == "invalid_grant" and lowered == "issuer_not_found":
        return ClmWizardError(
            f"DocuSign does not know the integration key {integration_key} ({detail}).",
            cause="The key was mistyped, deleted, or belongs to the other environment "
            f"({env.label}): a developer key is unknown on production until Go-Live.",
            fix=f"{WHERE_KEY} Copy the integration key again and check the environment.",
            field="integration_key",
            code="issuer_not_found",
        )
    if error == "invalid_grant" and "user" in lowered:
        return ClmWizardError(
            f"DocuSign does not know the integration user {user_id} ({detail}).",
            cause="The GUID is not a user of this environment: it was mistyped, is an account "
            "id or an integration key, or the user lives in the other environment.",
            fix="In DocuSign: Settings → Apps and Keys shows “User ID” under My Account "
            "Information; paste that GUID as the integration user on the Key screen → Advanced.",
            field="jwt_user_id",
            code="user_not_found",
        )
    if error == "invalid_scope":
        return UsageError(
            f"DocuSign refused the scopes of the JWT assertion ({detail}).",
            fix="Use scopes from the catalogue, e.g. signature impersonation spring_read.",
            field="scopes",
            code="invalid_scope",
        )
    if error == "unauthorized_client":
        return ClmWizardError(
            f"DocuSign does not let this integration key use JWT Grant ({detail}).",
            cause="JWT Grant needs an RSA key pair on the integration key.",
            fix=f"{WHERE_KEY} Service Integration: add an RSA key pair.",
            field="integration_key",
            code="unauthorized_client",
        )
    if error:
        return ClmWizardError(
            f"DocuSign refused the JWT Grant ({detail}).",
            cause="The assertion or the request was not what DocuSign expects here "
            "(integration key, user GUID, environment, or this computer's clock).",
            fix=f"{WHERE_KEY} Check the integration key, the integration user GUID, the RSA key "
            "pair and the environment, then check again.",
            code=error,
        )
    if status == 404:
        return NetworkError(
            f"{host} has no OAuth token endpoint (HTTP 404).",
            cause="The OAuth server address is wrong.",
            fix="Check the profile's environment / OAuth server.",
            field="environment",
            code="http_404",
        )
    return NetworkError(
        f"{host} answered HTTP {status} without an OAuth error.",
        cause="Something other than DocuSign's OAuth server may have answered (a proxy?).",
        fix="Check the OAuth server address and the network.",
        code=f"http_{status}",
    )


async def request_jwt_token(
    client: httpx.AsyncClient,
    env: Environment,
    integration_key: str,
    user_id: str,
    private_key_pem: str,
    scopes: Sequence[str],
    *,
    redirect_uri: str,
    clock: Clock = time.time,
) -> JwtToken:
    """One JWT Grant: POST the assertion (no Basic header). consent_required raises
    JwtConsentRequired with the consent address; every other failure a ClmWizardError."""
    register_secret(private_key_pem)
    wanted = jwt_scopes(scopes)
    sent_at = clock()
    assertion = build_assertion(
        integration_key, user_id, env.oauth_host, private_key_pem, wanted, now=sent_at
    )
    url = env.token_url
    try:
        response = await send_once_connected(
            client,
            "POST",
            url,
            data={"grant_type": GRANT_TYPE, "assertion": assertion},
            headers={"Accept": "application/json"},
        )
    except httpx.TransportError as error:
        raise transport_error(error, url) from None
    if response.status_code == 200:
        payload = json_body(response)
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise malformed_error(url, response.status_code)
        register_secret(payload["access_token"])
        try:
            expires_in = int(payload.get("expires_in", ASSERTION_LIFETIME))
        except (TypeError, ValueError, OverflowError):
            expires_in = ASSERTION_LIFETIME
        obtained = datetime.fromtimestamp(sent_at, UTC)
        return JwtToken(payload["access_token"], max(0, min(expires_in, 86400)), obtained)
    raise jwt_token_error(
        response,
        error_json(response),
        env=env,
        integration_key=integration_key,
        user_id=user_id,
        consent=consent_url(env, integration_key, scopes, redirect_uri),
        sent_at=sent_at,
    )


def _missing(what: str, fix: str, field: str) -> UsageError:
    return UsageError(what, fix=fix, field=field, code="jwt_not_set_up")


def _record(
    state: Literal["given", "needed"], user_id: str, at: datetime
) -> Callable[[Profile], None]:
    def change(profile: Profile) -> None:
        profile.jwt_consent = JwtConsentRecord(state=state, user_id=user_id, checked_at=at)

    return change


async def check_profile_jwt(
    profile_name: str,
    profiles: ProfileStore,
    secrets: SecretStore,
    client: httpx.AsyncClient,
    *,
    clock: Clock = time.time,
) -> JwtCheck:
    """JWT Grant with the profile's key, user and RSA key; the outcome is stored on the profile.

    Returns a JwtCheck for "consent given" (a token was issued) and "consent needed" (with the
    consent address); raises ClmWizardError for everything else.
    """
    profile = await asyncio.to_thread(profiles.load, profile_name)
    if not profile.jwt_user_id:
        raise _missing(
            f"The profile {profile_name} has no integration user GUID for JWT Grant.",
            "Add it on the Key screen → Advanced (the user's GUID from Apps and Keys).",
            "jwt_user_id",
        )
    pem = await asyncio.to_thread(secrets.get, profile_name, RSA_PRIVATE_KEY)
    if not pem:
        raise _missing(
            f"The profile {profile_name} has no RSA private key in {secrets.description}.",
            "Add the integration key's RSA private key on the Key screen → Advanced.",
            "rsa_private_key",
        )
    env = environment_of(profile)
    user_id = profile.jwt_user_id
    scopes = tuple(jwt_scopes(profile.scopes))
    checked_at = datetime.fromtimestamp(clock(), UTC)
    try:
        token = await request_jwt_token(
            client,
            env,
            profile.integration_key,
            user_id,
            pem,
            profile.scopes,
            redirect_uri=profile.redirect_uri,
            clock=clock,
        )
    except JwtConsentRequired as needed:
        await asyncio.to_thread(
            profiles.update, profile_name, _record("needed", user_id, checked_at)
        )
        return JwtCheck("needed", user_id, scopes, checked_at, consent_url=needed.consent_url)
    await asyncio.to_thread(profiles.update, profile_name, _record("given", user_id, checked_at))
    return JwtCheck("given", user_id, scopes, checked_at, token=token)
