"""The Power Apps API (custom connectors per environment), the Flow API's environment list and
the blob storage that takes connector icons, as the reference table describes them.

Every Power Apps and Flow call needs `api-version=2016-11-01` and a bearer token this emulator's
Entra issued for `https://service.powerapps.com/` (the Flow API takes it too: paconn calls both
with one token). Errors have the ARM-like shape `{"error": {"code", "message"}}`; the codes and
wording are unconfirmed (our choice, in the style of Azure Resource Manager).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlsplit

from clmwizard.emulator.http_types import JSON_TYPE, Request, Response, json_response
from clmwizard.emulator.powerplatform import catalogue, swagger_rules
from clmwizard.emulator.powerplatform.state import (
    API_VERSION,
    FLOW_RESOURCE,
    POWER_APPS_RESOURCE,
    Blob,
    Container,
    Environment,
    PowerPlatformState,
    decode_jwt,
)

PREFIX = "/providers/Microsoft.PowerApps/"
FLOW_ENVIRONMENTS = "/providers/Microsoft.ProcessSimple/environments"
# T: the BAP list takes app-only tokens; served on the Flow origin here (the real host is
# https://api.bap.microsoft.com).
BAP_ENVIRONMENTS = "/providers/Microsoft.BusinessAppPlatform/environments"
BAP_API_VERSION = "2020-10-01"
REDIRECT_BASE = "https://global.consent.azure-apim.net/redirect"
_FILTER = re.compile(
    r"^environment eq '([A-Za-z0-9_-]{1,100})'( and IsCustomApi eq '(?:True|true)')?$"
)
_CONNECTOR_ID = re.compile(r"^[a-z0-9_-]{1,200}$")
_MAX_BLOB = 4 * 1024 * 1024
SAS_LIFETIME = 3600.0  # unconfirmed: how long the service's storage SAS stays valid
BLOB_VERSION = "2018-03-28"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def error_response(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})


# -- authentication ---------------------------------------------------------------------------


def _principal(state: PowerPlatformState, request: Request, audiences: tuple[str, ...]) -> str:
    """The object id of the caller's token, after checking signature, audience and expiry."""
    token = request.bearer_token()
    if token is None:
        raise ApiError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or not a Bearer token.",
        )
    claims = decode_jwt(token, state.signing_key)
    if claims is None:
        raise ApiError(
            401, "InvalidAuthenticationToken", "The access token is invalid (bad signature)."
        )
    if claims.get("aud") not in audiences:
        raise ApiError(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for the wrong audience or resource "
            f"'{str(claims.get('aud'))[:100]}'. It should exactly match one of the allowed "
            f"audiences: {', '.join(audiences)}.",
        )
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= state.clock.now():
        raise ApiError(401, "ExpiredAuthenticationToken", "The access token has expired.")
    return str(claims.get("oid", ""))


def _api_version(request: Request) -> None:
    version = request.param("api-version")
    if version is None:
        raise ApiError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version != API_VERSION:
        raise ApiError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version[:32]}' is invalid. The supported versions are "
            f"'{API_VERSION}'.",
        )


def _environment(state: PowerPlatformState, name: str, oid: str, *, write: bool) -> Environment:
    env = state.environments.get(name)
    if env is None:
        raise ApiError(
            404,
            "EnvironmentNotFound",
            f"The environment '{name}' could not be found in the tenant '{state.tenant}'.",
        )
    if not env.makers:
        # T: the code and wording reported from real tenants without a maker role.
        action = "Microsoft.PowerApps/apis/" + ("write" if write else "read")
        raise ApiError(
            403,
            "EnvironmentAccess",
            f"The user with object id '{oid}' does not have access to permission '{action}' "
            f"in environment '{name}'.",
        )
    return env


def _filter(request: Request) -> tuple[str | None, bool]:
    """(the environment of `$filter`, whether it asks for custom connectors only)."""
    raw = request.param("$filter")
    if raw is None:
        return None, False
    match = _FILTER.match(raw.strip())
    if not match:
        raise ApiError(
            400, "InvalidFilter", "The $filter must be of the form environment eq 'ENVIRONMENT'."
        )
    return match.group(1), match.group(2) is not None


