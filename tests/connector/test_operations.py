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
from tests.support.connector_profiles import ACCOUNT_ID, make_profile

IDS = [op.operation_id for op in OPERATIONS]


def _swagger_operations(profile: Profile) -> list[tuple[str, str, dict[str, Any]]]:
    swagger = json.loads(build_bundle(profile, "single")["clm/apiDefinition.swagger.json"])
    return [
        (path, method, operation)
        for path, item in swagger["paths"].items()
        for method, operation in item.items()
    ]


def test_catalogue_covers_the_clm_endpoints() -> None:
    """The real CLM paths of the reference (no /content suffix, /folders/path, …)."""
    assert {(op.connector, op.method, op.path) for op in OPERATIONS} == {
        ("general", "GET", "/v2/{AccountId}/attributegroups"),
        ("general", "GET", "/v2/{AccountId}/attributegroups/{AttributeGroupId}"),
        ("general", "GET", "/v2/{AccountId}/folders/{FolderId}"),
        ("general", "GET", "/v2/{AccountId}/folders/path"),
        ("general", "GET", "/v2/{AccountId}/folders/type"),
        ("general", "GET", "/v2/{AccountId}/folders/{FolderId}/folders"),
        ("general", "GET", "/v2/{AccountId}/folders/{FolderId}/documents"),
        ("general", "POST", "/v2/{AccountId}/folders"),
        ("general", "GET", "/v2/{AccountId}/documents/{DocumentId}"),
        ("general", "GET", "/v2/{AccountId}/documents"),
        ("general", "PATCH", "/v2/{AccountId}/documents/{DocumentId}"),
        ("general", "DELETE", "/v2/{AccountId}/documents/{DocumentId}"),
        ("general", "GET", "/v2/{AccountId}/documents/{DocumentId}/versions"),
        ("general", "GET", "/v2/{AccountId}/documents/{DocumentId}/historyItems"),
        ("general", "POST", "/v2/{AccountId}/documents/{DocumentId}/lock"),
        ("general", "DELETE", "/v2/{AccountId}/documents/{DocumentId}/lock"),
        ("general", "POST", "/v2/{AccountId}/documentsearchtasks"),
        ("general", "GET", "/v2/{AccountId}/documentsearchtasks/{TaskId}"),
        ("general", "GET", "/v2/{AccountId}/documentsearchtasks/{TaskId}/result"),
        ("general", "POST", "/v2/{AccountId}/workflows"),
        ("general", "GET", "/v2/{AccountId}/workflows/{WorkflowId}"),
        ("general", "DELETE", "/v2/{AccountId}/workflows/{WorkflowId}"),
        ("general", "POST", "/v2/{AccountId}/workflows/{WorkflowId}/signal"),
        ("general", "GET", "/v2/{AccountId}/workflowdefinitions"),
        ("general", "GET", "/v2/{AccountId}/workflowdefinitions/{WorkflowDefinitionId}"),
        ("general", "GET", "/v2/{AccountId}/doclauncherconfigurations"),
        ("general", "GET", "/v2/{AccountId}/doclauncherconfigurations/{ConfigurationId}"),
        ("general", "POST", "/v2/{AccountId}/doclaunchertasks"),
        ("general", "GET", "/v2/{AccountId}/doclaunchertasks/{TaskId}"),
        ("general", "POST", "/v2/{AccountId}/documentxmlmergetasks"),
        ("general", "GET", "/v2/{AccountId}/documentxmlmergetasks/{TaskId}"),
        ("upload", "POST", "/v2/{AccountId}/folders/{FolderId}/documents"),
        ("upload", "POST", "/v2/{AccountId}/documents/{DocumentId}"),
        ("download", "GET", "/v2/{AccountId}/documents/{DocumentId}"),
        ("download", "GET", "/v2/{AccountId}/documents/{VersionId}"),
    }
    assert len(set(IDS)) == len(IDS)
    assert len(operations_for("general")) >= 15
    assert [op.operation_id for op in operations_for("upload")] == [
        "UploadDocument",
        "UploadNewVersion",
        "UploadDocuments",
    ]
    assert [op.operation_id for op in operations_for("download")] == [
        "DownloadDocument",
        "DownloadDocumentPdf",
        "DownloadDocumentText",
        "DownloadDocumentVersion",
    ]


def test_each_download_action_sends_its_own_accept() -> None:
    accepts = {}
    for operation in operations_for("download"):
        (accept,) = [p for p in operation.parameters if p.location == "header"]
        assert (accept.name, accept.visibility) == ("Accept", "internal")
        accepts[operation.operation_id] = accept.default
    assert accepts == {
        "DownloadDocument": "native",
        "DownloadDocumentPdf": "application/pdf",
        "DownloadDocumentText": "text/plain",
        "DownloadDocumentVersion": "native",
    }


