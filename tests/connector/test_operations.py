"""The operation catalogue meets the certification rules, and our validator catches breaches."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from clmwizard.connector.bundle import build_bundle, json_bytes
from clmwizard.connector.operations import OPERATIONS, Operation, operations_for
from clmwizard.connector.validate import Problem, validate_bundle
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import Profile
from tests.connector.conftest import ACCOUNT_ID, make_profile

IDS = [op.operation_id for op in OPERATIONS]


def _swagger_operations(profile: Profile) -> list[tuple[str, str, dict[str, Any]]]:
    swagger = json.loads(build_bundle(profile, "single")["clm/apiDefinition.swagger.json"])
    return [
        (path, method, operation)
        for path, item in swagger["paths"].items()
        for method, operation in item.items()
    ]


def test_catalogue_covers_the_clm_endpoints() -> None:
    assert {(op.connector, op.method, op.path) for op in OPERATIONS} == {
        ("general", "GET", "/v2/{AccountId}/attributegroups"),
        ("general", "GET", "/v2/{AccountId}/attributegroups/{AttributeGroupId}"),
        ("general", "GET", "/v2/{AccountId}/folders/{FolderId}"),
        ("general", "GET", "/v2/{AccountId}/folders"),
        ("general", "GET", "/v2/{AccountId}/folders/{FolderId}/folders"),
        ("general", "GET", "/v2/{AccountId}/folders/{FolderId}/documents"),
        ("general", "GET", "/v2/{AccountId}/documents/{DocumentId}"),
        ("general", "PATCH", "/v2/{AccountId}/documents/{DocumentId}"),
        ("general", "POST", "/v2/{AccountId}/workflows"),
        ("general", "GET", "/v2/{AccountId}/workflows/{WorkflowId}"),
        ("general", "POST", "/v2/{AccountId}/workflows/{WorkflowId}/signal"),
        ("general", "GET", "/v2/{AccountId}/workflowdefinitions"),
        ("general", "GET", "/v2/{AccountId}/doclauncherconfigurations"),
        ("general", "POST", "/v2/{AccountId}/doclaunchertasks"),
        ("general", "GET", "/v2/{AccountId}/doclaunchertasks/{TaskId}"),
        ("upload", "POST", "/v2/{AccountId}/folders/{FolderId}/documents"),
        ("download", "GET", "/v2/{AccountId}/documents/{DocumentId}/content"),
    }
    assert len(set(IDS)) == len(IDS)
    assert [op.operation_id for op in operations_for("download")] == ["DownloadDocumentContent"]


@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_operation_strings_follow_certification_rules(operation: Operation) -> None:
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", operation.operation_id)
    assert 0 < len(operation.summary) <= 80
    assert not set("/\\<>*%&?") & set(operation.summary)
    assert operation.summary[-1].isalnum()
    assert operation.description.endswith(".")
    assert operation.description != operation.summary
    assert operation.visibility in ("important", "advanced", "internal")
    for parameter in operation.parameters:
        assert parameter.summary and parameter.description, parameter.name
    declared = {p.name for p in operation.parameters if p.location == "path"}
    assert declared == set(re.findall(r"\{(\w+)\}", operation.path))


@pytest.mark.parametrize(("path", "method", "operation"), _swagger_operations(make_profile()))
def test_swagger_operation_is_complete(path: str, method: str, operation: dict[str, Any]) -> None:
    for parameter in operation["parameters"]:
        assert parameter["x-ms-summary"] and parameter["description"]
        if parameter["in"] == "path":
            assert parameter["x-ms-url-encoding"] == "single"
            assert parameter["required"] is True
    (account,) = [p for p in operation["parameters"] if p["name"] == "AccountId"]
    assert account["default"] == ACCOUNT_ID
    assert account["x-ms-visibility"] == "internal"
    success = [code for code in operation["responses"] if code.startswith("2")]
    assert len(success) == 1
    assert operation["responses"]["default"]["schema"] == {"$ref": "#/definitions/Error"}


def test_binary_upload_and_download() -> None:
    swagger = json.loads(build_bundle(make_profile(), "single")["clm/apiDefinition.swagger.json"])
    upload = swagger["paths"]["/v2/{AccountId}/folders/{FolderId}/documents"]["post"]
    assert upload["consumes"] == ["application/octet-stream"]
    (body,) = [p for p in upload["parameters"] if p["in"] == "body"]
    assert body["schema"] == {"type": "string", "format": "binary"}
    assert [p["name"] for p in upload["parameters"] if p["in"] == "query"] == ["name"]
    download = swagger["paths"]["/v2/{AccountId}/documents/{DocumentId}/content"]["get"]
    assert download["responses"]["200"]["schema"]["format"] == "binary"
    by_path = swagger["paths"]["/v2/{AccountId}/folders"]["get"]
    assert [(p["name"], p["in"]) for p in by_path["parameters"]][1] == ("path", "query")


def test_collections_and_errors_have_the_clm_shape() -> None:
    swagger = json.loads(build_bundle(make_profile())["general/apiDefinition.swagger.json"])
    definitions = swagger["definitions"]
    assert list(definitions["AttributeGroupList"]["properties"]) == [
        "Items", "Href", "Offset", "Limit", "First", "Last", "Next", "Previous", "Total"
    ]  # fmt: skip
    assert list(definitions["Error"]["properties"]["Error"]["properties"]) == [
        "HttpStatusCode", "UserMessage", "DeveloperMessage", "ErrorCode", "ReferenceId"
    ]  # fmt: skip
    assert "DocLauncherResultUrl" in definitions["DocLauncherTask"]["properties"]


# --- the validator catches what it should --------------------------------------------------


def _three() -> dict[str, bytes]:
    return build_bundle(make_profile())


def _mutate(files: dict[str, bytes], name: str, change: Any) -> dict[str, bytes]:
    document = json.loads(files[name])
    change(document)
    changed = dict(files)
    changed[name] = json_bytes(document)
    return changed


def _problems(files: dict[str, bytes]) -> list[tuple[str, str]]:
    return [(p.file, p.pointer) for p in validate_bundle(files)]


SWAGGER = "general/apiDefinition.swagger.json"
PROPS = "general/apiProperties.json"
LIST = "/paths/~1v2~1{AccountId}~1attributegroups/get"


def _op(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["paths"]["/v2/{AccountId}/attributegroups"]["get"]
    return result


BREACHES = [
    (SWAGGER, lambda d: d.update(swagger="3.0"), "/swagger"),
    (SWAGGER, lambda d: d.update(host="https://apiuatna11.springcm.com"), "/host"),
    (SWAGGER, lambda d: d.update(basePath="v2"), "/basePath"),
    (SWAGGER, lambda d: d["info"].update(title="DocuSign CLM API connector"), "/info/title"),
    (SWAGGER, lambda d: d["info"].update(title="DocuSign CLM for everyone, always"), "/info/title"),
    (SWAGGER, lambda d: d["info"].update(title="DocuSign CLM."), "/info/title"),
    (SWAGGER, lambda d: d["info"].update(description="Too short."), "/info/description"),
    (
        SWAGGER,
        lambda d: d["info"].update(description="Use DocuSign CLM in Power Automate flows, always."),
        "/info/description",
    ),
    (SWAGGER, lambda d: _op(d).update(summary="List groups?"), f"{LIST}/summary"),
    (SWAGGER, lambda d: _op(d).update(summary="List groups / all"), f"{LIST}/summary"),
    (SWAGGER, lambda d: _op(d).update(summary="x" * 81), f"{LIST}/summary"),
    (SWAGGER, lambda d: _op(d).update(description="No period"), f"{LIST}/description"),
    (SWAGGER, lambda d: _op(d).update(operationId="list_groups"), f"{LIST}/operationId"),
    (SWAGGER, lambda d: _op(d).update(operationId="GetFolder"), None),
    (SWAGGER, lambda d: _op(d).update({"x-ms-visibility": "hidden"}), f"{LIST}/x-ms-visibility"),
    (SWAGGER, lambda d: _op(d).update(responses={}), f"{LIST}/responses"),
    (SWAGGER, lambda d: _op(d)["parameters"][0].pop("x-ms-summary"), None),
    (SWAGGER, lambda d: _op(d)["parameters"][0].pop("x-ms-url-encoding"), None),
    (SWAGGER, lambda d: _op(d)["parameters"][0].pop("default"), None),
    (SWAGGER, lambda d: d["definitions"]["AttributeGroupList"].pop("properties"), None),
    (SWAGGER, lambda d: d.pop("x-ms-connector-metadata"), "/x-ms-connector-metadata"),
    (PROPS, lambda d: d["properties"].update(stackOwner="Acme"), "/properties/stackOwner"),
    (PROPS, lambda d: d["properties"].update(iconBrandColor="#007ee5"), None),
    (PROPS, lambda d: d["properties"].update(iconBrandColor="#FFFFFF"), None),
    (
        PROPS,
        lambda d: d["properties"]["connectionParameters"].update(
            oauth=d["properties"]["connectionParameters"].pop("token")
        ),
        "/properties/connectionParameters/token",
    ),
    (
        PROPS,
        lambda d: d["properties"]["connectionParameters"]["token"]["oAuthSettings"].update(
            identityProvider="oauth2generic"
        ),
        "/properties/connectionParameters/token/oAuthSettings/identityProvider",
    ),
    (
        PROPS,
        lambda d: d["properties"]["connectionParameters"]["token"]["oAuthSettings"].update(
            clientSecret="hunter2hunter2"
        ),
        "/properties/connectionParameters/token/oAuthSettings/clientSecret",
    ),
    ("general/settings.json", lambda d: d.update(icon="missing.png"), "/icon"),
    ("general/settings.json", lambda d: d.update(environment="Default-123"), "/environment"),
]


@pytest.mark.parametrize(("name", "change", "pointer"), BREACHES)
def test_validator_names_file_and_field(name: str, change: Any, pointer: str | None) -> None:
    assert _problems(_three()) == []
    problems = _problems(_mutate(_three(), name, change))
    assert problems, "the breach went unnoticed"
    assert {file for file, _ in problems} == {name}
    if pointer is not None:
        assert pointer in [p for _, p in problems]


def test_validator_rejects_a_bom_a_missing_file_and_a_fake_icon() -> None:
    files = _three()
    files["upload/apiProperties.json"] = b"\xef\xbb\xbf" + files["upload/apiProperties.json"]
    del files["download/settings.json"]
    files["general/icon.png"] = b"GIF89a"
    files.pop("README.md")
    found = {str(p) for p in validate_bundle(files)}
    assert (
        "upload/apiProperties.json: starts with a byte-order mark; paconn cannot read it" in found
    )
    assert "download/settings.json: is missing" in found
    assert "general/icon.png: is not a PNG file" in found
    assert "README.md: is missing" in found


def test_single_layout_routing_names_only_known_operations() -> None:
    files = build_bundle(make_profile(), "single")
    changed = _mutate(
        files,
        "clm/apiProperties.json",
        lambda d: d["properties"]["policyTemplateInstances"][0]["parameters"][
            "x-ms-apimTemplate-operationName"
        ].append("NoSuchOperation"),
    )
    problems = validate_bundle(changed)
    assert [p.message for p in problems] == [
        "names NoSuchOperation, which the swagger does not define"
    ]


def test_build_refuses_a_profile_that_breaks_the_rules() -> None:
    profile = make_profile(scopes=[])
    with pytest.raises(ClmWizardError) as caught:
        build_bundle(profile)
    assert caught.value.field == (
        "general/apiProperties.json/properties/connectionParameters/token/oAuthSettings/scopes"
    )
    assert "failed its checks" in caught.value.what
    assert "clmwizard profiles show acme-demo" in caught.value.fix


def test_problem_renders_file_and_pointer() -> None:
    assert (
        str(Problem("a/b.json", "/info/title", "is missing")) == "a/b.json /info/title: is missing"
    )


def test_catalogue_is_not_shared_mutable_state() -> None:
    """Building twice from a mutated output leaves the catalogue unchanged."""
    before = copy.deepcopy([op.response for op in OPERATIONS])
    swagger = json.loads(_three()[SWAGGER])
    swagger["definitions"].clear()
    assert [op.response for op in OPERATIONS] == before
