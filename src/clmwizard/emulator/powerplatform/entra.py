"""Entra ID's v2.0 endpoints, as far as MSAL (Microsoft's library) uses them.

Paths under the Entra origin, `{tenant}` being the tenant id, its domain, `common` or
`organizations`:

- `GET  /{tenant}/v2.0/.well-known/openid-configuration` (what MSAL reads with
  instance_discovery=False) and `/{tenant}/.well-known/openid-configuration` (the v1 form);
- `GET  /{tenant}/discovery/v2.0/keys` (no RSA keys: the emulator signs nothing MSAL checks);
- `POST /{tenant}/oauth2/v2.0/devicecode` (form: client_id, scope);
- `POST /{tenant}/oauth2/v2.0/token` (form): client_credentials with client_secret,
  `urn:ietf:params:oauth:grant-type:device_code`, authorization_code (+ PKCE), refresh_token;
- `GET  /{tenant}/oauth2/v2.0/authorize` (auth code + PKCE to a loopback redirect URI; the
  emulated user counts as signed in and consented: our choice, there is no sign-in page).

Errors have Entra's JSON shape: error, error_description ("AADSTS<n>: …"), error_codes,
timestamp, trace_id, correlation_id. Where the exact AADSTS code of a case is not documented in
the reference it is marked "unconfirmed" below.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from clmwizard.emulator.http_types import Request, Response, html_response, json_response, redirect
from clmwizard.emulator.powerplatform.state import (
    ACCESS_TOKEN_LIFETIME,
    AUTH_CODE_LIFETIME,
    DEVICE_CODE_LIFETIME,
    FLOW_RESOURCE,
    POWER_APPS_RESOURCE,
    AuthCode,
    DeviceCode,
    PowerPlatformState,
    Principal,
    RefreshGrant,
    b64url,
    encode_jwt,
    new_guid,
)

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}
RESOURCES = (POWER_APPS_RESOURCE, FLOW_RESOURCE)
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_MAX_SCOPES = 20


class EntraError(Exception):
    def __init__(
        self, status: int, error: str, code: int, description: str, suberror: str | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description
        self.suberror = suberror


def error_response(failure: EntraError) -> Response:
    trace_id, correlation_id = new_guid(), new_guid()
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    payload: dict[str, Any] = {
        "error": failure.error,
        "error_description": (
            f"AADSTS{failure.code}: {failure.description} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {stamp}"
        ),
        "error_codes": [failure.code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={failure.code}",
    }
    if failure.suberror:
        payload["suberror"] = failure.suberror
    return json_response(failure.status, payload, ("Cache-Control", "no-store, no-cache"))


def handle(state: PowerPlatformState, request: Request) -> Response:
    parts = request.path.strip("/").split("/")
    if parts == ["devicelogin"]:
        return _device_login(state, request)
    try:
        if len(parts) < 2:
            return json_response(404, {"error": "not_found"})
        tenant, rest = parts[0], "/".join(parts[1:])
        _check_tenant(state, tenant)
        match (request.method, rest):
            case ("GET", "v2.0/.well-known/openid-configuration"):
                return json_response(200, discovery(state, request.base_url, tenant, v2=True))
            case ("GET", ".well-known/openid-configuration"):
                return json_response(200, discovery(state, request.base_url, tenant, v2=False))
            case ("GET", "discovery/v2.0/keys"):
                return json_response(200, {"keys": []})
            case ("POST", "oauth2/v2.0/devicecode"):
                return _device_code(state, request, tenant)
            case ("POST", "oauth2/v2.0/token"):
                return _token(state, request)
            case ("GET", "oauth2/v2.0/authorize"):
                return _authorize(state, request)
        return json_response(404, {"error": "not_found"})
    except EntraError as failure:
        return error_response(failure)


def _check_tenant(state: PowerPlatformState, tenant: str) -> None:
    known = {state.tenant, "common", "organizations", "northwindtraders.onmicrosoft.com"}
    if tenant.lower() not in known:
        raise EntraError(
            400,
            "invalid_request",
            90002,
            f"Tenant '{tenant[:64]}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )


def discovery(state: PowerPlatformState, origin: str, tenant: str, *, v2: bool) -> dict[str, Any]:
    base = f"{origin}/{tenant}"
    suffix = "/v2.0" if v2 else ""
    issuer_tenant = state.tenant if tenant == state.tenant else "{tenantid}"
    return {
        "token_endpoint": f"{base}/oauth2{suffix}/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery{suffix}/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{origin}/{issuer_tenant}{suffix}",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2{suffix}/authorize",
        "device_authorization_endpoint": f"{base}/oauth2{suffix}/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2{suffix}/logout",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "oid",
            "tid",
            "preferred_username",
            "name",
        ],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


# -- scopes -----------------------------------------------------------------------------------


def _resource_of(scope: str) -> str | None:
    """The resource a scope names (with its trailing slash), or None for an OIDC scope."""
    if scope in OIDC_SCOPES:
        return None
    for resource in RESOURCES:
        bare = resource.rstrip("/")
        if scope.startswith(bare + "/") and len(scope) > len(bare) + 1:
            return resource
    raise EntraError(
        400,
        "invalid_resource",
        500011,
        f"The resource principal named {scope.rsplit('/', 1)[0][:120]} was not found in the "
        f"tenant. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant.",
    )


def _parse_scopes(raw: str | None) -> tuple[list[str], str]:
    scopes = (raw or "").split()
    if not scopes or len(scopes) > _MAX_SCOPES:
        raise EntraError(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        )
    resources = {r for r in (_resource_of(s) for s in scopes) if r}
    if len(resources) > 1:
        raise EntraError(
            400,
            "invalid_request",
            28000,
            "Provided value for the input parameter scope is not valid because it contains "
            "more than one resource.",
        )
    return scopes, resources.pop() if resources else POWER_APPS_RESOURCE


# -- clients ----------------------------------------------------------------------------------


def _form(request: Request) -> dict[str, str]:
    if request.content_type != "application/x-www-form-urlencoded" or len(request.body) > 65536:
        raise EntraError(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
    return {k: v[0] for k, v in request.form().items() if v}


def _public_client(state: PowerPlatformState, form: dict[str, str]) -> str:
    client_id = form.get("client_id", "")
    if client_id == state.service_principal.app_id:
        # unconfirmed: the app registration would need "allow public client flows" for this.
        raise EntraError(
            400,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
        )
    if client_id not in state.public_client_ids:
        raise EntraError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id[:64]}' was not found in the directory "
            f"'{state.tenant}'. This can happen if the application has not been installed by "
            "the administrator of the tenant or consented to by any user in the tenant.",
        )
    if form.get("client_secret") or form.get("client_assertion"):
        raise EntraError(
            401,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be "
            "presented.",
        )
    return client_id


def _policies(state: PowerPlatformState, client_id: str, *, delegated: bool) -> None:
    if state.conditional_access_blocked:
        raise EntraError(
            400,
            "invalid_grant",
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not "
            "allow token issuance.",
            suberror="message_only",
        )
    if delegated and state.admin_consent_required:
        raise EntraError(
            400,
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID "
            f"'{client_id}' named 'clmwizard'. Send an interactive authorization request for "
            "this user and resource.",
            suberror="consent_required",
        )


# -- tokens -----------------------------------------------------------------------------------


def _access_token(
    state: PowerPlatformState, principal: Principal, client_id: str, resource: str
) -> str:
    now = int(state.clock.now())
    claims: dict[str, Any] = {
        "aud": resource,
        "iss": f"https://sts.windows.net/{state.tenant}/",
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_LIFETIME,
        "appid": client_id,
        "oid": principal.oid,
        "sub": principal.oid,
        "tid": state.tenant,
        "ver": "1.0",
        "uti": b64url(secrets.token_bytes(16)),
    }
    if principal.is_app:
        claims.update({"idtyp": "app", "roles": []})
    else:
        claims.update(
            {"idtyp": "user", "upn": principal.upn, "name": principal.name, "scp": "User"}
        )
    token = encode_jwt(claims, state.signing_key)
    with state.lock:
        state.issued_tokens.add(token)
    return token


def _user_tokens(
    state: PowerPlatformState,
    form: dict[str, str],
    client_id: str,
    scopes: list[str],
    resource: str,
    nonce: str | None = None,
) -> Response:
    user = state.user
    now = int(state.clock.now())
    answer: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "expires_in": ACCESS_TOKEN_LIFETIME,
        "ext_expires_in": ACCESS_TOKEN_LIFETIME,
        "access_token": _access_token(state, user, client_id, resource),
    }
    if "offline_access" in scopes:
        refresh = "1.AQ" + b64url(secrets.token_bytes(48))
        state.refresh_tokens[refresh] = RefreshGrant(
            client_id, scopes, state.clock.now() + 90 * 86400
        )
        answer["refresh_token"] = refresh
    if "openid" in scopes:
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": f"{state.entra_origin}/{state.tenant}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + ACCESS_TOKEN_LIFETIME,
            "oid": user.oid,
            "sub": b64url(hashlib.sha256((user.oid + client_id).encode()).digest()[:24]),
            "tid": state.tenant,
            "ver": "2.0",
        }
        if "profile" in scopes:
            claims.update({"name": user.name, "preferred_username": user.upn})
        if "email" in scopes:
            claims["email"] = user.upn
        if nonce:
            claims["nonce"] = nonce
        answer["id_token"] = encode_jwt(claims, None)
    if form.get("client_info") == "1":
        answer["client_info"] = b64url(json.dumps({"uid": user.oid, "utid": state.tenant}).encode())
    return json_response(200, answer, ("Cache-Control", "no-store, no-cache"))


def _token(state: PowerPlatformState, request: Request) -> Response:
    form = _form(request)
    grant = form.get("grant_type", "")
    with state.lock:
        match grant:
            case "client_credentials":
                return _client_credentials(state, form)
            case "urn:ietf:params:oauth:grant-type:device_code":
                return _device_code_grant(state, form)
            case "authorization_code":
                return _authorization_code_grant(state, form)
            case "refresh_token":
                return _refresh_grant(state, form)
            case "":
                raise EntraError(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'grant_type'.",
                )
    raise EntraError(
        400,
        "unsupported_grant_type",
        70003,
        f"The app requested an unsupported grant type '{grant[:64]}'.",
    )


def _client_credentials(state: PowerPlatformState, form: dict[str, str]) -> Response:
    sp = state.service_principal
    client_id = form.get("client_id", "")
    if client_id != sp.app_id:
        raise EntraError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id[:64]}' was not found in the directory "
            f"'{state.tenant}'.",
        )
    secret = form.get("client_secret")
    if not secret:
        raise EntraError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
        )
    if not secrets.compare_digest(secret.encode(), state.client_secret.encode()):
        raise EntraError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app "
            f"'{client_id}'.",
        )
    scopes = form.get("scope", "").split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise EntraError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {' '.join(scopes)[:200]} is not valid. Client "
            "credential flows must have a scope value with /.default suffixed to the resource "
            "identifier (application ID URI).",
        )
    resource = _resource_of(scopes[0]) or POWER_APPS_RESOURCE
    _policies(state, client_id, delegated=False)
    return json_response(
        200,
        {
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME,
            "access_token": _access_token(state, sp, client_id, resource),
        },
        ("Cache-Control", "no-store, no-cache"),
    )


def _device_code(state: PowerPlatformState, request: Request, tenant: str) -> Response:
    form = _form(request)
    client_id = _public_client(state, form)
    scopes, _ = _parse_scopes(form.get("scope"))
    user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
    device_code = "DAQABAAEAAAD" + b64url(secrets.token_bytes(96))
    verification_uri = f"{request.base_url}/devicelogin"
    with state.lock:
        state.device_codes[device_code] = DeviceCode(
            device_code=device_code,
            user_code=user_code,
            client_id=client_id,
            scopes=scopes,
            expires_at=state.clock.now() + DEVICE_CODE_LIFETIME,
            interval=state.device_code_interval,
            status="approved" if state.auto_approve_device_codes else "pending",
        )
        interval = state.device_code_interval
    return json_response(
        200,
        {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": DEVICE_CODE_LIFETIME,
            "interval": interval,
            "message": (
                f"To sign in, use a web browser to open the page {verification_uri} and enter "
                f"the code {user_code} to authenticate."
            ),
        },
    )


def _device_code_grant(state: PowerPlatformState, form: dict[str, str]) -> Response:
    client_id = _public_client(state, form)
    flow = state.device_codes.get(form.get("device_code", ""))
    if flow is None or flow.client_id != client_id or flow.status == "redeemed":
        # C: Entra's device code docs name `bad_verification_code` for a device code it does
        # not recognise; the AADSTS number is unconfirmed.
        raise EntraError(
            400,
            "bad_verification_code",
            70000,
            "The provided value for the 'device_code' is not valid.",
        )
    now = state.clock.now()
    if now >= flow.expires_at:
        raise EntraError(
            400,
            "expired_token",
            70019,  # C: Entra's device code docs
            "The provided value for the input parameter 'device_code' is not valid. This device "
            "code has expired.",
        )
    if flow.status == "declined":
        # unconfirmed: the AADSTS code Entra gives a declined device code sign-in.
        raise EntraError(
            400,
            "authorization_declined",
            70000,
            "The user declined the authentication request.",
        )
    too_soon = flow.last_poll and now - flow.last_poll < flow.interval / 2
    flow.last_poll = now
    if flow.status == "pending":
        if too_soon:  # unconfirmed: when (and whether) Entra answers slow_down
            raise EntraError(
                400, "slow_down", 70016, "Polling too fast: wait the interval between polls."
            )
        raise EntraError(
            400,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    _policies(state, client_id, delegated=True)
    flow.status = "redeemed"
    _, resource = _parse_scopes(" ".join(flow.scopes))
    return _user_tokens(state, form, client_id, flow.scopes, resource)


def _authorization_code_grant(state: PowerPlatformState, form: dict[str, str]) -> Response:
    client_id = _public_client(state, form)
    grant = state.auth_codes.pop(form.get("code", ""), None)
    if grant is not None:
        state.issued_tokens.add(grant.code)  # single use, but still a secret for leak scans
    if grant is None or grant.client_id != client_id:
        raise EntraError(
            400,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code "
            "or use an existing refresh token.",
        )
    if state.clock.now() >= grant.expires_at:
        raise EntraError(
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has "
            "expired due to inactivity. Send a new interactive authorization request for this "
            "user and resource.",
        )
    if form.get("redirect_uri") != grant.redirect_uri:
        raise EntraError(
            400,
            "invalid_grant",
            50148,
            "The redirect_uri specified in the token request must match the one in the "
            "authorization request.",
        )
    verifier = form.get("code_verifier", "")
    if grant.challenge:
        expected = (
            b64url(hashlib.sha256(verifier.encode()).digest())
            if grant.method == "S256"
            else verifier
        )
        if not verifier or not secrets.compare_digest(expected, grant.challenge):
            raise EntraError(
                400,
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the "
                "code_challenge supplied in the authorization request.",
            )
    _policies(state, client_id, delegated=True)
    _, resource = _parse_scopes(" ".join(grant.scopes))
    return _user_tokens(state, form, client_id, grant.scopes, resource, grant.nonce)


def _refresh_grant(state: PowerPlatformState, form: dict[str, str]) -> Response:
    client_id = _public_client(state, form)
    grant = state.refresh_tokens.get(form.get("refresh_token", ""))
    if grant is None or grant.client_id != client_id:
        raise EntraError(
            400,
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        )
    if state.clock.now() >= grant.expires_at:
        raise EntraError(
            400,
            "invalid_grant",
            700082,
            "The refresh token has expired due to inactivity.",
        )
    scopes, resource = _parse_scopes(form.get("scope") or " ".join(grant.scopes))
    _policies(state, client_id, delegated=True)
    if "offline_access" not in scopes:  # a refresh always answers with a new refresh token
        scopes = [*scopes, "offline_access"]
    return _user_tokens(state, form, client_id, scopes, resource)


# -- interactive sign-in ----------------------------------------------------------------------

_LOOPBACK = re.compile(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?(/[^\s?#]*)?$")


def _authorize(state: PowerPlatformState, request: Request) -> Response:
    params = {k: v[0] for k, v in request.query.items() if v}
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if client_id not in state.public_client_ids:
        return _error_page(
            f"AADSTS700016: Application with identifier '{client_id[:64]}' was "
            "not found in the directory."
        )
    if not _LOOPBACK.match(redirect_uri):
        return _error_page(
            "AADSTS50011: The redirect URI specified in the request does not match the redirect "
            "URIs configured for the application. Public clients may use http://localhost."
        )
    state_param = params.get("state")
    try:
        if params.get("response_type") != "code":
            raise EntraError(
                400,
                "unsupported_response_type",
                700054,
                "response_type 'code' is the only one this emulator offers.",
            )
        scopes, _ = _parse_scopes(params.get("scope"))
        method = params.get("code_challenge_method", "plain")
        challenge = params.get("code_challenge", "")
        if challenge and method not in ("S256", "plain"):
            raise EntraError(400, "invalid_request", 501491, "Invalid code_challenge_method.")
        _policies(state, client_id, delegated=True)
    except EntraError as failure:
        answer = {
            "error": failure.error,
            "error_description": f"AADSTS{failure.code}: {failure.description}",
        }
        if state_param:
            answer["state"] = state_param
        return _send_back(redirect_uri, answer, params.get("response_mode"))
    code = "1.AQ" + b64url(secrets.token_bytes(64))
    with state.lock:
        state.auth_codes[code] = AuthCode(
            code=code,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            challenge=challenge,
            method=method,
            nonce=params.get("nonce"),
            expires_at=state.clock.now() + AUTH_CODE_LIFETIME,
        )
    answer = {"code": code, "session_state": new_guid()}
    if state_param:
        answer["state"] = state_param
    if "client_info" in params:
        answer["client_info"] = b64url(
            json.dumps({"uid": state.user.oid, "utid": state.tenant}).encode()
        )
    return _send_back(redirect_uri, answer, params.get("response_mode"))


def _send_back(redirect_uri: str, answer: dict[str, str], mode: str | None) -> Response:
    if mode == "form_post":
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in answer.items()
        )
        return html_response(
            200,
            f'<html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{html.escape(redirect_uri)}">{fields}<noscript><button>Continue</button>'
            "</noscript></form></body></html>",
        )
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return redirect(redirect_uri + separator + urlencode(answer))


def _device_login(state: PowerPlatformState, request: Request) -> Response:
    """The verification page: the emulated user enters the code and approves or declines."""
    note = ""
    if request.method == "POST":
        form = request.form() if len(request.body) <= 4096 else {}
        code = (form.get("user_code") or [""])[0].strip().upper().replace("-", "")
        decision = (form.get("decision") or [""])[0]
        with state.lock:
            flow = next(
                (
                    c
                    for c in state.device_codes.values()
                    if c.user_code == code
                    and c.status == "pending"
                    and state.clock.now() < c.expires_at
                ),
                None,
            )
            if flow is None:
                note = "<p>That code is not valid or has expired. Check it and try again.</p>"
            elif decision in ("approve", "decline"):
                flow.status = "approved" if decision == "approve" else "declined"
                verdict = "signed in" if decision == "approve" else "declined the sign-in"
                return html_response(
                    200,
                    f"<html><body><h1>You have {verdict}.</h1><p>As "
                    f"{html.escape(state.user.upn or '')} on the application. You can close "
                    "this window.</p></body></html>",
                )
    return html_response(
        200,
        "<html><head><title>Enter code</title></head><body><h1>Enter code</h1>"
        f"{note}<p>Signed in as {html.escape(state.user.upn or '')} (emulated).</p>"
        '<form method="post" action="/devicelogin"><input name="user_code" autofocus>'
        '<button name="decision" value="approve">Approve</button>'
        '<button name="decision" value="decline">Decline</button></form></body></html>',
    )


def _error_page(message: str) -> Response:
    return html_response(
        400,
        "<html><head><title>Sign in to your account</title></head><body>"
        f"<h1>Sorry, but we’re having trouble signing you in.</h1><p>{html.escape(message)}</p>"
        "</body></html>",
    )
