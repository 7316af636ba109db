"""The emulator's own checks behind validateApiSwagger.

Microsoft's validator is closed; these rules come from the reference (the certification rules
quoted back in PowerPlatformConnectors PR threads). The answer's wording and line format are
unconfirmed: one problem per line, "Error:" or "Warning:" first, then where, then what.
"""

from __future__ import annotations

import re
from typing import Any

_VERBS = ("get", "put", "post", "delete", "patch", "head", "options")
_OPERATION_ID = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SUMMARY_FORBIDDEN = set("/\\<>*%&?")
_PRODUCT_NAMES = ("power apps", "power automate", "logic apps", "powerapps", "microsoft flow")
_VISIBILITY = {"important", "advanced", "internal", "none"}


def problems(swagger: Any, *, certification: bool) -> list[str]:
    """Every problem found; errors always, certification rules only when asked."""
    if not isinstance(swagger, dict):
        return ["Error: The definition is not a JSON object."]
    found: list[str] = []
    if swagger.get("swagger") != "2.0":
        found.append('Error: swagger: Only Swagger 2.0 ("swagger": "2.0") is supported.')
    info = swagger.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("title"), str):
        found.append("Error: info.title: A title is required.")
        info = {}
    host = swagger.get("host")
    if not isinstance(host, str) or not host or "/" in host or "://" in host:
        found.append("Error: host: The host must be a name without scheme or path.")
    base_path = swagger.get("basePath", "/")
    if not isinstance(base_path, str) or not base_path.startswith("/"):
        found.append("Error: basePath: The base path must start with '/'.")
    paths = swagger.get("paths")
    if not isinstance(paths, dict) or not paths:
        found.append("Error: paths: The definition has no operations.")
        paths = {}
    seen: set[str] = set()
    for path, item in paths.items():
        if not isinstance(item, dict):
            found.append(f"Error: paths.{path}: Not an object.")
            continue
        for verb, operation in item.items():
            if verb not in _VERBS or not isinstance(operation, dict):
                continue
            where = f"paths.{path}.{verb}"
            operation_id = operation.get("operationId")
            if not isinstance(operation_id, str) or not operation_id:
                found.append(f"Error: {where}: The operation has no operationId.")
            elif operation_id in seen:
                found.append(f"Error: {where}: The operationId '{operation_id}' is used twice.")
            else:
                seen.add(operation_id)
            responses = operation.get("responses")
            if not isinstance(responses, dict) or not responses:
                found.append(f"Error: {where}: The operation has no responses.")
            if certification:
                found += _operation_rules(where, operation, operation_id)
    if certification:
        found += _info_rules(info)
    return found


def _info_rules(info: dict[str, Any]) -> list[str]:
    found: list[str] = []
    title = info.get("title")
    if isinstance(title, str):
        if len(title) > 30:
            found.append("Error: info.title: The title must be 30 characters or fewer.")
        if re.search(r"\b(api|connector)\b", title, re.IGNORECASE):
            found.append("Error: info.title: The title must not contain 'API' or 'Connector'.")
        if title and not title[-1].isalnum():
            found.append("Error: info.title: The title must not end in punctuation.")
    description = info.get("description")
    if not isinstance(description, str) or not 30 <= len(description) <= 500:
        found.append("Error: info.description: The description must be 30 to 500 characters.")
    elif any(name in description.lower() for name in _PRODUCT_NAMES):
        found.append(
            "Error: info.description: The description must not name Power Apps, Power Automate "
            "or Logic Apps."
        )
    return found


def _operation_rules(where: str, operation: dict[str, Any], operation_id: Any) -> list[str]:
    found: list[str] = []
    summary = operation.get("summary")
    if not isinstance(summary, str) or not summary:
        found.append(f"Error: {where}: The operation has no summary.")
        summary = ""
    else:
        if len(summary) > 80:
            found.append(f"Error: {where}.summary: The summary must be 80 characters or fewer.")
        if _SUMMARY_FORBIDDEN & set(summary):
            found.append(f"Error: {where}.summary: The summary must not contain /\\<>*%&?.")
        if not summary[-1].isalnum() and summary[-1] != ")":
            found.append(f"Error: {where}.summary: The summary must not end in punctuation.")
    description = operation.get("description")
    if not isinstance(description, str) or not description.endswith("."):
        found.append(f"Error: {where}.description: The description must end with a period.")
    elif description == summary:
        found.append(f"Error: {where}.description: The description must differ from the summary.")
    if isinstance(operation_id, str) and not _OPERATION_ID.match(operation_id):
        found.append(
            f"Error: {where}.operationId: '{operation_id}' must be PascalCase without '-' or '_'."
        )
    visibility = operation.get("x-ms-visibility")
    if visibility is not None and visibility not in _VISIBILITY:
        found.append(f"Error: {where}.x-ms-visibility: '{visibility}' is not a known visibility.")
    for index, parameter in enumerate(operation.get("parameters") or []):
        if not isinstance(parameter, dict) or "$ref" in parameter:
            continue
        name = parameter.get("name", index)
        if not parameter.get("x-ms-summary"):
            found.append(f"Warning: {where}.parameters.{name}: The parameter has no x-ms-summary.")
        if not parameter.get("description"):
            found.append(f"Warning: {where}.parameters.{name}: The parameter has no description.")
    return found