def test_metadata_reads_send_a_capitalised_expand_by_default() -> None:
    expands = {
        op.operation_id: p.default for op in OPERATIONS for p in op.parameters if p.name == "expand"
    }
    assert "AttributeGroups" in str(expands["GetDocument"]).split(",")
    assert "AttributeGroups" in str(expands["GetDocumentByPath"]).split(",")
    assert "AttributeGroups" in str(expands["GetDocumentSearchResults"]).split(",")
    assert expands["GetAttributeGroup"] == "Attributes"
    assert "Path" in str(expands["GetFolderByPath"]).split(",")
    assert all(value and value[0].isupper() for value in expands.values())


def test_one_url_several_actions_get_aliases_and_rewrites() -> None:
    """Swagger allows one operation per path and verb: the second action on a URL gets an alias
    path, and apiProperties sends it to the real path with routerequesttoendpoint."""
    for layout, folder in (("three", "download"), ("single", "clm")):
        files = build_bundle(make_profile(), layout)  # type: ignore[arg-type]
        swagger = json.loads(files[f"{folder}/apiDefinition.swagger.json"])
        properties = json.loads(files[f"{folder}/apiProperties.json"])["properties"]
        rewrites = {
            p["parameters"]["x-ms-apimTemplate-operationName"][0]: (
                p["parameters"]["x-ms-apimTemplateParameter.newPath"],
                p["parameters"]["x-ms-apimTemplateParameter.httpMethod"],
            )
            for p in properties["policyTemplateInstances"]
            if p["templateId"] == "routerequesttoendpoint"
        }
        placed = {
            op["operationId"]: path
            for path, item in swagger["paths"].items()
            for op in item.values()
        }
        by_id = {op.operation_id: op for op in OPERATIONS}
        for operation_id, path in placed.items():
            operation = by_id[operation_id]
            if path == operation.path:
                assert operation_id not in rewrites
            else:
                assert path == operation.alias
                assert rewrites[operation_id] == (operation.path, operation.method)
        assert "DownloadDocumentPdf" in rewrites
        assert ("DownloadDocument" in rewrites) == (layout == "single")  # GetDocument holds it


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
    if operation.alias is not None:
        assert declared == set(re.findall(r"\{(\w+)\}", operation.alias))


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
    assert success
    schemas = [json.dumps(operation["responses"][c].get("schema")) for c in success if c != "204"]
    assert len(set(schemas)) == 1  # every success status answers the same shape
    assert operation["responses"]["default"]["schema"] == {"$ref": "#/definitions/Error"}


def test_starts_accept_every_status_clm_may_answer() -> None:
    by_id = {op.operation_id: op for op in OPERATIONS}
    assert sorted(by_id["StartWorkflow"].statuses) == [200, 201, 202]
    assert by_id["StartDocumentSearch"].statuses == (202,)
    assert by_id["UploadDocument"].statuses == (201,)


def test_binary_upload_and_download() -> None:
    swagger = json.loads(build_bundle(make_profile(), "single")["clm/apiDefinition.swagger.json"])
    upload = swagger["paths"]["/v2/{AccountId}/folders/{FolderId}/documents"]["post"]
    assert upload["consumes"] == ["application/octet-stream"]
    (body,) = [p for p in upload["parameters"] if p["in"] == "body"]
    assert body["schema"] == {"type": "string", "format": "binary"}
    assert [p["name"] for p in upload["parameters"] if p["in"] == "query"] == ["name"]
    download = swagger["paths"]["/v2/{AccountId}/documents/{DocumentId}/original"]["get"]
    assert download["responses"]["200"]["schema"]["format"] == "binary"
    assert download["operationId"] == "DownloadDocument"
    by_path = swagger["paths"]["/v2/{AccountId}/folders/path"]["get"]
    assert [(p["name"], p["in"]) for p in by_path["parameters"]][1] == ("path", "query")
    multipart = swagger["paths"]["/v2/{AccountId}/folders/{FolderId}/documents/multipart"]["post"]
    assert multipart["consumes"] == ["multipart/form-data"]
    assert multipart["responses"]["201"]["schema"]["type"] == "array"


def test_collections_and_errors_have_the_clm_shape() -> None:
    swagger = json.loads(build_bundle(make_profile())["general/apiDefinition.swagger.json"])
    definitions = swagger["definitions"]
    assert list(definitions["AttributeGroupList"]["properties"]) == [
        "Items", "Href", "Offset", "Limit", "First", "Last", "Next", "Previous", "Total"
    ]  # fmt: skip
    assert list(definitions["Error"]["properties"]["Error"]["properties"]) == [
        "HttpStatusCode", "UserMessage", "DeveloperMessage", "ErrorCode", "ReferenceId"
    ]  # fmt: skip
    assert list(definitions["Error"]["properties"]) == ["Error", "ValidationErrors"]
    task = definitions["DocLauncherTask"]["properties"]
    assert {"DocLauncherResultUrl", "UrlExpirationDate", "DataType", "DestinationFolder"} <= set(
        task
    )
    assert "Aborted" in definitions["Workflow"]["properties"]["Status"]["description"]
    assert "WorkflowDocuments" in definitions["Workflow"]["properties"]


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
    (SWAGGER, lambda d: _op(d)["responses"]["200"].pop("schema"), f"{LIST}/responses/200"),
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
