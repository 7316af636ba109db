"""Our own checks of a connector bundle before anything is written.

paconn and pac validate only by sending files to a Microsoft service, and Microsoft's JSON
schemas are stale, so these checks encode what the importers need (a `token` oauthSetting
parameter, Swagger 2.0, a host without scheme, …) and the certification string rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clmwizard.connector.properties import (
    API_DEFINITION_FILE,
    API_PROPERTIES_FILE,
    ICON_FILE,
    SETTINGS_FILE,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_ICON_BYTES = 1_000_000
FORBIDDEN_SUMMARY_CHARACTERS = set("/\\<>*%&?")
FORBIDDEN_PRODUCT_NAMES = ("power apps", "powerapps", "power automate", "logic apps", "logicapps")
FORBIDDEN_BRAND_COLORS = {"#007ee5", "#ffffff"}
VISIBILITIES = {"important", "advanced", "internal"}
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_PASCAL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_HOST = re.compile(r"^[^{}/ :\\]+(?::\d+)?$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PATH_TEMPLATE = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Problem:
    file: str  # relative path in the bundle
    pointer: str  # JSON pointer of the field, "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file} {self.pointer}" if self.pointer else self.file
        return f"{where}: {self.message}"


def _pointer(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _ends_in_punctuation(text: str) -> bool:
    return bool(text) and not text[-1].isalnum()


def _load_json(name: str, data: bytes) -> tuple[Any, list[Problem]]:
    problems = []
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(name, "", "starts with a byte-order mark; paconn cannot read it"))
    try:
        return json.loads(data.decode("utf-8")), problems
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [*problems, Problem(name, "", f"is not valid UTF-8 JSON ({error})")]


def _resolve(swagger: Mapping[str, Any], schema: Any) -> Any:
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and seen < 20:
        name = str(schema["$ref"]).removeprefix("#/definitions/")
        schema = swagger.get("definitions", {}).get(name)
        seen += 1
    return schema


def _check_info(name: str, info: Any) -> Iterator[Problem]:
    if not isinstance(info, Mapping):
        yield Problem(name, "/info", "is missing")
        return
    title = info.get("title")
    if not isinstance(title, str) or not title:
        yield Problem(name, "/info/title", "is missing")
    else:
        if len(title) > 30:
            yield Problem(name, "/info/title", f"is {len(title)} characters; at most 30")
        if re.search(r"\b(api|connector)\b", title, re.IGNORECASE):
            yield Problem(name, "/info/title", 'must not contain "API" or "connector"')
        if _ends_in_punctuation(title):
            yield Problem(name, "/info/title", "must not end with punctuation")
    description = info.get("description")
    if not isinstance(description, str) or not 30 <= len(description) <= 500:
        yield Problem(name, "/info/description", "must be 30 to 500 characters")
    elif any(product in description.lower() for product in FORBIDDEN_PRODUCT_NAMES):
        yield Problem(
            name, "/info/description", "must not name Power Apps, Power Automate or Logic Apps"
        )
    if not info.get("version"):
        yield Problem(name, "/info/version", "is missing")


def _check_parameter(
    name: str, pointer: str, parameter: Any, path_names: set[str]
) -> Iterator[Problem]:
    if not isinstance(parameter, Mapping):
        yield Problem(name, pointer, "is not an object")
        return
    for key in ("x-ms-summary", "description"):
        if not parameter.get(key):
            yield Problem(name, f"{pointer}/{key}", "is missing")
    visibility = parameter.get("x-ms-visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        yield Problem(name, f"{pointer}/x-ms-visibility", f"{visibility!r} is not allowed")
    if visibility == "internal" and parameter.get("required") and "default" not in parameter:
        yield Problem(name, f"{pointer}/default", "a required internal parameter needs one")
    if parameter.get("in") == "path":
        if parameter.get("required") is not True:
            yield Problem(name, f"{pointer}/required", "path parameters must be required")
        if parameter.get("x-ms-url-encoding") not in ("single", "double"):
            yield Problem(name, f"{pointer}/x-ms-url-encoding", "path parameters need it")
        if parameter.get("name") not in path_names:
            yield Problem(name, f"{pointer}/name", "is not in the path")
    if parameter.get("in") == "body" and "schema" not in parameter:
        yield Problem(name, f"{pointer}/schema", "body parameters need a schema")


def _check_operation(
    name: str, swagger: Mapping[str, Any], path: str, method: str, operation: Any
) -> Iterator[Problem]:
    pointer = _pointer("paths", path, method)
    if not isinstance(operation, Mapping):
        yield Problem(name, pointer, "is not an object")
        return
    operation_id = operation.get("operationId")
    if not isinstance(operation_id, str) or not _PASCAL_CASE.match(operation_id):
        yield Problem(name, f"{pointer}/operationId", "must be PascalCase without - or _")
    summary = operation.get("summary")
    if not isinstance(summary, str) or not summary:
        yield Problem(name, f"{pointer}/summary", "is missing")
    else:
        if len(summary) > 80:
            yield Problem(name, f"{pointer}/summary", "is longer than 80 characters")
        if FORBIDDEN_SUMMARY_CHARACTERS & set(summary):
            yield Problem(name, f"{pointer}/summary", "must not contain / \\ < > * % & ?")
        if _ends_in_punctuation(summary):
            yield Problem(name, f"{pointer}/summary", "must not end with punctuation")
    description = operation.get("description")
    if not isinstance(description, str) or not description.endswith("."):
        yield Problem(name, f"{pointer}/description", "must be a sentence ending with a period")
    elif description == summary:
        yield Problem(name, f"{pointer}/description", "must differ from the summary")
    if operation.get("x-ms-visibility") not in VISIBILITIES:
        yield Problem(name, f"{pointer}/x-ms-visibility", "must be important, advanced or internal")
    path_names = set(_PATH_TEMPLATE.findall(path))
    declared = set()
    for index, parameter in enumerate(operation.get("parameters", [])):
        yield from _check_parameter(name, f"{pointer}/parameters/{index}", parameter, path_names)
        if isinstance(parameter, Mapping) and parameter.get("in") == "path":
            declared.add(parameter.get("name"))
    for missing in sorted(path_names - declared):
        yield Problem(name, f"{pointer}/parameters", f"path parameter {missing} is not declared")
    responses = operation.get("responses")
    if not isinstance(responses, Mapping) or not responses:
        yield Problem(name, f"{pointer}/responses", "every operation needs responses")
        return
    successes = {
        str(status): response
        for status, response in responses.items()
        if str(status).startswith("2") and isinstance(response, Mapping)
    }
    # An action that answers without a body (delete, stop, unlock) declares 204 among its
    # statuses and no schema at all.
    bodiless = "204" in successes and all("schema" not in r for r in successes.values())
    for status, response in successes.items():
        if "schema" not in response:
            if status != "204" and not bodiless:
                yield Problem(name, f"{pointer}/responses/{status}", "needs a schema")
            continue
        schema = _resolve(swagger, response["schema"])
        if not isinstance(schema, Mapping):
            yield Problem(name, f"{pointer}/responses/{status}/schema", "does not resolve")
        elif schema.get("type") == "array":
            if not isinstance(_resolve(swagger, schema.get("items")), Mapping):
                yield Problem(name, f"{pointer}/responses/{status}/schema", "items do not resolve")
        elif schema.get("type") != "string" and not schema.get("properties"):
            yield Problem(
                name,
                f"{pointer}/responses/{status}/schema",
                "needs properties so the flow designer offers the fields",
            )


def check_swagger(name: str, swagger: Any) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(swagger, Mapping):
        return [Problem(name, "", "is not a JSON object")]
    if swagger.get("swagger") != "2.0":
        problems.append(Problem(name, "/swagger", 'must be "2.0" (not OpenAPI 3)'))
    problems.extend(_check_info(name, swagger.get("info")))
    host = swagger.get("host")
    if not isinstance(host, str) or not _HOST.match(host):
        problems.append(Problem(name, "/host", "must be a host name without scheme or slash"))
    base_path = swagger.get("basePath")
    if not isinstance(base_path, str) or not base_path.startswith("/"):
        problems.append(Problem(name, "/basePath", "must start with /"))
    schemes = swagger.get("schemes")
    if not isinstance(schemes, list) or not schemes or set(schemes) - {"http", "https"}:
        problems.append(Problem(name, "/schemes", 'must be ["https"] (or ["http"] on loopback)'))
    definitions = swagger.get("securityDefinitions")
    oauth = [
        (key, value)
        for key, value in (definitions.items() if isinstance(definitions, Mapping) else [])
        if isinstance(value, Mapping) and value.get("type") == "oauth2"
    ]
    if not oauth:
        problems.append(Problem(name, "/securityDefinitions", "needs an oauth2 definition"))
    for key, value in oauth:
        if value.get("flow") != "accessCode":
            problems.append(
                Problem(name, _pointer("securityDefinitions", key, "flow"), "must be accessCode")
            )
        for url in ("authorizationUrl", "tokenUrl"):
            if not str(value.get(url, "")).startswith(("https://", "http://")):
                problems.append(
                    Problem(name, _pointer("securityDefinitions", key, url), "must be a URL")
                )
    metadata = swagger.get("x-ms-connector-metadata")
    names = {
        item.get("propertyName")
        for item in (metadata if isinstance(metadata, list) else [])
        if isinstance(item, Mapping) and item.get("propertyValue")
    }
    for wanted in ("Website", "Privacy policy", "Categories"):
        if wanted not in names:
            problems.append(Problem(name, "/x-ms-connector-metadata", f"needs {wanted}"))
    paths = swagger.get("paths")
    if not isinstance(paths, Mapping) or not paths:
        problems.append(Problem(name, "/paths", "has no operations"))
        return problems
    seen: dict[str, str] = {}
    for path, item in paths.items():
        if not str(path).startswith("/"):
            problems.append(Problem(name, _pointer("paths", path), "must start with /"))
        for method in METHODS:
            operation = (item or {}).get(method) if isinstance(item, Mapping) else None
            if operation is None:
                continue
            problems.extend(_check_operation(name, swagger, path, method, operation))
            operation_id = operation.get("operationId") if isinstance(operation, Mapping) else None
            if isinstance(operation_id, str):
                if operation_id in seen:
                    problems.append(
                        Problem(
                            name,
                            _pointer("paths", path, method, "operationId"),
                            f"{operation_id} is also used by {seen[operation_id]}",
                        )
                    )
                seen[operation_id] = f"{method.upper()} {path}"
    return problems


def operation_ids(swagger: Any) -> set[str]:
    ids = set()
    for item in (swagger.get("paths") or {}).values() if isinstance(swagger, Mapping) else []:
        for method in METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if isinstance(operation, Mapping) and isinstance(operation.get("operationId"), str):
                ids.add(operation["operationId"])
    return ids


def check_api_properties(name: str, document: Any, known_operations: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    properties = document.get("properties") if isinstance(document, Mapping) else None
    if not isinstance(properties, Mapping):
        return [Problem(name, "/properties", "is missing")]
    color = properties.get("iconBrandColor")
    if not isinstance(color, str) or not _COLOR.match(color):
        problems.append(Problem(name, "/properties/iconBrandColor", "must be a #rrggbb colour"))
    elif color.lower() in FORBIDDEN_BRAND_COLORS:
        problems.append(
            Problem(name, "/properties/iconBrandColor", f"{color} is refused by certification")
        )
    if "stackOwner" in properties:
        problems.append(
            Problem(name, "/properties/stackOwner", "makes `paconn create` fail; leave it out")
        )
    token = (properties.get("connectionParameters") or {}).get("token")
    pointer = "/properties/connectionParameters/token"
    if not isinstance(token, Mapping):
        problems.append(
            Problem(name, pointer, "paconn needs the OAuth connection parameter named token")
        )
        return problems
    if token.get("type") != "oauthSetting":
        problems.append(Problem(name, f"{pointer}/type", "must be oauthSetting"))
    settings = token.get("oAuthSettings")
    if not isinstance(settings, Mapping):
        problems.append(Problem(name, f"{pointer}/oAuthSettings", "is missing"))
        return problems
    pointer += "/oAuthSettings"
    if settings.get("identityProvider") != "oauth2":
        problems.append(
            Problem(name, f"{pointer}/identityProvider", "must be oauth2 (not oauth2generic)")
        )
    if settings.get("clientSecret"):
        problems.append(Problem(name, f"{pointer}/clientSecret", "no secret may be written"))
    if not settings.get("clientId"):
        problems.append(Problem(name, f"{pointer}/clientId", "is missing"))
    scopes = settings.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        problems.append(Problem(name, f"{pointer}/scopes", "must be a list of scopes"))
    if settings.get("redirectMode") not in ("GlobalPerConnector", "Global", "Direct"):
        problems.append(Problem(name, f"{pointer}/redirectMode", "must be GlobalPerConnector"))
    custom = settings.get("customParameters")
    for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
        entry = custom.get(key) if isinstance(custom, Mapping) else None
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            problems.append(Problem(name, f"{pointer}/customParameters/{key}/value", "is missing"))
    if (settings.get("properties") or {}).get("IsFirstParty") != "False":
        problems.append(Problem(name, f"{pointer}/properties/IsFirstParty", 'must be "False"'))
    for index, instance in enumerate(properties.get("policyTemplateInstances") or []):
        parameters = instance.get("parameters") if isinstance(instance, Mapping) else None
        names = (parameters or {}).get("x-ms-apimTemplate-operationName") or []
        for unknown in sorted(set(names) - known_operations):
            problems.append(
                Problem(
                    name,
                    f"/properties/policyTemplateInstances/{index}/parameters",
                    f"names {unknown}, which the swagger does not define",
                )
            )
    return problems


def check_settings(
    name: str, settings: Any, folder: str, files: Mapping[str, bytes]
) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(settings, Mapping):
        return [Problem(name, "", "is not a JSON object")]
    for key in ("apiDefinition", "apiProperties", "icon"):
        target = settings.get(key)
        if not isinstance(target, str) or f"{folder}/{target}".lstrip("/") not in files:
            problems.append(Problem(name, f"/{key}", "does not name a file of the bundle"))
    environment = settings.get("environment")
    if environment is not None and not (isinstance(environment, str) and _GUID.match(environment)):
        problems.append(Problem(name, "/environment", "must be an environment GUID"))
    if settings.get("powerAppsApiVersion", "2016-11-01") != "2016-11-01":
        problems.append(Problem(name, "/powerAppsApiVersion", "must be 2016-11-01"))
    return problems


def validate_bundle(files: Mapping[str, bytes]) -> list[Problem]:
    """Every problem found in a bundle given as relative path → bytes."""
    problems: list[Problem] = []
    if "README.md" not in files:
        problems.append(Problem("README.md", "", "is missing"))
    folders = list(  # in bundle order, so the first problem is the first a reader meets
        dict.fromkeys(
            path.rsplit("/", 1)[0] for path in files if path.endswith("/" + API_DEFINITION_FILE)
        )
    )
    if not folders:
        problems.append(Problem(API_DEFINITION_FILE, "", "no connector folder in the bundle"))
    for name, data in files.items():
        if name.endswith(".json"):
            if not data.endswith(b"\n"):
                problems.append(Problem(name, "", "must end with a newline"))
            _, found = _load_json(name, data)
            problems.extend(found)
    for folder in folders:
        for required in (API_PROPERTIES_FILE, ICON_FILE, SETTINGS_FILE):
            if f"{folder}/{required}" not in files:
                problems.append(Problem(f"{folder}/{required}", "", "is missing"))
        swagger_name = f"{folder}/{API_DEFINITION_FILE}"
        swagger, _ = _load_json(swagger_name, files[swagger_name])
        if swagger is not None:
            problems.extend(check_swagger(swagger_name, swagger))
        properties_name = f"{folder}/{API_PROPERTIES_FILE}"
        if properties_name in files:
            document, _ = _load_json(properties_name, files[properties_name])
            if document is not None:
                problems.extend(
                    check_api_properties(properties_name, document, operation_ids(swagger))
                )
        settings_name = f"{folder}/{SETTINGS_FILE}"
        if settings_name in files:
            settings, _ = _load_json(settings_name, files[settings_name])
            if settings is not None:
                problems.extend(check_settings(settings_name, settings, folder, files))
        icon_name = f"{folder}/{ICON_FILE}"
        icon = files.get(icon_name)
        if icon is not None and not icon.startswith(PNG_SIGNATURE):
            problems.append(Problem(icon_name, "", "is not a PNG file"))
        elif icon is not None and len(icon) > MAX_ICON_BYTES:
            problems.append(Problem(icon_name, "", "is larger than 1 MB"))
    return problems
