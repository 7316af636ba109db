"""Microsoft sign-in with MSAL: device code (default), interactive browser, or a service
principal (client credentials). MSAL's serialised token cache lives in the OS keyring (the
profile's `ms_token_cache` item), never in a file.

MSAL is synchronous: every call here runs in a worker thread, so a screen stays responsive.
msal is imported only inside these functions, so start-up never pays for it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from clmwizard.errors import ClmWizardError, KeyringError, NetworkError, UsageError
from clmwizard.powerplatform.msal_client import MsalHttpClient
from clmwizard.powerplatform.settings import DEFAULT_CLIENT_ID, MS_SECRET_ENV, MicrosoftSettings
from clmwizard.redact import redact, register_secret
from clmwizard.store.profile import MS_TOKEN_CACHE
from clmwizard.store.secrets import SecretStore

if TYPE_CHECKING:
    import httpx

Method = Literal["device_code", "browser", "service_principal"]
MAX_CACHE_CHARS = 256_000  # a cache is a few KB; refuse to parse anything absurd
MAX_LOG_CHARS = 300
MAX_LIFETIME = 86_400  # seconds; Entra's access tokens last about an hour
_T = TypeVar("_T")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class DeviceCode:
    """What the UI shows while MSAL polls: the code, where to enter it, Microsoft's message."""

    user_code: str
    verification_uri: str
    message: str
    expires_at: datetime


@dataclass(frozen=True)
class MicrosoftSignIn:
    """A token for the Power Apps API and who it belongs to."""

    access_token: str
    object_id: str  # the signed-in user's (or service principal's) object id
    username: str  # e.g. the user's UPN, or "service principal <client id>"
    tenant_id: str
    expires_at: datetime
    method: Method
    from_cache: bool = False  # MSAL answered from its cache: a 401 may mean it was revoked

    def __repr__(self) -> str:  # never the token
        return f"MicrosoftSignIn(username={self.username!r}, method={self.method!r})"


@dataclass(frozen=True)
class StoredSignIn:
    """What `clmwizard doctor` says about a profile's cached Microsoft sign-in."""

    usernames: tuple[str, ...]
    has_app_tokens: bool


def bound_to(settings: MicrosoftSettings) -> str:
    """Where a cached sign-in was issued and may be used: the authority with its port (MSAL's
    own cache keys drop the port) and the Power Apps URL its token is sent to."""
    return f"{settings.authority_url} {settings.power_apps_url}"


def _unwrap(text: str | None) -> tuple[str, Any] | None:
    """(bound_to, MSAL's cache) of a stored cache, or None when there is none or it is not
    ours (an older, unbound cache is not trusted either)."""
    if not text or len(text) > MAX_CACHE_CHARS:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("bound_to"), str):
        return None
    return data["bound_to"], data.get("msal")


class TokenCache:
    """MSAL's SerializableTokenCache, loaded from and saved to the keyring; a cache made for
    another authority or Power Apps URL is not used (and is replaced once a sign-in works)."""

    def __init__(self, secrets: SecretStore, profile: str, settings: MicrosoftSettings) -> None:
        import msal

        self.secrets = secrets
        self.profile = profile
        self.bound_to = bound_to(settings)
        self.cache = msal.SerializableTokenCache()
        stored = _unwrap(secrets.get(profile, MS_TOKEN_CACHE))
        if stored is not None and stored[0] == self.bound_to and isinstance(stored[1], dict):
            try:
                self.cache.deserialize(json.dumps(stored[1]))
            except (ValueError, TypeError):
                self.cache = msal.SerializableTokenCache()  # unreadable: start afresh

    def save(self) -> None:
        if self.cache.has_state_changed:
            data = {"bound_to": self.bound_to, "msal": json.loads(self.cache.serialize())}
            self.secrets.set_many(self.profile, {MS_TOKEN_CACHE: json.dumps(data)})


def stored_sign_in(secrets: SecretStore, profile: str) -> StoredSignIn | None:
    """Whom the profile's cached Microsoft sign-in is for, or None when none is stored."""
    stored = _unwrap(secrets.get(profile, MS_TOKEN_CACHE))
    data = stored[1] if stored is not None else None
    if not isinstance(data, dict):
        return None
    accounts = data.get("Account")
    names: list[str] = []
    if isinstance(accounts, dict):
        for account in list(accounts.values())[:20]:
            if isinstance(account, dict) and isinstance(account.get("username"), str):
                names.append(account["username"][:200])
    tokens = data.get("AccessToken")
    app_tokens = isinstance(tokens, dict) and any(
        isinstance(token, dict) and not token.get("home_account_id")
        for token in list(tokens.values())[:50]
    )
    if not names and not app_tokens:
        return None
    return StoredSignIn(tuple(sorted(set(names))), app_tokens)


