"""Extra check, collected only with CLMWIZARD_MS_SCHEMAS=<folder of Microsoft's schemas>: every
exported JSON file validates against Microsoft's own schemas (comment-stripped, with the
documented staleness patched precisely). The suite's own rules are in test_schemas.py."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from clmwizard.connector.bundle import build_bundle
from clmwizard.store.profile import Profile
from tests.support.connector_profiles import (
    SCHEMA_PROFILES,
    load_schema,
    make_profile,
    ms_schema_dir,
    patched_api_properties_schema,
)


def _bundles() -> list[tuple[str, str, Profile]]:
    return [
        (name, layout, p) for name, p in SCHEMA_PROFILES.items() for layout in ("three", "single")
    ]


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


SCHEMAS = {
    "apiDefinition.swagger.json": lambda: load_schema("apiDefinition.swagger.schema.json"),
    "apiProperties.json": patched_api_properties_schema,
    "settings.json": lambda: load_schema("paconn-settings.schema.json"),
}


@pytest.mark.parametrize(("profile_name", "layout", "profile"), _bundles())
def test_every_exported_json_file_validates_against_microsofts_schema(
    profile_name: str, layout: str, profile: Profile
) -> None:
    validators = {name: _validator(factory()) for name, factory in SCHEMAS.items()}
    files = build_bundle(profile, layout)  # type: ignore[arg-type]
    checked = 0
    for path, data in files.items():
        if not path.endswith(".json"):
            continue
        validator = validators[path.rsplit("/", 1)[1]]
        assert _errors(validator, json.loads(data)) == [], path
        checked += 1
    assert checked == (9 if layout == "three" else 3)


def test_the_raw_schemas_hold_comments_and_urls() -> None:
    """Guard the stripper's purpose: the files really need it, and hold // inside strings."""
    raw = (ms_schema_dir() / "paconn-apiProperties.schema.json").read_text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert "https://raw.githubusercontent.com" in json.dumps(
        load_schema("paconn-apiProperties.schema.json")
    )


def test_unpatched_schema_rejects_global_per_connector_and_only_that() -> None:
    """The patch is precise: without it exactly the redirectMode value fails."""
    document = json.loads(build_bundle(make_profile())["general/apiProperties.json"])
    errors = _errors(_validator(load_schema("paconn-apiProperties.schema.json")), document)
    assert errors, "Microsoft's schema accepts GlobalPerConnector now: drop the patch"
    document["properties"]["connectionParameters"]["token"]["oAuthSettings"]["redirectMode"] = (
        "Global"
    )
    assert _errors(_validator(load_schema("paconn-apiProperties.schema.json")), document) == []


def test_schema_catches_a_swagger_mistake() -> None:
    """The swagger schema is really applied: a host with a scheme fails it."""
    document = json.loads(build_bundle(make_profile())["general/apiDefinition.swagger.json"])
    validator = _validator(load_schema("apiDefinition.swagger.schema.json"))
    document["host"] = "https://apiuatna11.springcm.com"
    assert any(error.startswith("host") for error in _errors(validator, document))
