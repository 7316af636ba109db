"""End to end: sign in against the emulator, export, and call every operation of the bundle.

The calls are built from the exported swagger itself (scheme, host, basePath, path, method,
parameters), so a path or method the CLM hosts do not serve fails here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from clmwizard.cli import main
from clmwizard.connector.bundle import build_bundle
from clmwizard.connector.operations import OPERATIONS
from clmwizard.emulator import Emulator
from clmwizard.store.profile import ACCESS_TOKEN, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import open_secret_store
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv
from tests.support.ports import free_port as _free_port

NAME = "emu"


@pytest.fixture
def signed_in(
    emu: Emulator,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Profile]:
    """`clmwizard login` against the emulator, the consent page accepted by its browser."""
    redirect_uri = f"http://127.0.0.1:{_free_port()}/callback"
    emu.register_redirect_uri(redirect_uri)
    monkeypatch.setenv("BROWSER", f"{sys.executable} -m clmwizard.emulator.browser %s")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    code = main(login_argv(emu, profile=NAME, redirect_uri=redirect_uri, timeout=30))
    _, err = capsys.readouterr()
    assert code == 0, err
    yield ProfileStore().load(NAME)


def test_fields_and_export_after_a_real_login(
    signed_in: Profile,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert main(["fields", "--profile", NAME, "--format", "json", "--layout", "three"]) == 0
    document = json.loads(capsys.readouterr().out)
    for connector, origin in emu.clm_hosts.items():
        entry = document[connector]
        assert f"{entry['scheme'].lower()}://{entry['host']}" == origin
        assert entry["base_url"] == "/"
        assert entry["client_id"] == emu.integration_key
        assert entry["token_url"] == f"{emu.auth_server}/oauth/token"
    out = str(tmp_path / "bundle")
    assert main(["export", "--profile", NAME, "--out", out, "--layout", "three"]) == 0
    capsys.readouterr()
    files = [p for p in (tmp_path / "bundle").rglob("*") if p.is_file()]
    assert len(files) == 13 + 1  # and the mark
    leaked = [s for s in emu.issued_secrets() if any(s.encode() in p.read_bytes() for p in files)]
    assert leaked == []
    single = build_bundle(signed_in, "single")
    policies = json.loads(single["clm/apiProperties.json"])["properties"]["policyTemplateInstances"]
    hosts = [p for p in policies if p["templateId"] == "dynamichosturl"]
    assert [p["parameters"]["x-ms-apimTemplateParameter.urlTemplate"] for p in hosts] == [
        emu.clm_hosts["upload"],
        emu.clm_hosts["download"],
    ]


# Related data CLM returns only with `expand`: an action without an expand parameter may lack it.
EXPANDABLE = {"AttributeGroups", "Path", "ParentFolder", "Folders", "Documents", "Attributes"}
# Present only in some states (a finished task, a child folder, a last page, a lock…).
CONDITIONAL = {
    "EndDate",
    "ParentFolder",
    "Next",
    "Previous",
    "Lock",
    "Result",
    "ResultDocument",
    "DownloadUrl",
    "DestinationFolder",
}


class BundleClient:
    """Calls operations the way Power Automate would: from an exported bundle's swagger files,
    applying its apiProperties policies (dynamichosturl, routerequesttoendpoint)."""

    def __init__(self, profile: Profile, client: httpx.Client, token: str, layout: str) -> None:
        self.client = client
        self.token = token
        self.called: set[str] = set()
        self.operations: dict[str, tuple[dict[str, Any], str, str, str, dict[str, Any]]] = {}
        files = build_bundle(profile, layout)  # type: ignore[arg-type]
        for name, data in files.items():
            if not name.endswith("apiDefinition.swagger.json"):
                continue
            swagger = json.loads(data)
            base = f"{swagger['schemes'][0]}://{swagger['host']}{swagger['basePath'].rstrip('/')}"
            hosts: dict[str, str] = {}
            paths: dict[str, tuple[str, str]] = {}
            properties = json.loads(files[name.replace("apiDefinition.swagger", "apiProperties")])
            for policy in properties["properties"].get("policyTemplateInstances", []):
                parameters = policy["parameters"]
                for operation_id in parameters["x-ms-apimTemplate-operationName"]:
                    if policy["templateId"] == "dynamichosturl":
                        hosts[operation_id] = parameters["x-ms-apimTemplateParameter.urlTemplate"]
                    else:
                        assert policy["templateId"] == "routerequesttoendpoint"
                        paths[operation_id] = (
                            parameters["x-ms-apimTemplateParameter.newPath"],
                            parameters["x-ms-apimTemplateParameter.httpMethod"],
                        )
            for path, item in swagger["paths"].items():
                for method, operation in item.items():
                    operation_id = operation["operationId"]
                    real_path, real_method = paths.get(operation_id, (path, method.upper()))
                    self.operations[operation_id] = (
                        swagger,
                        hosts.get(operation_id, base),
                        real_path,
                        real_method,
                        operation,
                    )

    def call(self, operation_id: str, body: Any = None, **values: str) -> Any:
        swagger, base, path, method, operation = self.operations[operation_id]
        url = base + path
        query: dict[str, str] = {}
        content: bytes | None = None
        headers = {"Authorization": f"Bearer {self.token}"}
        for parameter in operation["parameters"]:
            value = values.get(parameter["name"], parameter.get("default"))
            if parameter["in"] == "path":
                assert value, f"{operation_id} needs {parameter['name']}"
                url = url.replace("{" + parameter["name"] + "}", value)
            elif parameter["in"] == "query" and value is not None:
                query[parameter["name"]] = value
            elif parameter["in"] == "header" and value is not None:
                headers[parameter["name"]] = value
            elif parameter["in"] == "body":
                consumes = operation.get("consumes", swagger["consumes"])[0]
                if consumes == "multipart/form-data":
                    # What the platform makes of a {"$content-type", "$multipart"} body.
                    request = httpx.Request(
                        "POST", url, files=[("file", part) for part in body["$multipart"]]
                    )
                    headers["Content-Type"] = request.headers["Content-Type"]
                    content = request.read()
                else:
                    headers["Content-Type"] = consumes
                    content = body if isinstance(body, bytes) else json.dumps(body).encode()
        assert "{" not in url, url
        response = self.client.request(method, url, params=query, content=content, headers=headers)
        statuses = [code for code in operation["responses"] if code.startswith("2")]
        assert str(response.status_code) in statuses, f"{operation_id}: {response.text}"
        self.called.add(operation_id)
        schema = operation["responses"][str(response.status_code)].get("schema")
        if schema is None:
            assert response.content == b""
            return None
        if schema.get("type") == "string":
            assert response.content
            return response.content
        result = response.json()
        jsonschema.Draft4Validator({**schema, "definitions": swagger["definitions"]}).validate(
            result
        )
        sent = {p["name"] for p in operation["parameters"]}
        allowed = CONDITIONAL | (set() if "expand" in sent else EXPANDABLE)
        for item in result if isinstance(result, list) else [result]:
            ref = (schema.get("items") or schema)["$ref"]
            declared = swagger["definitions"][ref.rsplit("/", 1)[1]]["properties"]
            missing = set(declared) - set(item) - allowed
            assert missing == set(), f"{operation_id} did not return {sorted(missing)}"
            if "Items" in item:
                for entry in item["Items"]:
                    entry_ref = declared["Items"]["items"]["$ref"]
                    entry_declared = swagger["definitions"][entry_ref.rsplit("/", 1)[1]]
                    missing = set(entry_declared["properties"]) - set(entry) - allowed
                    assert missing == set(), f"{operation_id} items lack {sorted(missing)}"
        return result


def _id(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.parametrize("layout", ["three", "single"])
def test_every_operation_answers_on_the_emulator_with_the_documented_shape(
    signed_in: Profile, emu: Emulator, layout: str
) -> None:
    token = open_secret_store().get(NAME, ACCESS_TOKEN)
    assert token
    with httpx.Client(timeout=10.0) as client:
        api = BundleClient(signed_in, client, token, layout)
        groups = api.call("ListAttributeGroups")
        assert groups["Total"] == len(groups["Items"]) >= 1
        assert groups["Items"][0]["Attributes"]
        group = api.call("GetAttributeGroup", AttributeGroupId=_id(groups["Items"][0]["Href"]))
        assert group["Name"] == groups["Items"][0]["Name"] and group["Attributes"]

        root = api.call("GetSystemFolder")
        contracts = api.call("GetFolderByPath", path="/Contracts")
        assert contracts["ParentFolder"]["Href"] == root["Href"]
        assert api.call("GetFolder", FolderId=_id(contracts["Href"]))["Path"] == "/Contracts"
        children = api.call("ListSubfolders", FolderId=_id(contracts["Href"]), limit="1")
        assert len(children["Items"]) == 1 and "Next" in children
        created = api.call(
            "CreateFolder", {"Name": f"Flows {layout}", "ParentFolder": {"Href": contracts["Href"]}}
        )
        active = api.call("GetFolderByPath", path="/Contracts/Active")
        documents = api.call("ListFolderDocuments", FolderId=_id(active["Href"]))
        document_id = _id(documents["Items"][0]["Href"])
        document = api.call("GetDocument", DocumentId=document_id)
        assert document["AttributeGroups"]["Contract Details"]["Counterparty"]["Value"]
        assert api.call("GetDocumentByPath", path=document["Path"])["Href"] == document["Href"]
        updated = api.call(
            "UpdateDocument",
            {"AttributeGroups": {"Contract Details": {"Counterparty": {"Value": "Northwind"}}}},
            DocumentId=document_id,
        )
        assert updated["AttributeGroups"]["Contract Details"]["Counterparty"]["Value"] == (
            "Northwind"
        )

        search = api.call("StartDocumentSearch", {"Title": "Contoso"})
        emu.advance_clock(10)
        assert api.call("GetDocumentSearch", TaskId=_id(search["Href"]))["Status"] == "Success"
        found = api.call("GetDocumentSearchResults", TaskId=_id(search["Href"]))
        assert found["Total"] >= 1 and "AttributeGroups" in found["Items"][0]

        definitions = api.call("ListWorkflowDefinitions")
        waiting = next(d for d in definitions["Items"] if d["Name"] == "Contract Approval")
        definition = api.call("GetWorkflowDefinition", WorkflowDefinitionId=_id(waiting["Href"]))
        assert definition == waiting
        started = api.call("StartWorkflow", {"Name": waiting["Name"], "Params": "<Params/>"})
        assert started["Status"] == "Execution Pending"
        workflow_id = _id(started["Href"])
        api.call("GetWorkflow", WorkflowId=workflow_id)
        emu.advance_clock(10)
        assert api.call("GetWorkflow", WorkflowId=workflow_id)["Status"] == "Waiting"
        signalled = api.call("SignalWorkflow", {"Data": "<Approved/>"}, WorkflowId=workflow_id)
        assert signalled["Status"] == "Executing"
        other = api.call(
            "StartWorkflow",
            {"Name": waiting["Name"], "WorkflowDocuments": [{"Href": document["Href"]}]},
        )
        assert api.call("StopWorkflow", WorkflowId=_id(other["Href"])) is None
        assert api.call("GetWorkflow", WorkflowId=_id(other["Href"]))["Status"] == "Aborted"

        configurations = api.call("ListDocLauncherConfigurations")
        configuration = api.call(
            "GetDocLauncherConfiguration", ConfigurationId=_id(configurations["Items"][0]["Href"])
        )
        task = api.call(
            "StartDocLauncherTask",
            {
                "DocLauncherConfiguration": {"Href": configuration["Href"]},
                "Data": "<Data/>",
                "DataType": "xml",
            },
        )
        assert task["DocLauncherResultUrl"]  # flows read it from the start answer
        emu.advance_clock(10)
        assert api.call("GetDocLauncherTask", TaskId=_id(task["Href"]))["Status"] == "Success"

        templates = api.call("GetFolderByPath", path="/Templates")
        template = api.call("ListFolderDocuments", FolderId=_id(templates["Href"]))["Items"][0]
        merge = api.call(
            "StartDocumentGeneration",
            {
                "TemplateDocument": {"Href": template["Href"]},
                "DataXml": "<Data/>",
                "DestinationFolder": {"Href": created["Href"]},
                "DestinationDocumentName": "Generated.pdf",
            },
        )
        emu.advance_clock(10)
        generated = api.call("GetDocumentGeneration", TaskId=_id(merge["Href"]))
        assert generated["Status"] == "Success" and generated["ResultDocument"]["Href"]

        content = b"%PDF-1.4 uploaded by the connector test\n"
        uploaded = api.call(
            "UploadDocument", content, FolderId=_id(active["Href"]), name=f"Upload {layout}.pdf"
        )
        uploaded_id = _id(uploaded["Href"])
        assert api.call("DownloadDocument", DocumentId=uploaded_id) == content
        assert api.call("DownloadDocumentPdf", DocumentId=uploaded_id) == content
        assert b"Upload" in api.call("DownloadDocumentText", DocumentId=uploaded_id)
        lock = api.call("CheckOutDocument", DocumentId=uploaded_id)
        assert lock["CheckInHref"].endswith(f"/documents/{uploaded_id}")
        assert api.call("CancelCheckOut", DocumentId=uploaded_id) is None
        api.call("CheckOutDocument", DocumentId=uploaded_id)
        second = api.call("UploadNewVersion", b"%PDF-1.4 version two\n", DocumentId=uploaded_id)
        assert second["Version"] == "2.0"
        versions = api.call("ListDocumentVersions", DocumentId=uploaded_id)
        first = versions["Items"][-1]
        assert api.call("DownloadDocumentVersion", VersionId=_id(first["Href"])) == content
        history = api.call("ListDocumentHistory", DocumentId=uploaded_id)
        assert history["Items"][0]["Action"] == "CheckedIn"
        several = api.call(
            "UploadDocuments",
            {
                "$content-type": "multipart/form-data",
                "$multipart": [
                    ("a.pdf", b"%PDF a", "application/pdf"),
                    ("b.txt", b"b", "text/plain"),
                ],
            },
            FolderId=_id(created["Href"]),
        )
        assert [d["Name"] for d in several] == ["a.pdf", "b.txt"]
        moved = api.call(
            "UpdateDocument",
            {"Name": "Moved.pdf", "ParentFolder": {"Href": created["Href"]}},
            DocumentId=uploaded_id,
        )
        assert moved["Path"] == f"/Contracts/Flows {layout}/Moved.pdf"
        assert api.call("DeleteDocument", DocumentId=uploaded_id) is None

    assert api.called == {op.operation_id for op in OPERATIONS}
