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
# Present only in some states (a finished task, a child folder, a last page…).
CONDITIONAL = {"EndDate", "DocLauncherResultUrl", "ParentFolder", "Next", "Previous"}


@pytest.fixture
def signed_in(
    emulator: Emulator,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Profile]:
    """`clmwizard login` against the emulator, the consent page accepted by its browser."""
    redirect_uri = f"http://127.0.0.1:{_free_port()}/callback"
    emulator.register_redirect_uri(redirect_uri)
    monkeypatch.setenv("BROWSER", f"{sys.executable} -m clmwizard.emulator.browser %s")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emulator.secret_key)
    code = main(login_argv(emulator, profile=NAME, redirect_uri=redirect_uri, timeout=30))
    _, err = capsys.readouterr()
    assert code == 0, err
    yield ProfileStore().load(NAME)


def test_fields_and_export_after_a_real_login(
    signed_in: Profile,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert main(["fields", "--profile", NAME, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    for connector, origin in emulator.clm_hosts.items():
        entry = document[connector]
        assert f"{entry['scheme'].lower()}://{entry['host']}" == origin
        assert entry["base_url"] == "/"
        assert entry["client_id"] == emulator.integration_key
        assert entry["token_url"] == f"{emulator.auth_server}/oauth/token"
    out = str(tmp_path / "bundle")
    assert main(["export", "--profile", NAME, "--out", out, "--layout", "three"]) == 0
    capsys.readouterr()
    files = [p for p in (tmp_path / "bundle").rglob("*") if p.is_file()]
    assert len(files) == 13
    leaked = [
        s for s in emulator.issued_secrets() if any(s.encode() in p.read_bytes() for p in files)
    ]
    assert leaked == []
    single = build_bundle(signed_in, "single")
    policies = json.loads(single["clm/apiProperties.json"])["properties"]["policyTemplateInstances"]
    assert [p["parameters"]["x-ms-apimTemplateParameter.urlTemplate"] for p in policies] == [
        emulator.clm_hosts["upload"],
        emulator.clm_hosts["download"],
    ]


class BundleClient:
    """Calls operations the way the connector would: from the exported swagger files."""

    def __init__(self, profile: Profile, client: httpx.Client, token: str) -> None:
        self.client = client
        self.token = token
        self.called: set[str] = set()
        self.operations: dict[str, tuple[dict[str, Any], str, str, dict[str, Any]]] = {}
        for name, data in build_bundle(profile).items():
            if name.endswith("apiDefinition.swagger.json"):
                swagger = json.loads(data)
                base = (
                    f"{swagger['schemes'][0]}://{swagger['host']}{swagger['basePath'].rstrip('/')}"
                )
                for path, item in swagger["paths"].items():
                    for method, operation in item.items():
                        self.operations[operation["operationId"]] = (
                            swagger,
                            base + path,
                            method,
                            operation,
                        )

    def call(self, operation_id: str, body: Any = None, **values: str) -> Any:
        swagger, url, method, operation = self.operations[operation_id]
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
            elif parameter["in"] == "body":
                consumes = operation.get("consumes", swagger["consumes"])[0]
                headers["Content-Type"] = consumes
                content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = self.client.request(
            method.upper(), url, params=query, content=content, headers=headers
        )
        (status,) = [code for code in operation["responses"] if code.startswith("2")]
        assert response.status_code == int(status), f"{operation_id}: {response.text}"
        self.called.add(operation_id)
        schema = operation["responses"][status]["schema"]
        if schema.get("format") == "binary":
            return response.content
        result = response.json()
        resolved = {**schema, "definitions": swagger["definitions"]}
        jsonschema.Draft4Validator(resolved).validate(result)
        declared = swagger["definitions"][schema["$ref"].rsplit("/", 1)[1]]["properties"]
        missing = set(declared) - set(result) - CONDITIONAL
        assert missing == set(), f"{operation_id} did not return {sorted(missing)}"
        return result


def _id(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[1]


def test_every_operation_answers_on_the_emulator_with_the_documented_shape(
    signed_in: Profile, emulator: Emulator
) -> None:
    token = open_secret_store().get(NAME, ACCESS_TOKEN)
    assert token
    with httpx.Client(timeout=10.0) as client:
        api = BundleClient(signed_in, client, token)
        groups = api.call("ListAttributeGroups")
        assert groups["Total"] == len(groups["Items"]) >= 1
        group = api.call("GetAttributeGroup", AttributeGroupId=_id(groups["Items"][0]["Href"]))
        assert group["Name"] == groups["Items"][0]["Name"]

        contracts = api.call("GetFolderByPath", path="/Contracts")
        assert api.call("GetFolder", FolderId=_id(contracts["Href"]))["Name"] == "Contracts"
        children = api.call("ListSubfolders", FolderId=_id(contracts["Href"]), limit="1")
        assert len(children["Items"]) == 1 and "Next" in children
        active = api.call("GetFolderByPath", path="/Contracts/Active")
        documents = api.call("ListFolderDocuments", FolderId=_id(active["Href"]))
        document_id = _id(documents["Items"][0]["Href"])
        assert api.call("GetDocument", DocumentId=document_id)["Href"].endswith(document_id)
        updated = api.call(
            "UpdateDocumentAttributes",
            {"AttributeGroups": {"Contract Details": {"Counterparty": {"Value": "Northwind"}}}},
            DocumentId=document_id,
        )
        assert updated["AttributeGroups"]["Contract Details"]["Counterparty"]["Value"] == (
            "Northwind"
        )

        definitions = api.call("ListWorkflowDefinitions")
        waiting = next(d for d in definitions["Items"] if d["Name"] == "Contract Approval")
        started = api.call("StartWorkflow", {"Name": waiting["Name"], "Params": "<Params/>"})
        workflow_id = _id(started["Href"])
        emulator.advance_clock(10)
        assert api.call("GetWorkflow", WorkflowId=workflow_id)["Status"] == "Wait for Signal"
        signalled = api.call("SignalWorkflow", {"Data": "<Approved/>"}, WorkflowId=workflow_id)
        assert signalled["Status"] == "Processing"

        configurations = api.call("ListDocLauncherConfigurations")
        task = api.call(
            "StartDocLauncherTask",
            {
                "DocLauncherConfiguration": {"Href": configurations["Items"][0]["Href"]},
                "Data": "<Data/>",
            },
        )
        emulator.advance_clock(10)
        result = api.call("GetDocLauncherTask", TaskId=_id(task["Href"]))
        assert result["Status"] == "Success" and result["DocLauncherResultUrl"]

        content = b"%PDF-1.4 uploaded by the connector test\n"
        uploaded = api.call(
            "UploadDocument", content, FolderId=_id(active["Href"]), name="Upload test.pdf"
        )
        assert uploaded["Name"] == "Upload test.pdf"
        downloaded = api.call("DownloadDocumentContent", DocumentId=_id(uploaded["Href"]))
        assert downloaded == content

    assert api.called == {op.operation_id for op in OPERATIONS}