def _filtered_environment(request: Request) -> str | None:
    return _filter(request)[0]


# -- the Power Apps API -----------------------------------------------------------------------


def handle_powerapps(state: PowerPlatformState, request: Request, blob_base: str) -> Response:
    try:
        _api_version(request)
        oid = _principal(state, request, (POWER_APPS_RESOURCE,))
        if not request.path.startswith(PREFIX):
            raise ApiError(404, "NotFound", "No such resource.")
        rest = request.path[len(PREFIX) :].strip("/").split("/")
        with state.lock:
            match (request.method, rest):
                case ("POST", ["objectIds", object_id, "validateApiSwagger"]):
                    _same_principal(object_id, oid)
                    return _validate(state, request)
                case ("POST", ["objectIds", object_id, "generateResourceStorage"]):
                    _same_principal(object_id, oid)
                    return _generate_storage(state, request, oid, blob_base)
                case ("GET", ["apis"]):
                    return _list(state, request, oid)
                case ("POST", ["apis"]):
                    return _create(state, request, oid, blob_base)
                case ("GET", ["apis", connector_id]):
                    return _get(state, request, oid, connector_id)
                case ("PATCH", ["apis", connector_id]):
                    return _update(state, request, oid, connector_id, blob_base)
                case ("DELETE", ["apis", connector_id]):
                    return _delete(state, request, oid, connector_id)
        raise ApiError(404, "NotFound", "No such resource.")
    except ApiError as failure:
        answer = error_response(failure.status, failure.code, failure.message)
        if failure.retry_after is not None:
            answer.headers.append(("Retry-After", str(failure.retry_after)))
        return answer


def _same_principal(object_id: str, oid: str) -> None:
    if object_id.lower() != oid.lower():  # unconfirmed: how the service treats another oid
        raise ApiError(
            403, "Forbidden", "The object id in the path is not the caller's own object id."
        )


def _json_body(request: Request) -> Any:
    if len(request.body) > 16 * 1024 * 1024:
        raise ApiError(413, "RequestEntityTooLarge", "The request body is too large.")
    try:
        return json.loads(request.body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "InvalidRequestContent", f"The body is not JSON: {error}") from None


def _validate(state: PowerPlatformState, request: Request) -> Response:
    swagger = _json_body(request)
    asked = (request.param("enableConnectorCertificationRules") or "").lower() == "true"
    found = swagger_rules.problems(swagger, certification=asked or state.certification_rules)
    found += state.api.validation_findings
    if not found:
        return Response(200, b"", [("Content-Type", JSON_TYPE)])
    if state.api.validation_format == "json":  # unconfirmed (U): a list of findings
        return json_response(200, [_finding(line) for line in found])
    # Unconfirmed (U): a JSON string with \r\n between problems (paconn unescapes it).
    return json_response(200, "\r\n".join(found))


def _finding(line: str) -> dict[str, str]:
    level, _, rest = line.partition(": ")
    if level not in ("Error", "Warning"):
        return {"message": line}
    where, _, message = rest.partition(": ")
    if not message:
        where, message = "", rest
    return {"level": level, "location": where, "message": message}


def _new_container(state: PowerPlatformState, name: str | None = None) -> Container:
    container = Container(
        account=state.storage_account,
        name=name or "api-" + secrets.token_hex(12),
        signature=base64.b64encode(secrets.token_bytes(32)).decode(),
        expires_at=state.clock.now() + SAS_LIFETIME,
    )
    state.containers[container.name] = container
    return container


def sas_query(container: Container, permissions: str = "rw") -> str:
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(container.expires_at))
    return (
        f"sv={BLOB_VERSION}&sr=c&sig={quote(container.signature, safe='')}"
        f"&se={quote(expiry, safe='')}&sp={permissions}"
    )


def _generate_storage(
    state: PowerPlatformState, request: Request, oid: str, blob_base: str
) -> Response:
    body = _json_body(request)
    env_name = body.get("environment", {}).get("name") if isinstance(body, dict) else None
    if not isinstance(env_name, str) or not env_name:
        raise ApiError(400, "InvalidRequestContent", "The body needs environment.name.")
    _environment(state, env_name, oid, write=True)
    container = _new_container(state)
    return json_response(
        200, {"sharedAccessSignature": f"{blob_base}/{container.name}?{sas_query(container)}"}
    )


