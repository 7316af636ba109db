"""Build apiDefinition.swagger.json (Swagger 2.0) from the operation catalogue and a profile."""

from __future__ import annotations

import hashlib
import re
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

_CONNECTOR_LABEL = {"general": "", "upload": "Upload", "download": "Download"}
_CONNECTOR_PURPOSE = {
    "general": "folders, documents and their attributes, workflows and Doc Launcher",
    "upload": "uploading files into CLM folders (the CLM upload host)",
    "download": "downloading document content (the CLM download host)",
}
# Power Platform's limit is 30 characters for the whole title; " Download" takes 9.
MAX_NAME_LENGTH = 30 - len(" Download")
_FORBIDDEN_WORDS = re.compile(r"\b(api|connector)\b", re.IGNORECASE)


def default_connector_name(profile_name: str) -> str:
    """The connectors' name when none was chosen: from the profile's name, so that two profiles
    publishing into one environment never share one ("DocuSign CLM work", "CLM clm-prod_2";
    a long or cleaned-up name is cut and ends in a short hash of the profile name)."""
    brand = "DocuSign CLM"
    if len(f"{brand} {profile_name}") <= MAX_NAME_LENGTH and not name_problems(profile_name):
        return f"{brand} {profile_name}"
    if len(f"CLM {profile_name}") <= MAX_NAME_LENGTH and not name_problems(profile_name):
        return f"CLM {profile_name}"
    tag = hashlib.sha256(profile_name.encode("utf-8")).hexdigest()[:4]
    kept = _FORBIDDEN_WORDS.sub("", profile_name)[: MAX_NAME_LENGTH - len("CLM -") - len(tag)]
    kept = kept.rstrip("._- ")
    return " ".join(["CLM", f"{kept}-{tag}" if kept else tag])


def name_problems(name: str) -> list[str]:
    """What Power Platform would refuse in a connector name (with room for " Download")."""
    problems = []
    if not name.strip():
        problems.append("it is empty")
    if len(name) > MAX_NAME_LENGTH:
        problems.append(
            f"it is {len(name)} characters; at most {MAX_NAME_LENGTH} (the three-connector "
            'layout adds " Upload" and " Download")'
        )
    if _FORBIDDEN_WORDS.search(name):
        problems.append('it contains "API" or "connector"')
    if name and not name[-1].isalnum():
        problems.append("it ends in punctuation")
    if any(not character.isprintable() for character in name):
        problems.append("it contains control characters")
    return problems


def check_connector_name(name: str) -> str:
    """`name` with outer spaces removed, or a UsageError naming what Power Platform refuses."""
    from clmwizard.errors import UsageError

    name = name.strip()
    problems = name_problems(name)
    if problems:
        raise UsageError(
            f"{name[:40]!r} cannot be a connector name: " + "; ".join(problems) + ".",
            fix=f"Use up to {MAX_NAME_LENGTH} letters, digits and spaces, ending in a letter or "
            'digit, without the words "API" or "connector" (e.g. "DocuSign CLM Sales").',
            field="name",
        )
    return name


def connector_name(profile: Profile) -> str:
    """The name the profile's connectors carry in Power Automate (before any host suffix)."""
    return profile.connector_name or default_connector_name(profile.name)


def connector_title(profile: Profile, connector: ConnectorName | None) -> str:
    """The connector's display name, e.g. "DocuSign CLM work Upload" (≤ 30 characters)."""
    words = [connector_name(profile)]
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