def forget_sign_in(secrets: SecretStore, profile: str) -> None:
    secrets.delete(profile, [MS_TOKEN_CACHE])


# --- errors in plain words -----------------------------------------------------------------


def _codes(result: dict[str, Any]) -> list[int]:
    codes = result.get("error_codes")
    return [code for code in codes if isinstance(code, int)] if isinstance(codes, list) else []


def signin_error(result: dict[str, Any], settings: MicrosoftSettings) -> ClmWizardError:
    """MSAL's error answer (error, error_description, error_codes) in plain words."""
    error = str(result.get("error") or "unknown_error")[:100]
    description = str(result.get("error_description") or "")[:400].split("\r\n")[0]
    codes = _codes(result)
    said = f"Microsoft said: {description}" if description else f"Microsoft said: {error}."
    app = f"the app {settings.client_id}"

    def fail(what: str, fix: str, code: str) -> ClmWizardError:
        return ClmWizardError(what, cause=said, fix=fix, code=code)

    # Entra's device code errors (C): expired_token (AADSTS70019), authorization_declined,
    # bad_verification_code; 70020 is kept for older answers.
    if error in ("expired_token", "code_expired") or 70019 in codes or 70020 in codes:
        return fail(
            "The sign-in code expired before it was entered.",
            "Run again and enter the code within 15 minutes.",
            "device_code_expired",
        )
    if error in ("authorization_declined", "access_denied"):
        return fail(
            "The sign-in was declined.",
            "Run again and accept the sign-in (choose the account that can make connectors).",
            "declined",
        )
    if error == "bad_verification_code":
        return fail(
            "Microsoft did not recognise the sign-in code.",
            "Run again and enter the newest code shown; an older code no longer works.",
            "bad_verification_code",
        )
    if 7000218 in codes:
        return fail(
            f"The app registration {settings.client_id} does not allow public client flows, "
            "so a device code or browser sign-in with it is refused.",
            "In Entra ID → App registrations → the app → Authentication → Advanced settings, "
            "set 'Allow public client flows' to Yes; or sign in with a public client: "
            f"--client-id {DEFAULT_CLIENT_ID} (the default) or your organisation's own. "
            "`publish` can also sign in as a service principal (--service-principal) with one of "
            "its client secrets; `connect`, `heartbeat` and `status` need a user's sign-in.",
            "public_client_flows_off",
        )
    if 65001 in codes or "consent_required" in error:
        return fail(
            f"An administrator must first consent to {app} in your tenant.",
            "Ask an Entra ID administrator to grant consent to the app (Enterprise applications "
            "→ the app → Permissions), or use your organisation's own app registration with "
            "--client-id and --tenant.",
            "admin_consent_required",
        )
    if 53003 in codes or 53000 in codes or 530003 in codes:
        return fail(
            "A conditional-access policy of your organisation blocked the sign-in.",
            "Sign in from a compliant device or network, or ask your administrator which "
            "policy applies to this app.",
            "conditional_access",
        )
    if 50076 in codes or 50079 in codes:
        return fail(
            "Your organisation requires multi-factor authentication for this sign-in.",
            "Run again with the device code flow (the default) and complete the second factor.",
            "mfa_required",
        )
    if 7000215 in codes or 7000222 in codes or error == "invalid_client":
        return fail(
            "Microsoft refused the service principal's client secret.",
            f"Check {MS_SECRET_ENV}: the secret value (not its id) of an unexpired secret of "
            "the app registration (Certificates & secrets).",
            "invalid_client_secret",
        )
    if 700016 in codes or error == "unauthorized_client":
        return fail(
            f"Microsoft does not know {app} in tenant {settings.tenant}.",
            "Check --client-id and --tenant (the app registration's Overview page shows both).",
            "unknown_client",
        )
    if 90002 in codes or 90033 in codes:
        return fail(
            f"The tenant {settings.tenant} does not exist.",
            "Check --tenant: a tenant GUID or a domain like contoso.onmicrosoft.com.",
            "unknown_tenant",
        )
    return fail(
        f"The Microsoft sign-in failed ({error}).",
        "Run again; if it keeps failing, try --browser or your organisation's app "
        "registration (--client-id, --tenant).",
        error,
    )


