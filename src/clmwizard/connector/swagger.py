"""Build apiDefinition.swagger.json (Swagger 2.0) from the operation catalogue and a profile."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from clmwizard.connector.operations import (
    ACCOUNT_ID,
    DEFINITIONS,
    OPERATIONS,
    Operation,
    Parameter,
    swagger_paths,
)
from clmwizard.connector.properties import oauth_urls
from clmwizard.connector.urls import BaseUrl, require_signed_in
from clmwizard.store.profile import ConnectorName, Profile

SECURITY_NAME = "oauth2-auth"
WEBSITE = "https://www.docusign.com/products/clm"
PRIVACY_POLICY = "https://www.docusign.com/privacy"
CATEGORIES = "Content and Files;Productivity"

_ENVIRONMENT_LABEL = {"demo": "Demo", "production": "", "custom": "Test"}
_CONNECTOR_LABEL = {"general": "", "upload": "Upload", "download": "Download"}
_CONNECTOR_PURPOSE = {
    "general": "folders, documents and their attributes, workflows and Doc Launcher",
    "upload": "uploading files into CLM folders (the CLM upload host)",
    "download": "downloading document content (the CLM download host)",
}


def connector_title(profile: Profile, connector: ConnectorName | None) -> str:
    """The connector's display name, e.g. "DocuSign CLM Demo Upload" (≤ 30 characters)."""
    words = ["DocuSign CLM", _ENVIRONMENT_LABEL.get(profile.environment, "")]
    if connector is not None:
        words.append(_CONNECTOR_LABEL[connector])
    return " ".join(word for word in words if word)


def connector_description(connector: ConnectorName | None) -> str:
    if connector is None:
        purpose = (
            "folders, documents and their attributes, workflows, Doc Launcher, uploads and "
            "downloads; upload and download calls are routed to their own CLM hosts"
        )
    else:
        purpose = _CONNECTOR_PURPOSE[connector]
    return (
        f"DocuSign CLM (contract lifecycle management) actions for {purpose}. "
        "Signs in with your DocuSign integration key through OAuth 2.0."
    )


def _parameter(parameter: Parameter, account_id: str) -> dict[str, Any]:
    result: dict[str, Any] = {"name": parameter.name, "in": parameter.location}
    result["required"] = True if parameter.location == "path" else parameter.required
    if parameter.location == "body":
        assert parameter.schema is not None
        result["schema"] = dict(parameter.schema)
    else:
        result["type"] = parameter.type
        if parameter.format:
            result["format"] = parameter.format
    if parameter.name == ACCOUNT_ID and parameter.location == "path":
        result["default"] = account_id
    elif parameter.default is not None:
        result["default"] = parameter.default
    if parameter.enum:
        result["enum"] = list(parameter.enum)
    result["x-ms-summary"] = parameter.summary
    result["description"] = parameter.description
    if parameter.visibility:
        result["x-ms-visibility"] = parameter.visibility
    if parameter.location == "path":
        result["x-ms-url-encoding"] = "single"
    return result


def _operation(operation: Operation, account_id: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": operation.description,
        "x-ms-visibility": operation.visibility,
    }
    if operation.consumes:
        result["consumes"] = list(operation.consumes)
    if operation.produces:
        result["produces"] = list(operation.produces)
    result["parameters"] = [_parameter(p, account_id) for p in operation.parameters]
    responses: dict[str, Any] = {}
    for status in sorted(operation.statuses):
        success: dict[str, Any] = {"description": operation.response_description}
        if operation.response is not None and status != 204:
            success["schema"] = dict(operation.response)
        responses[str(status)] = success
    responses["default"] = {"description": "CLM error", "schema": {"$ref": "#/definitions/Error"}}
    result["responses"] = responses
    return result


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            yield ref.removeprefix("#/definitions/")
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _refs(item)


def _definitions(paths: Mapping[str, Any]) -> dict[str, Any]:
    """The definitions the paths use, transitively, in catalogue order."""
    wanted: set[str] = set()
    pending = list(_refs(paths))
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(_refs(DEFINITIONS[name]))
    return {name: schema for name, schema in DEFINITIONS.items() if name in wanted}


def build_swagger(
    profile: Profile,
    connector: ConnectorName | None,
    operations: Sequence[Operation] | None = None,
) -> dict[str, Any]:
    """The swagger of one connector (`connector=None`: the single routed connector)."""
    account_id, urls = require_signed_in(profile)
    base: BaseUrl = urls[connector or "general"]
    if operations is None:
        operations = [op for op in OPERATIONS if connector is None or op.connector == connector]
    paths: dict[str, dict[str, Any]] = {}
    placed = swagger_paths(operations)
    for operation in operations:
        paths.setdefault(placed[operation.operation_id], {})[operation.method.lower()] = _operation(
            operation, account_id
        )
    scopes = list(profile.scopes)
    authorization_url, token_url = oauth_urls(profile)
    return {
        "swagger": "2.0",
        "info": {
            "title": connector_title(profile, connector),
            "description": connector_description(connector),
            "version": "1.0",
        },
        "host": base.host,
        "basePath": base.base_path,
        "schemes": [base.scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": _definitions(paths),
        "securityDefinitions": {
            SECURITY_NAME: {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": authorization_url,
                "tokenUrl": token_url,
                "scopes": {scope: f"DocuSign scope {scope}" for scope in scopes},
            }
        },
        "security": [{SECURITY_NAME: scopes}],
        "x-ms-connector-metadata": [
            {"propertyName": "Website", "propertyValue": WEBSITE},
            {"propertyName": "Privacy policy", "propertyValue": PRIVACY_POLICY},
            {"propertyName": "Categories", "propertyValue": CATEGORIES},
        ],
    }