def _encode_name(text: str) -> str:
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"-{b:02x}"
        for b in text.lower().encode("utf-8")
    )


def _connector_id(title: str) -> str:
    # unconfirmed: the real derivation; ids seen look like shared_<title>-5f<hex>.
    return f"shared_{_encode_name(title[:64])}-5f{secrets.token_hex(9)}"


def _check_properties(properties: Any, *, create: bool) -> dict[str, Any]:
    if not isinstance(properties, dict):
        raise ApiError(400, "InvalidRequestContent", "The body needs a 'properties' object.")
    swagger = properties.get("openApiDefinition")
    errors = [p for p in swagger_rules.problems(swagger, certification=False)]
    if errors:
        raise ApiError(400, "InvalidApiDefinition", "\r\n".join(errors))
    service_url = properties.get("backendService", {}).get("serviceUrl")
    if not isinstance(service_url, str) or not urlsplit(service_url).netloc:
        raise ApiError(
            400, "InvalidBackendService", "properties.backendService.serviceUrl is required."
        )
    if create and not isinstance(properties.get("displayName"), str):
        raise ApiError(400, "InvalidRequestContent", "properties.displayName is required.")
    return properties


def _take_secrets(properties: dict[str, Any]) -> dict[str, str]:
    """Remove the OAuth client secrets from the properties; they are kept apart."""
    found: dict[str, str] = {}
    parameters = properties.get("connectionParameters")
    if isinstance(parameters, dict):
        for name, parameter in parameters.items():
            settings = parameter.get("oAuthSettings") if isinstance(parameter, dict) else None
            if isinstance(settings, dict) and "clientSecret" in settings:
                secret = settings.pop("clientSecret")
                if isinstance(secret, str) and secret:
                    found[name] = secret
    return found


def _oauth_parameters(properties: dict[str, Any]) -> list[str]:
    parameters = properties.get("connectionParameters")
    if not isinstance(parameters, dict):
        return []
    return [
        name
        for name, parameter in parameters.items()
        if isinstance(parameter, dict) and parameter.get("type") == "oauthSetting"
    ]


def _set_redirect_urls(state: PowerPlatformState, record: dict[str, Any]) -> None:
    # unconfirmed: where the service reports the per-connector redirect URL; here it is
    # oAuthSettings.redirectUrl of the stored connector, derived from the connector id. The
    # base is the emulator's consent origin (state.redirect_base), so the URL resolves here.
    derived = record["name"].removeprefix("shared_")
    for parameter in record["properties"].get("connectionParameters", {}).values():
        settings = parameter.get("oAuthSettings") if isinstance(parameter, dict) else None
        if isinstance(settings, dict):
            if settings.get("redirectMode", "Global") == "Global" and (
                state.api.global_as_per_connector  # T: Global is stored as GlobalPerConnector
            ):
                settings["redirectMode"] = "GlobalPerConnector"
            if settings.get("redirectMode") == "GlobalPerConnector":
                settings["redirectUrl"] = f"{state.redirect_base}/{derived}"
            elif settings.get("redirectMode", "Global") == "Global":
                settings["redirectUrl"] = state.redirect_base


def _store_swagger(state: PowerPlatformState, record: dict[str, Any], blob_base: str) -> None:
    container = state.containers.get("api-swagger-files") or _new_container(
        state, "api-swagger-files"
    )
    container.expires_at = state.clock.now() + 365 * 86400
    blob_name = f"{record['name']}.json"
    content = json.dumps(record["properties"]["openApiDefinition"]).encode()
    container.blobs[blob_name] = _blob(content, "application/json", state.clock.now())
    url = f"{blob_base}/{container.name}/{blob_name}?{sas_query(container, 'r')}"
    record["properties"]["apiDefinitions"] = {
        "originalSwaggerUrl": url,
        "modifiedSwaggerUrl": url,
    }


def _stamp(state: PowerPlatformState) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(state.clock.now()))


