"""Power Apps connections to custom connectors (reference power-platform.md, "Connections and
flows"): create (PUT, the client names it), read, list, delete and getConsentLink, with the same
api-version, token and `$filter=environment eq 'ENV'` rules as the connector calls.

    PUT    {pau}/providers/Microsoft.PowerApps/apis/{connector}/connections/{name}   201 (new)
    GET    {pau}/providers/Microsoft.PowerApps/apis/{connector}/connections[/{name}]
    GET    {pau}/providers/Microsoft.PowerApps/connections          (all of the environment)
    DELETE {pau}/providers/Microsoft.PowerApps/apis/{connector}/connections/{name}
    POST   {pau}/providers/Microsoft.PowerApps/apis/{connector}/connections/{name}/getConsentLink
           {"redirectUrl"?: ...} -> {"consentLink": "{consent origin}/login?data=..."}
    POST   .../connections/{name}/confirmConsentCode {"code": ...}   (switch consent_finish)

Statuses: `[{"status": "Error", "target": "token", "error": {...}}]` until signed in (T; the
error object U), `[{"status": "Connected"}]` once the consent service stored a grant, and
`Error` with `error.code` / `message` when a refresh fails (at a run, or on read: switch
`refresh_on_read`, U). A connection is its creator's: others get 404 here (U) and 403
`ConnectionAuthorizationFailed` when a flow references it (T).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from clmwizard.emulator.http_types import Request, Response, json_response
from clmwizard.emulator.powerplatform import grants
from clmwizard.emulator.powerplatform.powerapps import (
    PREFIX,
    ApiError,
    _api_version,
    _environment,
    _filtered_environment,
    _json_body,
    _principal,
    error_response,
)
from clmwizard.emulator.powerplatform.records import (
    CONNECTED,
    Connection,
    ConsentSession,
    DocuSignGrant,
    Platform,
)
from clmwizard.emulator.powerplatform.state import POWER_APPS_RESOURCE

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_CONNECTOR = re.compile(r"^[a-z0-9_-]{1,200}$")
CONSENT_LINK_LIFETIME = 3600.0  # U: how long a consent link stays usable


def claims(request: Request) -> bool:
    """Is this Power Apps request one of the connection calls (else the connector module's)?"""
    if not request.path.startswith(PREFIX):
        return False
    rest = request.path[len(PREFIX) :].strip("/").split("/")
    return rest == ["connections"] or (
        len(rest) >= 3 and rest[0] == "apis" and rest[2] == "connections"
    )


def handle(platform: Platform, request: Request) -> Response:
    try:
        _api_version(request)
        oid = _principal(platform.state, request, (POWER_APPS_RESOURCE,))
        env_name = _filtered_environment(request)
        if env_name is None:
            raise ApiError(
                400,
                "MissingEnvironmentFilter",
                "Connection calls need $filter=environment eq 'ENVIRONMENT'.",
            )
        rest = request.path[len(PREFIX) :].strip("/").split("/")
        write = request.method in ("PUT", "POST", "DELETE")
        with platform.state.lock:
            _environment(platform.state, env_name, oid, write=write)
        match (request.method, rest):
            case ("GET", ["connections"]):
                return _list(platform, env_name, oid, None)
            case ("GET", ["apis", connector_id, "connections"]):
                _connector(platform, env_name, connector_id)
                return _list(platform, env_name, oid, connector_id)
            case ("PUT", ["apis", connector_id, "connections", name]):
                return _create(platform, request, env_name, oid, connector_id, name)
            case ("GET", ["apis", connector_id, "connections", name]):
                connection = _own(platform, env_name, oid, connector_id, name)
                probe(platform, connection.key)
                return json_response(200, view(platform, connection))
            case ("DELETE", ["apis", connector_id, "connections", name]):
                connection = _own(platform, env_name, oid, connector_id, name)
                with platform.state.lock:
                    platform.records.connections.pop(connection.key, None)
                    for state in [
                        s
                        for s, session in platform.records.sessions.items()
                        if session.connection == connection.key
                    ]:
                        del platform.records.sessions[state]
                return Response(200, b"")  # U: 200 or 204
            case ("POST", ["apis", connector_id, "connections", name, "getConsentLink"]):
                return _consent_link(platform, request, env_name, oid, connector_id, name)
            case ("POST", ["apis", connector_id, "connections", name, "confirmConsentCode"]):
                return _confirm(platform, request, env_name, oid, connector_id, name)
        raise ApiError(404, "NotFound", "No such resource.")
    except ApiError as failure:
        return error_response(failure.status, failure.code, failure.message)


def _connector(platform: Platform, env_name: str, connector_id: str) -> dict[str, Any]:
    with platform.state.lock:
        record = (
            platform.connector(env_name, connector_id) if _CONNECTOR.match(connector_id) else None
        )
    if record is None:
        raise ApiError(
            404,
            "ApiNotFound",
            f"The API '{connector_id[:200]}' could not be found in environment '{env_name}'.",
        )
    return record


def _own(platform: Platform, env_name: str, oid: str, connector_id: str, name: str) -> Connection:
    _connector(platform, env_name, connector_id)
    with platform.state.lock:
        connection = platform.records.connections.get((env_name, connector_id, name))
    if connection is None or connection.owner != oid:
        raise ApiError(
            404,
            "ConnectionNotFound",
            f"The connection '{name[:128]}' could not be found for API '{connector_id}'.",
        )
    return connection


def view(platform: Platform, connection: Connection) -> dict[str, Any]:
    with platform.state.lock:
        record = platform.connector(connection.environment, connection.connector_id) or {}
        status: dict[str, Any] = {"status": connection.status}
        if connection.status != CONNECTED:
            status["target"] = "token"
            if connection.error is not None:
                status["error"] = dict(connection.error)
        api_id = f"/providers/Microsoft.PowerApps/apis/{connection.connector_id}"
        return {
            "name": connection.name,
            "id": f"{api_id}/connections/{connection.name}",
            "type": "Microsoft.PowerApps/apis/connections",
            "properties": {
                "apiId": api_id,
                "displayName": connection.display_name,
                "iconUri": record.get("properties", {}).get("iconUri", ""),
                "statuses": [status],
                "connectionParameters": {},
                "createdBy": {"id": connection.owner, "type": "User"},
                "createdTime": _stamp_at(platform, connection.created),
                "lastModifiedTime": _stamp_at(platform, connection.changed),
                "environment": {
                    "id": f"/providers/Microsoft.PowerApps/environments/{connection.environment}",
                    "name": connection.environment,
                },
            },
        }


def _stamp_at(platform: Platform, when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(when))


def _list(platform: Platform, env_name: str, oid: str, connector_id: str | None) -> Response:
    with platform.state.lock:
        mine = [
            c
            for c in platform.records.connections.values()
            if c.environment == env_name
            and c.owner == oid
            and (connector_id is None or c.connector_id == connector_id)
        ]
    for connection in mine:
        probe(platform, connection.key)
    return json_response(200, {"value": [view(platform, c) for c in mine]})


def _create(
    platform: Platform, request: Request, env_name: str, oid: str, connector_id: str, name: str
) -> Response:
    if not _NAME.match(name):
        raise ApiError(
            400, "InvalidConnectionName", "A connection name is 1-128 letters, digits, - or _."
        )
    record = _connector(platform, env_name, connector_id)
    body = _json_body(request)
    properties = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(properties, dict):
        raise ApiError(400, "InvalidRequestContent", "The body needs a 'properties' object.")
    body_env = properties.get("environment", {})
    body_env_name = body_env.get("name") if isinstance(body_env, dict) else None
    if body_env_name is not None and body_env_name != env_name:
        raise ApiError(
            400,
            "EnvironmentMismatch",
            "properties.environment.name differs from the $filter environment.",
        )
    parameters = properties.get("connectionParameters", {})
    if not isinstance(parameters, dict):
        raise ApiError(400, "InvalidRequestContent", "connectionParameters must be an object.")
    display = properties.get("displayName")
    if display is not None and not isinstance(display, str):
        raise ApiError(400, "InvalidRequestContent", "displayName must be a string.")
    now = platform.now()
    key = (env_name, connector_id, name)
    with platform.state.lock:
        existing = platform.records.connections.get(key)
        if existing is not None:
            if existing.owner != oid:  # U: the answer for another user's connection name
                raise ApiError(
                    409, "ConnectionAlreadyExists", f"The connection '{name}' already exists."
                )
            if display:
                existing.display_name = display[:200]
            existing.changed = now
            return json_response(200, view(platform, existing))
        connection = Connection(
            environment=env_name,
            connector_id=connector_id,
            name=name,
            owner=oid,
            display_name=(display or str(record["properties"].get("displayName", name)))[:200],
            created=now,
            changed=now,
        )
        platform.records.connections[key] = connection
    return json_response(201, view(platform, connection))


def _consent_link(
    platform: Platform, request: Request, env_name: str, oid: str, connector_id: str, name: str
) -> Response:
    connection = _own(platform, env_name, oid, connector_id, name)
    body = _json_body(request) if request.body.strip() else {}
    final = body.get("redirectUrl") if isinstance(body, dict) else None
    if final is not None and (
        not isinstance(final, str) or urlsplit(final).scheme not in ("http", "https")
    ):
        raise ApiError(400, "InvalidRequestContent", "redirectUrl must be an http(s) URL.")
    record = _connector(platform, env_name, connector_id)
    settings = grants.oauth_settings(record)
    if settings is None or not settings.authorization_url or not settings.redirect_url:
        raise ApiError(
            400,
            "ConnectorNotOAuth",  # U: code and wording
            "The connector has no OAuth connection parameter 'token' to sign in with.",
        )
    state = secrets.token_urlsafe(32)
    with platform.state.lock:
        platform.records.sessions[state] = ConsentSession(
            state=state,
            connection=connection.key,
            redirect_url=settings.redirect_url,
            final_url=final,
            expires_at=platform.now() + CONSENT_LINK_LIFETIME,
        )
    link = f"{platform.origins['consent']}/login?data={state}"
    return json_response(200, {"consentLink": link})


def _confirm(
    platform: Platform, request: Request, env_name: str, oid: str, connector_id: str, name: str
) -> Response:
    """The portal's way (T): the consent code the browser brought back finishes the sign-in."""
    connection = _own(platform, env_name, oid, connector_id, name)
    body = _json_body(request)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not code:
        raise ApiError(400, "InvalidRequestContent", "The body needs a 'code'.")
    with platform.state.lock:
        pending = platform.records.confirms.get(code)
        if pending is None or pending[0] != connection.key or pending[2] <= platform.now():
            raise ApiError(  # U: code and wording
                400, "InvalidConsentCode", "The consent code is not valid or has expired."
            )
        del platform.records.confirms[code]
        connection.connect(pending[1])
        connection.changed = platform.now()
    return json_response(200, view(platform, connection))


def fresh_grant(platform: Platform, key: tuple[str, str, str], *, force: bool) -> DocuSignGrant:
    """The connection's grant, refreshed at the connector's refresh URL when its access token
    ran out (or always with `force`); a failed refresh turns the connection Error. One refresh
    at a time per connection: a run and a read racing never send one refresh token twice."""
    with platform.state.lock:
        lock = platform.records.refresh_locks.setdefault(key, threading.Lock())
    with lock:
        return _fresh_grant(platform, key, force=force)


def _fresh_grant(platform: Platform, key: tuple[str, str, str], *, force: bool) -> DocuSignGrant:
    with platform.state.lock:
        connection = platform.records.connections.get(key)
        if connection is None:
            raise grants.GrantError("ConnectionNotFound", "The connection no longer exists.")
        if connection.grant is None:
            raise grants.GrantError(
                str((connection.error or {}).get("code", "Unauthenticated")),
                str((connection.error or {}).get("message", "The connection is not signed in.")),
            )
        grant = connection.grant
        now = platform.now()
        if not force and grant.access_expires_at > now:
            return grant
        record = platform.connector(connection.environment, connection.connector_id)
        settings = grants.oauth_settings(record) if record is not None else None
        client_auth = platform.records.switches.token_client_auth
    if settings is None:
        error = grants.GrantError("ApiNotFound", "The connection's connector no longer exists.")
    else:
        try:
            renewed = grants.refresh(settings, grant, now, client_auth, platform.ca_pem)
        except grants.GrantError as failure:
            error = failure
        else:
            with platform.state.lock:
                platform.records.keep(renewed)
                if connection.grant is grant:
                    connection.connect(renewed)
                    connection.changed = now
            return renewed
    with platform.state.lock:
        if connection.grant is grant:
            connection.fail(error.code, error.message)
            connection.grant = None
    raise error


def probe(platform: Platform, key: tuple[str, str, str]) -> None:
    """On read (switch `refresh_on_read`, U): a Connected connection whose access token ran out
    is refreshed now, so a dead grant shows as Error."""
    with platform.state.lock:
        connection = platform.records.connections.get(key)
        if (
            not platform.records.switches.refresh_on_read
            or connection is None
            or connection.status != CONNECTED
            or connection.grant is None
            or connection.grant.access_expires_at > platform.now()
        ):
            return
    with contextlib.suppress(grants.GrantError):  # a failure shows in the status now
        fresh_grant(platform, key, force=False)
