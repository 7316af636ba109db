"""Every exported JSON file validates against our own conformance schemas (tests/connector/
schemas/: what paconn, pac and the connector importer need of the files, in our own words), and
each schema really rejects the mistakes it exists for. Microsoft's published schemas are an
extra check in test_ms_schemas.py, collected only when asked for."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from clmwizard.connector.bundle import build_bundle
from clmwizard.store.profile import Profile
from tests.support.connector_profiles import (
    SCHEMA_PROFILES,
    make_profile,
    own_schema,
    strip_json_comments,
)

SCHEMAS = {
    "apiDefinition.swagger.json": "swagger.schema.json",
    "apiProperties.json": "api-properties.schema.json",
    "settings.json": "settings.schema.json",
}


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = own_schema(name)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    )


def _bundles() -> list[tuple[str, str, Profile]]:
    return [(n, layout, p) for n, p in SCHEMA_PROFILES.items() for layout in ("three", "single")]


@pytest.mark.parametrize(("profile_name", "layout", "profile"), _bundles())
def test_every_exported_json_file_validates_against_our_schemas(
    profile_name: str, layout: str, profile: Profile
) -> None:
    validators = {name: _validator(schema) for name, schema in SCHEMAS.items()}
    files = build_bundle(profile, layout)  # type: ignore[arg-type]
    checked = 0
    for path, data in files.items():
        if path.endswith(".json"):
            assert _errors(validators[path.rsplit("/", 1)[1]], json.loads(data)) == [], path
            checked += 1
    assert checked == (9 if layout == "three" else 3)


def _swagger() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        build_bundle(make_profile())["general/apiDefinition.swagger.json"]
    )
    return loaded


def _first_operation(swagger: dict[str, Any]) -> dict[str, Any]:
    item = next(iter(swagger["paths"].values()))
    operation: dict[str, Any] = next(iter(item.values()))
    return operation


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s.update(host="https://apiuatna11.springcm.com"), "host"),
        (lambda s: s.update(swagger="3.0"), "swagger"),
        (lambda s: s.update(openapi="3.0.0"), ""),
        (lambda s: _first_operation(s).update(summary="Get a folder?"), "summary"),
        (lambda s: _first_operation(s).update(summary="Get a folder."), "summary"),
        (lambda s: _first_operation(s).update(summary="x" * 81), "summary"),
        (lambda s: _first_operation(s).update(operationId="get-folder"), "operationId"),
        (lambda s: _first_operation(s).update(description="No period"), "description"),
        (lambda s: _first_operation(s).pop("x-ms-visibility"), ""),
        (lambda s: _first_operation(s)["parameters"][0].pop("x-ms-summary"), "parameters/0"),
        (lambda s: _first_operation(s)["parameters"][0].pop("x-ms-url-encoding"), "parameters/0"),
        (lambda s: _first_operation(s)["parameters"][0].pop("default"), "parameters/0"),
        (lambda s: s["securityDefinitions"]["oauth2-auth"].update(flow="implicit"), "flow"),
    ],
)
def test_the_swagger_schema_rejects_each_mistake(change: Any, where: str) -> None:
    validator = _validator("swagger.schema.json")
    swagger = _swagger()
    assert _errors(validator, swagger) == []
    change(swagger)
    errors = _errors(validator, swagger)
    assert errors and any(where in error for error in errors), errors


def _properties() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        build_bundle(make_profile(), "single")["clm/apiProperties.json"]
    )
    return loaded


def _oauth(document: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = document["properties"]["connectionParameters"]["token"][
        "oAuthSettings"
    ]
    return settings


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["properties"].update(stackOwner="x"),
        lambda d: d["properties"]["connectionParameters"].update(other={"type": "string"}),
        lambda d: d["properties"]["connectionParameters"].pop("token"),
        lambda d: _oauth(d).update(identityProvider="oauth2generic"),
        lambda d: _oauth(d).update(clientSecret="s"),
        lambda d: _oauth(d).update(redirectMode="PerConnector"),
        lambda d: _oauth(d)["customParameters"].pop("refreshUrl"),
        lambda d: d["properties"].update(iconBrandColor="purple"),
        lambda d: d["properties"]["policyTemplateInstances"][0].update(templateId="routerequest"),
        lambda d: d["properties"]["policyTemplateInstances"][-1]["parameters"].pop(
            "x-ms-apimTemplateParameter.newPath"
        ),
    ],
)
def test_the_api_properties_schema_rejects_each_mistake(change: Any) -> None:
    validator = _validator("api-properties.schema.json")
    document = _properties()
    assert _errors(validator, document) == []
    change(document)
    assert _errors(validator, document)


def test_the_api_properties_schema_accepts_global_per_connector() -> None:
    """The redirect mode the platform now requires (Microsoft's 2020 schema lacks it)."""
    document = _properties()
    assert _oauth(document)["redirectMode"] == "GlobalPerConnector"
    assert _errors(_validator("api-properties.schema.json"), document) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(environment="Default-1234"),
        lambda d: d.update(powerAppsApiVersion="2023-01-01"),
        lambda d: d.update(clientSecret="s"),
        lambda d: d.pop("apiDefinition"),
    ],
)
def test_the_settings_schema_rejects_each_mistake(change: Any) -> None:
    validator = _validator("settings.schema.json")
    document = json.loads(build_bundle(make_profile())["general/settings.json"])
    assert _errors(validator, document) == []
    change(document)
    assert _errors(validator, document)


def test_the_settings_schema_accepts_what_paconn_writes_back() -> None:
    document = json.loads(build_bundle(make_profile())["general/settings.json"])
    document["connectorId"] = "shared_clm-5fabc-5f0123456789abcdef"
    document["environment"] = "0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
    assert _errors(_validator("settings.schema.json"), document) == []


def test_the_comment_stripper_keeps_urls_and_drops_comments() -> None:
    text = '{"a": "https://x.test//y", // a comment\n "b": [1, /* two */ 2], "c": "\\"//\\""}'
    assert json.loads(strip_json_comments(text)) == {
        "a": "https://x.test//y",
        "b": [1, 2],
        "c": '"//"',
    }
