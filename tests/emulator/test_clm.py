"""CLM base-URL discovery and the CLM v2 slice on the general, upload and download hosts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.flows import bearer, tokens


@dataclass
class Clm:
    emu: Emulator
    client: httpx.Client
    token: str

    def url(self, host: str, path: str) -> str:
        return f"{self.emu.clm_hosts[host]}/v2/{self.emu.account_id}{path}"

    def call(
        self, method: str, host: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**bearer(token or self.token), **kwargs.pop("headers", {})}
        return self.client.request(method, self.url(host, path), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", "general", path, **kwargs)

    def ok(self, path: str, **kwargs: Any) -> Any:
        response = self.get(path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def folder(self, path: str) -> Any:
        return self.ok("/folders", params={"path": path})


@pytest.fixture
def clm(emulator: Emulator, client: httpx.Client) -> Iterator[Clm]:
    yield Clm(emulator, client, str(tokens(emulator, client)["access_token"]))


def assert_clm_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["Error"]
    assert set(error) == {
        "HttpStatusCode",
        "UserMessage",
        "DeveloperMessage",
        "ErrorCode",
        "ReferenceId",
    }
    assert error["HttpStatusCode"] == status
    return error


def id_of(item: dict[str, Any]) -> str:
    return str(item["Href"]).rsplit("/", 1)[1]


# -- discovery -----------------------------------------------------------------------------


def test_discovery_points_at_the_three_hosts(clm: Clm) -> None:
    response = clm.client.get(
        f"{clm.emu.clm_auth_server}/api/v2/{clm.emu.account_id}/account", headers=bearer(clm.token)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["Id"] == clm.emu.account_id
    assert body["Name"] == "Northwind Traders"
    assert body["ApiBaseUrl"] == clm.emu.clm_hosts["general"] + "/"
    assert body["ApiBaseUploadUrl"] == clm.emu.clm_hosts["upload"] + "/"
    assert body["ApiBaseDownloadUrl"] == clm.emu.clm_hosts["download"] + "/"
    assert body["WebLandingPageUrl"].startswith("http://127.0.0.1:")


def test_discovery_refusals(emulator: Emulator, client: httpx.Client) -> None:
    base = f"{emulator.clm_auth_server}/api/v2"
    no_spring = tokens(emulator, client, "signature extended")["access_token"]
    assert_clm_error(
        client.get(f"{base}/{emulator.account_id}/account", headers=bearer(no_spring)), 401
    )
    assert_clm_error(client.get(f"{base}/{emulator.account_id}/account"), 401)
    read_only = tokens(emulator, client, "spring_read")["access_token"]
    ok = client.get(f"{base}/{emulator.account_id}/account", headers=bearer(read_only))
    assert ok.status_code == 200
    unknown = client.get(
        f"{base}/00000000-0000-0000-0000-000000000000/account", headers=bearer(read_only)
    )
    assert_clm_error(unknown, 404)
    emulator.advance_clock(28801)
    expired = client.get(f"{base}/{emulator.account_id}/account", headers=bearer(read_only))
    assert_clm_error(expired, 401)


def test_discovery_for_the_second_account(client: httpx.Client) -> None:
    with Emulator(accounts=2) as emu:
        other = next(a["account_id"] for a in emu.accounts if not a["is_default"])
        token = tokens(emu, client)["access_token"]
        response = client.get(
            f"{emu.clm_auth_server}/api/v2/{other}/account", headers=bearer(token)
        )
        assert response.json()["Id"] == other
        assert response.json()["Name"] == "Northwind Traders Sandbox 1"


# -- scopes and tokens on the hosts --------------------------------------------------------


def test_missing_spring_scopes_is_401_and_missing_write_is_403(
    emulator: Emulator, client: httpx.Client
) -> None:
    clm = Clm(emulator, client, "")
    assert_clm_error(clm.get("/attributegroups", token="nope"), 401)
    signature_only = str(tokens(emulator, client, "signature")["access_token"])
    assert_clm_error(clm.get("/attributegroups", token=signature_only), 401)
    write_only = str(tokens(emulator, client, "spring_write")["access_token"])
    assert_clm_error(clm.get("/attributegroups", token=write_only), 403)
    read_only = str(tokens(emulator, client, "spring_read")["access_token"])
    assert clm.get("/attributegroups", token=read_only).status_code == 200
    folder = id_of(Clm(emulator, client, read_only).folder("/Contracts/Active"))
    upload = clm.call(
        "POST",
        "upload",
        f"/folders/{folder}/documents",
        read_only,
        params={"name": "a.pdf"},
        content=b"%PDF",
    )
    assert_clm_error(upload, 403)
    flow = clm.call("POST", "general", "/workflows", read_only, json={"Name": "Archive Document"})
    assert_clm_error(flow, 403)


def test_content_scope_reaches_content_only(emulator: Emulator, client: httpx.Client) -> None:
    full = Clm(emulator, client, str(tokens(emulator, client)["access_token"]))
    doc = full.ok(f"/folders/{id_of(full.folder('/Contracts/Active'))}/documents")["Items"][0]
    content_only = str(tokens(emulator, client, "content")["access_token"])
    download = full.call("GET", "download", f"/documents/{id_of(doc)}/content", content_only)
    assert download.status_code == 200
    assert_clm_error(full.get(f"/documents/{id_of(doc)}", token=content_only), 403)


def test_expired_token_is_401_on_the_hosts(clm: Clm) -> None:
    assert clm.get("/attributegroups").status_code == 200
    clm.emu.advance_clock(28801)
    assert_clm_error(clm.get("/attributegroups"), 401)


def test_unknown_account_and_ids_are_404(clm: Clm) -> None:
    unknown = f"{clm.emu.clm_hosts['general']}/v2/00000000-0000-0000-0000-000000000000"
    response = clm.client.get(f"{unknown}/attributegroups", headers=bearer(clm.token))
    assert_clm_error(response, 404)
    missing = "11111111-1111-1111-1111-111111111111"
    for path in (
        f"/attributegroups/{missing}",
        f"/folders/{missing}",
        f"/folders/{missing}/folders",
        f"/folders/{missing}/documents",
        f"/documents/{missing}",
        f"/workflows/{missing}",
        f"/doclaunchertasks/{missing}",
        "/nothing-here",
    ):
        assert_clm_error(clm.get(path), 404)


def test_each_host_serves_only_its_own_paths(clm: Clm) -> None:
    folder = id_of(clm.folder("/Contracts/Active"))
    doc = id_of(clm.ok(f"/folders/{folder}/documents")["Items"][0])
    assert_clm_error(clm.call("GET", "upload", "/attributegroups"), 404)
    assert_clm_error(clm.call("GET", "download", "/attributegroups"), 404)
    assert_clm_error(clm.call("GET", "general", f"/documents/{doc}/content"), 404)
    assert_clm_error(clm.call("GET", "upload", f"/documents/{doc}/content"), 404)
    wrong_host_upload = clm.call(
        "POST", "general", f"/folders/{folder}/documents", params={"name": "x.pdf"}, content=b"x"
    )
    assert wrong_host_upload.status_code == 405  # the general host lists, it does not upload
    assert_clm_error(clm.call("GET", "download", f"/folders/{folder}"), 404)
    double_slash = clm.client.get(
        f"{clm.emu.clm_hosts['general']}//v2/{clm.emu.account_id}/attributegroups",
        headers=bearer(clm.token),
    )
    assert_clm_error(double_slash, 404)


# -- attribute groups, folders, documents --------------------------------------------------


def test_attribute_groups_collection_and_item(clm: Clm) -> None:
    body = clm.ok("/attributegroups")
    assert {"Items", "Href", "Offset", "Limit", "First", "Last", "Total"} <= set(body)
    assert body["Total"] == 2
    assert (body["Offset"], body["Limit"]) == (0, 20)
    names = [g["Name"] for g in body["Items"]]
    assert names == ["Contract Details", "Approvals"]
    details = body["Items"][0]
    assert details["Href"].startswith(clm.url("general", "/attributegroups/"))
    fields = {a["Name"]: a for a in details["Attributes"]}
    assert fields["Status"]["AttributeType"] == "DropDownList"
    assert fields["Status"]["PickList"]["Values"] == ["Draft", "In Review", "Active", "Expired"]
    assert fields["Effective Date"]["AttributeType"] == "Date"
    one = clm.ok(f"/attributegroups/{id_of(details)}")
    assert one == details


def test_paging_honours_offset_and_limit(clm: Clm) -> None:
    page = clm.ok("/attributegroups", params={"offset": 1, "limit": 1})
    assert [g["Name"] for g in page["Items"]] == ["Approvals"]
    assert (page["Offset"], page["Limit"], page["Total"]) == (1, 1, 2)
    assert page["First"].endswith("offset=0&limit=1")
    assert page["Last"].endswith("offset=1&limit=1")
    assert "Next" not in page
    assert page["Previous"].endswith("offset=0&limit=1")
    first = clm.ok("/attributegroups", params={"limit": 1})
    assert first["Next"].endswith("offset=1&limit=1")
    following = clm.client.get(first["Next"], headers=bearer(clm.token)).json()
    assert following["Items"] == page["Items"]
    beyond = clm.ok("/attributegroups", params={"offset": 10})
    assert beyond["Items"] == []
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"offset": "x"}):
        response = clm.get("/attributegroups", params=bad)
        assert_clm_error(response, 422)
        assert response.json()["ValidationErrors"][0]["PropertyName"] in ("offset", "limit")


def test_folders_by_path_and_id_and_children(clm: Clm) -> None:
    root = clm.folder("/")
    assert root["Path"] == "/"
    assert "ParentFolder" not in root
    assert root == clm.ok("/folders", params={"systemfolder": "root"})
    children = clm.client.get(root["Folders"]["Href"], headers=bearer(clm.token)).json()
    assert [f["Name"] for f in children["Items"]] == [
        "Contracts",
        "Power Automate Uploads",
        "Templates",
    ]
    contracts = clm.folder("/Contracts")
    assert contracts["ParentFolder"]["Href"] == root["Href"]
    assert clm.ok(f"/folders/{id_of(contracts)}") == contracts
    assert contracts["CreateDocumentHref"] == (
        clm.url("upload", f"/folders/{id_of(contracts)}/documents") + "{?name}"
    )
    assert contracts["Documents"]["Href"] == clm.url(
        "general", f"/folders/{id_of(contracts)}/documents"
    )
    assert clm.folder("/Contracts/Active/")["Path"] == "/Contracts/Active"
    assert_clm_error(clm.get("/folders", params={"path": "/Contracts/Nope"}), 404)
    assert_clm_error(clm.get("/folders"), 422)


def test_folder_documents_and_document(clm: Clm) -> None:
    active = clm.folder("/Contracts/Active")
    docs = clm.client.get(active["Documents"]["Href"], headers=bearer(clm.token)).json()
    assert docs["Total"] == 3
    doc = docs["Items"][0]
    assert doc["Name"] == "Master Services Agreement - Contoso.pdf"
    assert doc["Path"] == "/Contracts/Active/Master Services Agreement - Contoso.pdf"
    assert doc["ParentFolder"]["Href"] == active["Href"]
    counterparty = doc["AttributeGroups"]["Contract Details"]["Counterparty"]
    assert counterparty == {
        "AttributeType": "String",
        "RepeatingAttribute": False,
        "Value": "Contoso Ltd",
    }
    assert doc["DownloadDocumentHref"] == clm.url("download", f"/documents/{id_of(doc)}/content")
    assert clm.ok(f"/documents/{id_of(doc)}") == doc
    assert clm.ok(f"/folders/{id_of(clm.folder('/Templates'))}/documents")["Total"] == 0


def test_patch_document_attributes(clm: Clm) -> None:
    doc = clm.ok(f"/folders/{id_of(clm.folder('/Contracts/Active'))}/documents")["Items"][1]
    body = {
        "AttributeGroups": {
            "Contract Details": {"Status": {"Value": "Expired"}, "Contract Value": 125000},
            "Approvals": {"Approver": {"Value": "Jordan Lee"}},
        },
        "Description": "Renewed",
    }
    response = clm.call("PATCH", "general", f"/documents/{id_of(doc)}", json=body)
    assert response.status_code == 200
    updated = response.json()
    details = updated["AttributeGroups"]["Contract Details"]
    assert details["Status"]["Value"] == "Expired"
    assert details["Contract Value"] == {
        "AttributeType": "Number",
        "RepeatingAttribute": False,
        "Value": 125000,
    }
    assert details["Counterparty"]["Value"] == "Fabrikam Inc"  # untouched fields stay
    assert updated["AttributeGroups"]["Approvals"]["Approver"]["Value"] == "Jordan Lee"
    assert updated["Description"] == "Renewed"
    assert clm.ok(f"/documents/{id_of(doc)}") == updated


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"AttributeGroups": {"Nope": {}}}, "There is no attribute group 'Nope'."),
        ({"AttributeGroups": {"Approvals": {"Colour": "red"}}}, "has no field named 'Colour'"),
        ({"AttributeGroups": {"Contract Details": {"Status": "Lost"}}}, "takes one of: Draft"),
        ({"AttributeGroups": {"Approvals": {"Approved On": "soon"}}}, "takes a date"),
        ({"AttributeGroups": {"Contract Details": {"Contract Value": "lots"}}}, "takes a number"),
        ({"Name": 5}, "Name must be text."),
    ],
)
def test_patch_document_validation(clm: Clm, body: dict[str, Any], needle: str) -> None:
    doc = clm.ok(f"/folders/{id_of(clm.folder('/Contracts/Active'))}/documents")["Items"][0]
    response = clm.call("PATCH", "general", f"/documents/{id_of(doc)}", json=body)
    assert_clm_error(response, 422)
    assert needle in response.json()["ValidationErrors"][0]["UserMessage"]
    assert clm.ok(f"/documents/{id_of(doc)}") == doc


def test_patch_with_a_body_that_is_not_json(clm: Clm) -> None:
    doc = clm.ok(f"/folders/{id_of(clm.folder('/Contracts/Active'))}/documents")["Items"][0]
    response = clm.call("PATCH", "general", f"/documents/{id_of(doc)}", content=b"{not json")
    assert_clm_error(response, 400)


def test_upload_then_download(clm: Clm) -> None:
    folder = clm.folder("/Power Automate Uploads")
    content = b"%PDF-1.7 pretend contract " + bytes(range(256))
    response = clm.call(
        "POST",
        "upload",
        f"/folders/{id_of(folder)}/documents",
        params={"name": "Signed NDA.pdf"},
        content=content,
        headers={**bearer(clm.token), "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201
    doc = response.json()
    assert doc["Name"] == "Signed NDA.pdf"
    assert doc["Path"] == "/Power Automate Uploads/Signed NDA.pdf"
    assert doc["NativeFileSize"] == len(content)
    assert doc["Href"].startswith(clm.url("general", "/documents/"))
    assert response.headers["location"] == doc["Href"]
    assert clm.ok(f"/folders/{id_of(folder)}/documents")["Total"] == 1
    download = clm.client.get(doc["DownloadDocumentHref"], headers=bearer(clm.token))
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert 'filename="Signed NDA.pdf"' in download.headers["content-disposition"]


def test_upload_guesses_the_type_and_streams_chunked(clm: Clm) -> None:
    folder = id_of(clm.folder("/Templates"))

    def chunks() -> Iterator[bytes]:
        yield b"col1,col2\n"
        yield b"1,2\n"

    response = clm.call(
        "POST",
        "upload",
        f"/folders/{folder}/documents",
        params={"name": "rows.csv"},
        content=chunks(),
    )
    assert response.status_code == 201
    download = clm.client.get(response.json()["DownloadDocumentHref"], headers=bearer(clm.token))
    assert download.content == b"col1,col2\n1,2\n"
    assert download.headers["content-type"] == "text/csv"


def test_upload_errors(clm: Clm) -> None:
    folder = id_of(clm.folder("/Templates"))
    no_name = clm.call("POST", "upload", f"/folders/{folder}/documents", content=b"x")
    assert_clm_error(no_name, 422)
    empty = clm.call(
        "POST", "upload", f"/folders/{folder}/documents", params={"name": "a.pdf"}, content=b""
    )
    assert_clm_error(empty, 422)
    nowhere = clm.call(
        "POST",
        "upload",
        "/folders/11111111-1111-1111-1111-111111111111/documents",
        params={"name": "a.pdf"},
        content=b"x",
    )
    assert_clm_error(nowhere, 404)


# -- workflows and Doc Launcher ------------------------------------------------------------


def test_workflow_definitions(clm: Clm) -> None:
    body = clm.ok("/workflowdefinitions")
    assert [d["Name"] for d in body["Items"]] == ["Contract Approval", "Archive Document"]
    first = body["Items"][0]
    assert clm.client.get(first["Href"], headers=bearer(clm.token)).json() == first


def test_workflow_with_a_signal_step(clm: Clm) -> None:
    start = clm.call(
        "POST",
        "general",
        "/workflows",
        json={"Name": "Contract Approval", "Params": "<Params><Id>7</Id></Params>"},
    )
    assert start.status_code == 202
    flow = start.json()
    assert flow["Status"] == "Processing"
    assert flow["Params"] == "<Params><Id>7</Id></Params>"
    assert start.headers["location"] == flow["Href"]

    def poll() -> Any:
        return clm.client.get(flow["Href"], headers=bearer(clm.token)).json()

    assert poll()["Status"] == "Processing"
    assert poll()["Status"] == "Wait for Signal"
    signal = clm.call("POST", "general", f"/workflows/{id_of(flow)}/signal", json={"Data": "<ok/>"})
    assert signal.status_code == 202
    assert signal.json()["Status"] == "Processing"
    again = clm.call("POST", "general", f"/workflows/{id_of(flow)}/signal", json={"Data": "x"})
    assert_clm_error(again, 422)
    assert poll()["Status"] == "Processing"
    done = poll()
    assert done["Status"] == "Success"
    assert "EndDate" in done


def test_workflow_settles_when_the_clock_moves(clm: Clm) -> None:
    flow = clm.call("POST", "general", "/workflows", json={"Name": "Archive Document"}).json()
    clm.emu.advance_clock(6)
    assert clm.client.get(flow["Href"], headers=bearer(clm.token)).json()["Status"] == "Success"
    signal = clm.call("POST", "general", f"/workflows/{id_of(flow)}/signal", json={"Data": "x"})
    error = assert_clm_error(signal, 422)
    assert error["UserMessage"]
    assert "Wait for Signal" in signal.json()["ValidationErrors"][0]["UserMessage"]


def test_workflow_start_validation(clm: Clm) -> None:
    unknown = clm.call("POST", "general", "/workflows", json={"Name": "No Such Flow"})
    assert_clm_error(unknown, 422)
    validation = unknown.json()["ValidationErrors"]
    assert validation[0]["PropertyName"] == "Name"
    assert "No Such Flow" in validation[0]["UserMessage"]
    assert_clm_error(clm.call("POST", "general", "/workflows", json={"Params": "<x/>"}), 422)
    bad_params = clm.call(
        "POST", "general", "/workflows", json={"Name": "Archive Document", "Params": 3}
    )
    assert_clm_error(bad_params, 422)


def test_doc_launcher(clm: Clm) -> None:
    configurations = clm.ok("/doclauncherconfigurations")["Items"]
    assert [c["Name"] for c in configurations] == ["NDA Request", "Statement of Work"]
    body = {"DocLauncherConfiguration": {"Href": configurations[0]["Href"]}, "Data": "<Data/>"}
    start = clm.call("POST", "general", "/doclaunchertasks", json=body)
    assert start.status_code == 202
    task = start.json()
    assert task["Status"] == "Processing"
    assert "DocLauncherResultUrl" not in task

    def poll() -> Any:
        return clm.client.get(task["Href"], headers=bearer(clm.token)).json()

    assert poll()["Status"] == "Processing"
    done = poll()
    assert done["Status"] == "Success"
    assert done["DocLauncherResultUrl"].startswith(clm.emu.clm_hosts["general"])
    bad = clm.call("POST", "general", "/doclaunchertasks", json={"Data": "<Data/>"})
    assert_clm_error(bad, 422)