def _create(state: PowerPlatformState, request: Request, oid: str, blob_base: str) -> Response:
    env_name = _filtered_environment(request)
    if env_name is None:
        raise ApiError(400, "MissingEnvironmentFilter", "Create needs $filter=environment eq.")
    env = _environment(state, env_name, oid, write=True)
    body = _json_body(request)
    properties = _check_properties(
        body.get("properties") if isinstance(body, dict) else None, create=True
    )
    body_env = properties.get("environment", {}).get("name")
    if body_env is not None and body_env != env_name:
        raise ApiError(
            400,
            "EnvironmentMismatch",
            "properties.environment.name differs from the $filter environment.",
        )
    properties = copy.deepcopy(properties)
    client_secrets = _take_secrets(properties)
    missing = [p for p in _oauth_parameters(properties) if p not in client_secrets]
    if missing:  # unconfirmed: the portal insists; whether the API does is not known
        raise ApiError(
            400,
            "MissingClientSecret",
            f"The OAuth connection parameter '{missing[0]}' needs oAuthSettings.clientSecret.",
        )
    connector_id = _connector_id(properties["displayName"])
    properties.update(
        {
            "environment": {
                "name": env_name,
                "id": f"/providers/Microsoft.PowerApps/environments/{env_name}",
            },
            "isCustomApi": True,
            "createdTime": _stamp(state),
            "changedTime": _stamp(state),
            "createdBy": {"id": oid, "type": "User"},
        }
    )
    record = {
        "name": connector_id,
        "id": f"/providers/Microsoft.PowerApps/apis/{connector_id}",
        "type": "Microsoft.PowerApps/apis",
        "properties": properties,
        "clientSecrets": client_secrets,
    }
    _set_redirect_urls(state, record)
    _store_swagger(state, record, blob_base)
    env.connectors[connector_id] = record
    return json_response(201, public_view(record))  # unconfirmed: 201 rather than 200


def _find(
    state: PowerPlatformState, request: Request, oid: str, connector_id: str, *, write: bool
) -> tuple[Environment, dict[str, Any]]:
    env_name = _filtered_environment(request)
    if env_name is None or not _CONNECTOR_ID.match(connector_id):
        raise ApiError(404, "ApiNotFound", f"The API '{connector_id[:200]}' could not be found.")
    env = _environment(state, env_name, oid, write=write)
    record = env.connectors.get(connector_id)
    if record is None:
        raise ApiError(
            404,
            "ApiNotFound",
            f"The API '{connector_id}' could not be found in environment '{env_name}'.",
        )
    return env, record


def _update(
    state: PowerPlatformState, request: Request, oid: str, connector_id: str, blob_base: str
) -> Response:
    _, record = _find(state, request, oid, connector_id, write=True)
    body = _json_body(request)
    sent = body.get("properties") if isinstance(body, dict) else None
    if isinstance(sent, dict) and "displayName" in sent and state.api.refuse_display_name_update:
        raise ApiError(  # T: reported from real tenants; paconn never sends displayName
            400,
            "CannotUpdateApiDisplayName",
            "The display name of a custom API cannot be updated.",
        )
    properties = _check_properties(
        body.get("properties") if isinstance(body, dict) else None, create=False
    )
    properties = copy.deepcopy(properties)
    client_secrets = _take_secrets(properties)
    stored = record["properties"]
    # unconfirmed: an update without displayName keeps the old one (paconn never sends it).
    properties.setdefault("displayName", stored.get("displayName"))
    for key in ("environment", "isCustomApi", "createdTime", "createdBy"):
        properties[key] = stored[key]
    properties["changedTime"] = _stamp(state)
    record["properties"] = properties
    # unconfirmed: a PATCH without a client secret keeps the stored one.
    record["clientSecrets"] = {
        name: client_secrets.get(name) or record["clientSecrets"].get(name, "")
        for name in _oauth_parameters(properties)
    }
    _set_redirect_urls(state, record)
    _store_swagger(state, record, blob_base)
    match state.api.patch_answer:  # U: paconn never reads this answer
        case "empty":
            return Response(200, b"")
        case "204":
            return Response(204, b"")
    return json_response(200, public_view(record))