def _network_failure(error: Exception, settings: MicrosoftSettings) -> NetworkError:
    import httpx

    if isinstance(error, httpx.TimeoutException):
        from clmwizard.http import transport_error
        from clmwizard.powerplatform.msal_client import SERVICE

        return transport_error(error, settings.authority_url, service=SERVICE)
    return NetworkError(
        f"Could not reach the Microsoft sign-in at {settings.authority_url}.",
        cause=f"{type(error).__name__}: {str(error)[:200]}",
        fix="Check the network (a proxy: HTTPS_PROXY), --authority, and for a private CA "
        "CLMWIZARD_CA_BUNDLE; then try again.",
        code="signin_unreachable",
    )


# --- the applications ----------------------------------------------------------------------


class _RedactingFilter(logging.Filter):
    """MSAL's DEBUG log of a token event keeps some secrets (the device code), and it logs a
    token answer it cannot parse whole, with a traceback: every record loses its traceback, is
    cut short and has every secret clmwizard knows hidden before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message)[:MAX_LOG_CHARS], None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTER = _RedactingFilter()


def _guard_msal_logs() -> None:
    root = logging.getLogger("msal")
    if not root.handlers:  # never Python's last-resort handler, which prints to stderr
        root.addHandler(logging.NullHandler())
    for name in [module for module in sys.modules if module.split(".")[0] == "msal"]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def _claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (only to learn the object id the token is for)."""
    try:
        payload = token.split(".")[1]
        if len(payload) > 16_000:
            return {}
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _sign_in_from(
    result: dict[str, Any], settings: MicrosoftSettings, method: Method
) -> MicrosoftSignIn:
    if "access_token" not in result:
        raise signin_error(result, settings)
    token = str(result["access_token"])
    register_secret(token)
    refresh = result.get("refresh_token")
    if isinstance(refresh, str):
        register_secret(refresh)
    claims = result.get("id_token_claims")
    if not isinstance(claims, dict) or "oid" not in claims:
        claims = _claims_of(token)
    oid = str(claims.get("oid", ""))
    if not _GUID.fullmatch(oid):
        raise ClmWizardError(
            "The Microsoft sign-in did not say which user signed in (no object id).",
            cause="The token carries no `oid` claim; the Power Apps API needs it.",
            fix="Sign in with a work or school account (personal Microsoft accounts cannot "
            "make connectors).",
            code="no_object_id",
        )
    if method == "service_principal":
        username = f"service principal {settings.client_id}"
    else:
        username = str(claims.get("preferred_username") or claims.get("upn") or oid)[:200]
    from_cache = result.get("token_source") == "cache"
    expires_in = result.get("expires_in")
    seconds = (
        min(int(str(expires_in)[:12]), MAX_LIFETIME)
        if isinstance(expires_in, (int, str))
        and str(expires_in).isascii()
        and str(expires_in).isdigit()
        else 3600
    )
    return MicrosoftSignIn(
        access_token=token,
        object_id=oid.lower(),
        username=username,
        tenant_id=str(claims.get("tid", settings.tenant))[:100],
        expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
        method=method,
        from_cache=from_cache,
    )


def _public_app(settings: MicrosoftSettings, cache: TokenCache, http: MsalHttpClient) -> Any:
    import msal

    _guard_msal_logs()
    try:
        return msal.PublicClientApplication(
            settings.client_id,
            authority=settings.authority_url,
            token_cache=cache.cache,
            http_client=http,
            instance_discovery=settings.is_microsoft_authority,
        )
    except ValueError as error:
        raise _network_failure(error, settings) from None
    except Exception as error:
        if _is_transport(error):
            raise _network_failure(error, settings) from None
        raise


def _is_transport(error: Exception) -> bool:
    import httpx

    return isinstance(error, httpx.TransportError)


def _silent(
    app: Any, settings: MicrosoftSettings, username: str | None, *, force_refresh: bool = False
) -> dict[str, Any] | None:
    accounts = app.get_accounts(username=username) if username else app.get_accounts()
    for account in accounts[:10]:
        result = app.acquire_token_silent(
            [settings.scope], account=account, force_refresh=force_refresh
        )
        if result and "access_token" in result:
            return dict(result)
    return None


def _run_blocking(function: Callable[[], _T], settings: MicrosoftSettings) -> _T:
    try:
        return function()
    except (ClmWizardError, KeyringError):
        raise
    except Exception as error:
        if _is_transport(error):
            raise _network_failure(error, settings) from None
        raise