def _get(state: PowerPlatformState, request: Request, oid: str, connector_id: str) -> Response:
    _, record = _find(state, request, oid, connector_id, write=False)
    return json_response(200, public_view(record))


def _delete(state: PowerPlatformState, request: Request, oid: str, connector_id: str) -> Response:
    env, _ = _find(state, request, oid, connector_id, write=True)
    del env.connectors[connector_id]
    return Response(200, b"")


def _list(state: PowerPlatformState, request: Request, oid: str) -> Response:
    env_name, custom_only = _filter(request)
    offset = catalogue.offset_of(request.param("$skiptoken"))
    if offset is None:
        raise ApiError(400, "InvalidSkipToken", "The $skiptoken is not valid.")
    entries: list[dict[str, Any]] = []
    if not (custom_only and state.api.honour_custom_filter):
        entries += catalogue.managed()
    if env_name is not None:  # custom connectors only when filtered by environment
        env = _environment(state, env_name, oid, write=False)
        entries += [public_view(record) for record in env.connectors.values()]
    query = {k: v[0] for k, v in request.query.items() if k != "$skiptoken" and v}
    answer = catalogue.page(
        entries, offset, state.api.page_size, f"{request.base_url}{request.path}", query
    )
    return json_response(200, answer)


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """A stored connector as the API answers it: the client secrets are never returned
    (unconfirmed, but the portal never shows them either), the swagger by URL only."""
    properties = {k: v for k, v in record["properties"].items() if k != "openApiDefinition"}
    return {
        "name": record["name"],
        "id": record["id"],
        "type": record["type"],
        "properties": copy.deepcopy(properties),
    }


# -- the Flow API -----------------------------------------------------------------------------


def _is_app(state: PowerPlatformState, request: Request) -> bool:
    claims = decode_jwt(request.bearer_token() or "", state.signing_key) or {}
    return claims.get("idtyp") == "app"


def _environment_list(state: PowerPlatformState, type_name: str, base: str) -> Response:
    with state.lock:
        value = [
            {
                "name": env.name,
                "id": f"{base}/{env.name}",
                "type": type_name,
                "location": "europe",
                "properties": {
                    "displayName": env.display_name,
                    "isDefault": env.name.startswith("Default-"),
                },
            }
            for env in state.environments.values()
        ]
    return json_response(200, {"value": value})


def _bap_environments(state: PowerPlatformState, request: Request) -> Response:
    """The admin list (T): app-only tokens welcome, its own api-version."""
    if request.param("api-version") != BAP_API_VERSION:
        raise ApiError(400, "InvalidApiVersionParameter", f"Use api-version={BAP_API_VERSION}.")
    _principal(state, request, (POWER_APPS_RESOURCE, FLOW_RESOURCE))
    return _environment_list(state, "Microsoft.BusinessAppPlatform/environments", BAP_ENVIRONMENTS)


def handle_flow(state: PowerPlatformState, request: Request) -> Response:
    try:
        path = request.path.rstrip("/")
        if request.method == "GET" and path == BAP_ENVIRONMENTS:
            return _bap_environments(state, request)
        _api_version(request)
        _principal(state, request, (POWER_APPS_RESOURCE, FLOW_RESOURCE))
        if request.method != "GET" or path != FLOW_ENVIRONMENTS:
            raise ApiError(404, "NotFound", "No such resource.")
        if state.api.flow_refuses_app_tokens and _is_app(state, request):
            raise ApiError(  # T: reported for service principals; code and words are ours
                403,
                "Forbidden",
                "The Flow API does not accept app-only (service principal) tokens for listing "
                "environments.",
            )
        with state.lock:
            value = [
                {
                    "name": env.name,
                    "id": f"{FLOW_ENVIRONMENTS}/{env.name}",
                    "type": "Microsoft.ProcessSimple/environments",
                    "location": "europe",
                    "properties": {
                        "displayName": env.display_name,
                        "isDefault": env.name.startswith("Default-"),
                        "environmentSku": "Sandbox"
                        if not env.name.startswith("Default-")
                        else "Default",
                    },
                }
                for env in state.environments.values()
            ]
        return json_response(200, {"value": value})
    except ApiError as failure:
        return error_response(failure.status, failure.code, failure.message)