async def sign_in_silently(
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    http: httpx.AsyncClient,
    *,
    force_refresh: bool = False,
) -> MicrosoftSignIn | None:
    """A token from the cached sign-in (refreshed by MSAL when needed, or at once with
    `force_refresh`: for a token the service refused although MSAL thinks it valid), or None."""
    msal_http = MsalHttpClient(http, asyncio.get_running_loop())

    def work() -> MicrosoftSignIn | None:
        cache = TokenCache(secrets, profile, settings)
        app = _public_app(settings, cache, msal_http)
        result = _silent(app, settings, None, force_refresh=force_refresh)
        cache.save()
        return None if result is None else _sign_in_from(result, settings, "device_code")

    return await asyncio.to_thread(_run_blocking, work, settings)


async def _public_sign_in(
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    http: httpx.AsyncClient,
    method: Method,
    acquire: Callable[[Any], Any],
    *,
    allow_cached: bool,
) -> MicrosoftSignIn:
    """A cached sign-in if allowed and it still works, else `acquire(app)` (in a worker thread,
    as MSAL blocks); the token cache is saved either way."""
    msal_http = MsalHttpClient(http, asyncio.get_running_loop())

    def work() -> MicrosoftSignIn:
        cache = TokenCache(secrets, profile, settings)
        app = _public_app(settings, cache, msal_http)
        cached = _silent(app, settings, None) if allow_cached else None
        if cached is not None:
            cache.save()
            return _sign_in_from(cached, settings, method)
        signed_in = _sign_in_from(acquire(app), settings, method)
        cache.save()
        return signed_in

    return await asyncio.to_thread(_run_blocking, work, settings)


async def sign_in_device_code(
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    http: httpx.AsyncClient,
    show: Callable[[DeviceCode], None],
    *,
    cancel: threading.Event | None = None,
    allow_cached: bool = True,
) -> MicrosoftSignIn:
    """Device code flow: a cached sign-in if it still works, else a code for `show` to display
    (called from a worker thread), then polling until the user entered it (or `cancel`)."""

    def by_device_code(app: Any) -> Any:
        flow = app.initiate_device_flow(scopes=[settings.scope])
        if "user_code" not in flow:
            raise signin_error(flow, settings)
        register_secret(str(flow.get("device_code", "")))
        expires = float(flow.get("expires_at") or 0) or (
            datetime.now(UTC).timestamp() + float(flow.get("expires_in") or 900)
        )
        show(
            DeviceCode(
                user_code=str(flow["user_code"])[:40],
                verification_uri=str(flow.get("verification_uri", ""))[:300],
                message=str(flow.get("message", ""))[:600],
                expires_at=datetime.fromtimestamp(expires, UTC),
            )
        )
        result = app.acquire_token_by_device_flow(
            flow, exit_condition=lambda flow: cancel is not None and cancel.is_set()
        )
        if cancel is not None and cancel.is_set() and "access_token" not in result:
            raise UsageError("The Microsoft sign-in was cancelled.", code="cancelled")
        return result

    return await _public_sign_in(
        settings, secrets, profile, http, "device_code", by_device_code, allow_cached=allow_cached
    )


async def sign_in_browser(
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    http: httpx.AsyncClient,
    *,
    timeout: float = 300.0,
    allow_cached: bool = True,
) -> MicrosoftSignIn:
    """Interactive sign-in: MSAL opens the browser and listens on a loopback port."""

    def in_browser(app: Any) -> Any:
        return app.acquire_token_interactive([settings.scope], timeout=int(timeout))

    return await _public_sign_in(
        settings, secrets, profile, http, "browser", in_browser, allow_cached=allow_cached
    )


async def sign_in_service_principal(
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    http: httpx.AsyncClient,
    client_secret: str,
) -> MicrosoftSignIn:
    """Client credentials: the app's own token (the secret is never stored)."""
    import msal

    register_secret(client_secret)
    _guard_msal_logs()

    msal_http = MsalHttpClient(http, asyncio.get_running_loop())

    def work() -> MicrosoftSignIn:
        cache = TokenCache(secrets, profile, settings)
        try:
            app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=client_secret,
                authority=settings.authority_url,
                token_cache=cache.cache,
                http_client=msal_http,
                instance_discovery=settings.is_microsoft_authority,
            )
        except ValueError as error:
            raise _network_failure(error, settings) from None
        result = app.acquire_token_for_client(scopes=[settings.scope])
        signed_in = _sign_in_from(result, settings, "service_principal")
        cache.save()
        return signed_in

    return await asyncio.to_thread(_run_blocking, work, settings)