# -- blob storage -----------------------------------------------------------------------------


def _blob(content: bytes, content_type: str, now: float) -> Blob:
    return Blob(content, content_type, f'"0x{secrets.token_hex(8).upper()}"', now)


def storage_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{code}</Code><Message>{message}\nRequestId:{secrets.token_hex(16)}\n"
        f"Time:{time.strftime('%Y-%m-%dT%H:%M:%S.0000000Z', time.gmtime())}</Message></Error>"
    ).encode()
    return Response(
        status,
        body,
        [
            ("Content-Type", "application/xml"),
            ("x-ms-error-code", code),
            ("x-ms-version", BLOB_VERSION),
        ],
    )


def blob_location(state: PowerPlatformState, request: Request) -> tuple[str, str] | None:
    """(container, blob name) from a path-style or a `<account>.blob.<suffix>` request."""
    host = request.header("host").split(":")[0].lower()
    parts = request.path.strip("/").split(
        "/", 2 if not host.startswith(state.storage_account + ".blob.") else 1
    )
    if not host.startswith(state.storage_account + ".blob."):
        if len(parts) < 3 or parts[0] != state.storage_account:
            return None
        parts = parts[1:]
    if len(parts) != 2 or not parts[1]:
        return None
    return parts[0], parts[1]


# The SAS permission (a letter of `sp`) each blob verb needs: w to put a blob, r to read one.
_SAS_PERMISSION = {"PUT": "w", "GET": "r", "HEAD": "r"}


def handle_blob(state: PowerPlatformState, request: Request) -> Response:
    location = blob_location(state, request)
    if location is None:
        return storage_error(400, "InvalidUri", "The requested URI does not represent a blob.")
    container_name, blob_name = location
    with state.lock:
        container = state.containers.get(container_name)
        if container is None:
            return storage_error(
                404, "ContainerNotFound", "The specified container does not exist."
            )
        signature = request.param("sig") or ""
        permissions = request.param("sp") or ""
        if not secrets.compare_digest(signature.encode(), container.signature.encode()):
            return storage_error(
                403,
                "AuthenticationFailed",
                "Server failed to authenticate "
                "the request. Make sure the value of Authorization header is "
                "formed correctly including the signature.",
            )
        if state.clock.now() >= container.expires_at:
            return storage_error(403, "AuthenticationFailed", "Signed expiry time has passed.")
        now = state.clock.now()
        needed = _SAS_PERMISSION.get(request.method)
        if needed is not None and needed not in permissions:
            return storage_error(
                403,
                "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.",
            )
        if request.method == "PUT":
            if request.header("x-ms-blob-type") != "BlockBlob":
                return storage_error(
                    400,
                    "MissingRequiredHeader",
                    "An HTTP header that's mandatory for this request is not specified.",
                )
            if len(request.body) > _MAX_BLOB:
                return storage_error(413, "RequestBodyTooLarge", "The request body is too large.")
            content_type = (
                request.header("x-ms-blob-content-type")
                or request.header("content-type")
                or "application/octet-stream"
            )
            blob = _blob(request.body, content_type, now)
            container.blobs[blob_name] = blob
            return Response(201, b"", _blob_headers(blob))
        if request.method in ("GET", "HEAD"):
            found = container.blobs.get(blob_name)
            if found is None:
                return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
            headers = [
                *_blob_headers(found),
                ("Content-Type", found.content_type),
                ("x-ms-blob-type", "BlockBlob"),
            ]
            return Response(200, found.content if request.method == "GET" else b"", headers)
    return storage_error(405, "UnsupportedHttpVerb", "The resource doesn't support the verb.")


def _blob_headers(blob: Blob) -> list[tuple[str, str]]:
    md5 = base64.b64encode(hashlib.md5(blob.content).digest()).decode()
    return [
        ("ETag", blob.etag),
        ("Last-Modified", formatdate(blob.last_modified, usegmt=True)),
        ("Content-MD5", md5),
        ("x-ms-request-id", secrets.token_hex(16)),
        ("x-ms-version", BLOB_VERSION),
        ("x-ms-request-server-encrypted", "true"),
    ]
