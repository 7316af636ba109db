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

    def folder(self, path: str, expand: str = "Path,ParentFolder,Folders,Documents") -> Any:
        return self.ok("/folders/path", params={"path": path, "expand": expand})

    def document(self, document_id: str, expand: str = "AttributeGroups,Path,ParentFolder") -> Any:
        return self.ok(f"/documents/{document_id}", params={"expand": expand})

    def documents(self, folder_path: str, expand: str = "") -> list[Any]:
        folder = id_of(self.folder(folder_path))
        params = {"expand": expand} if expand else {}
        items: list[Any] = self.ok(f"/folders/{folder}/documents", params=params)["Items"]
        return items


@pytest.fixture
def clm(emu: Emulator, client: httpx.Client) -> Iterator[Clm]:
    yield Clm(emu, client, str(tokens(emu, client)["access_token"]))


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
    assert "Name" not in body  # the real answer has none
    assert body["ApiBaseUrl"] == clm.emu.clm_hosts["general"] + "/"
    assert body["ApiBaseUploadUrl"] == clm.emu.clm_hosts["upload"] + "/"
    assert body["ApiBaseDownloadUrl"] == clm.emu.clm_hosts["download"] + "/"
    assert body["WebLandingPageUrl"].startswith("http://127.0.0.1:")


def test_discovery_refusals(emu: Emulator, client: httpx.Client) -> None:
    base = f"{emu.clm_auth_server}/api/v2"
    no_spring = tokens(emu, client, "signature extended")["access_token"]
    assert_clm_error(client.get(f"{base}/{emu.account_id}/account", headers=bearer(no_spring)), 401)
    assert_clm_error(client.get(f"{base}/{emu.account_id}/account"), 401)
    read_only = tokens(emu, client, "spring_read")["access_token"]
    ok = client.get(f"{base}/{emu.account_id}/account", headers=bearer(read_only))
    assert ok.status_code == 200
    unknown = client.get(
        f"{base}/00000000-0000-0000-0000-000000000000/account", headers=bearer(read_only)
    )
    assert_clm_error(unknown, 404)
    emu.advance_clock(28801)
    expired = client.get(f"{base}/{emu.account_id}/account", headers=bearer(read_only))
    assert_clm_error(expired, 401)


def test_discovery_for_the_second_account(client: httpx.Client) -> None:
    with Emulator(accounts=2) as emu:
        other = next(a["account_id"] for a in emu.accounts if not a["is_default"])
        token = tokens(emu, client)["access_token"]
        response = client.get(
            f"{emu.clm_auth_server}/api/v2/{other}/account", headers=bearer(token)
        )
        assert response.json()["Id"] == other
        assert "Name" not in response.json()


# -- scopes and tokens on the hosts --------------------------------------------------------


def test_missing_spring_scopes_is_401_and_missing_write_is_403(
    emu: Emulator, client: httpx.Client
) -> None:
    clm = Clm(emu, client, "")
    assert_clm_error(clm.get("/attributegroups", token="nope"), 401)
    signature_only = str(tokens(emu, client, "signature")["access_token"])
    assert_clm_error(clm.get("/attributegroups", token=signature_only), 401)
    write_only = str(tokens(emu, client, "spring_write")["access_token"])
    assert_clm_error(clm.get("/attributegroups", token=write_only), 403)
    read_only = str(tokens(emu, client, "spring_read")["access_token"])
    assert clm.get("/attributegroups", token=read_only).status_code == 200
    folder = id_of(Clm(emu, client, read_only).folder("/Contracts/Active"))
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


def test_content_scope_reaches_content_only(emu: Emulator, client: httpx.Client) -> None:
    full = Clm(emu, client, str(tokens(emu, client)["access_token"]))
    doc = full.ok(f"/folders/{id_of(full.folder('/Contracts/Active'))}/documents")["Items"][0]
    content_only = str(tokens(emu, client, "content")["access_token"])
    download = full.call("GET", "download", f"/documents/{id_of(doc)}", content_only)
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
    assert_clm_error(clm.call("GET", "download", f"/documents/{doc}/content"), 404)  # no /content
    assert_clm_error(clm.call("GET", "upload", f"/documents/{doc}"), 405)  # upload: POST only
    assert_clm_error(clm.call("POST", "general", f"/documents/{doc}", content=b"x"), 405)
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
    assert all("Attributes" not in g for g in body["Items"])  # only with expand=Attributes
    details = clm.ok("/attributegroups", params={"expand": "Attributes"})["Items"][0]
    assert details["Href"].startswith(clm.url("general", "/attributegroups/"))
    fields = {a["Name"]: a for a in details["Attributes"]}
    assert fields["Status"]["AttributeType"] == "DropDownList"
    assert fields["Status"]["PickList"]["Values"] == ["Draft", "In Review", "Active", "Expired"]
    assert fields["Effective Date"]["AttributeType"] == "Date"
    one = clm.ok(f"/attributegroups/{id_of(details)}", params={"expand": "Attributes"})
    assert one == details
    lower = clm.ok(f"/attributegroups/{id_of(details)}", params={"expand": "attributes"})
    assert "Attributes" not in lower  # lower-case expand values are ignored


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
    assert clm.ok("/attributegroups", params={"limit": 100})["Limit"] == 100
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": "x"}):
        response = clm.get("/attributegroups", params=bad)
        assert_clm_error(response, 422)
        assert response.json()["ValidationErrors"][0]["PropertyName"] in ("offset", "limit")
        assert response.json()["Error"]["ErrorCode"] == 101


def test_paging_names_are_one_choice_and_the_other_names_are_ignored(clm: Clm) -> None:
    """unconfirmed which names CLM reads: the emulator reads offset/limit by default, ignores
    pageSortParams.*, and can be switched to them."""
    ignored = clm.ok("/attributegroups", params={"pageSortParams.limit": 1})
    assert (ignored["Limit"], len(ignored["Items"])) == (20, 2)
    clm.emu._clm.paging_names = ("pageSortParams.offset", "pageSortParams.limit")  # type: ignore[union-attr]
    page = clm.ok("/attributegroups", params={"pageSortParams.limit": 1, "limit": 5})
    assert (page["Limit"], len(page["Items"])) == (1, 1)
    assert "pageSortParams.offset=1" in page["Next"]


def test_folders_by_path_and_id_and_children(clm: Clm) -> None:
    root = clm.folder("/")
    assert root["Path"] == "/"
    assert "ParentFolder" not in root
    expand = {"expand": "Path,ParentFolder,Folders,Documents"}
    assert root == clm.ok("/folders/type", params={"systemFolder": "root", **expand})
    children = clm.client.get(root["Folders"]["Href"], headers=bearer(clm.token)).json()
    assert [f["Name"] for f in children["Items"]] == [
        "Contracts",
        "Power Automate Uploads",
        "Templates",
    ]
    contracts = clm.folder("/Contracts")
    assert contracts["ParentFolder"]["Href"] == root["Href"]
    assert clm.ok(f"/folders/{id_of(contracts)}", params=expand) == contracts
    bare = clm.ok(f"/folders/{id_of(contracts)}")
    assert not {"Path", "ParentFolder", "Folders", "Documents"} & set(bare)
    assert contracts["CreateDocumentHref"] == (
        clm.url("upload", f"/folders/{id_of(contracts)}/documents") + "{?name}"
    )
    assert contracts["Documents"]["Href"] == clm.url(
        "general", f"/folders/{id_of(contracts)}/documents"
    )
    assert clm.folder("/Contracts/Active/")["Path"] == "/Contracts/Active"
    assert_clm_error(clm.get("/folders/path", params={"path": "/Contracts/Nope"}), 404)
    assert_clm_error(clm.get("/folders/path"), 422)
    # GET /folders itself is not a call CLM offers (the old v201411 ?path= form neither).
    assert_clm_error(clm.get("/folders", params={"path": "/Contracts"}), 405)
    assert_clm_error(clm.get("/folders/type", params={"systemFolder": "attic"}), 422)


def test_the_system_folder_parameter_name_is_overridable(clm: Clm) -> None:
    """unconfirmed: systemFolder is third-party evidence; the emulator can take another name."""
    clm.emu._clm.system_folder_parameter = "type"  # type: ignore[union-attr]
    assert clm.ok("/folders/type", params={"type": "root"})["Name"]
    assert_clm_error(clm.get("/folders/type", params={"systemFolder": "root"}), 422)


def test_folder_documents_and_document(clm: Clm) -> None:
    active = clm.folder("/Contracts/Active")
    docs = clm.client.get(
        active["Documents"]["Href"],
        params={"expand": "AttributeGroups,Path,ParentFolder"},
        headers=bearer(clm.token),
    ).json()
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
    assert doc["DownloadDocumentHref"] == clm.url("download", f"/documents/{id_of(doc)}")
    assert clm.document(id_of(doc)) == doc
    bare = clm.ok(f"/documents/{id_of(doc)}")
    assert not {"AttributeGroups", "Path", "ParentFolder", "Lock"} & set(bare)
    assert "AttributeGroups" not in clm.document(id_of(doc), "attributegroups,path")
    by_path = clm.ok("/documents", params={"path": doc["Path"], "expand": "AttributeGroups"})
    assert by_path["Href"] == doc["Href"] and "AttributeGroups" in by_path
    assert_clm_error(clm.get("/documents", params={"path": "/Contracts/none.pdf"}), 404)
    assert clm.ok(f"/folders/{id_of(clm.folder('/Templates'))}/documents")["Total"] == 1


def test_patch_document_attributes(clm: Clm) -> None:
    doc = clm.documents("/Contracts/Active")[1]
    body = {
        "AttributeGroups": {
            "Contract Details": {"Status": {"Value": "Expired"}, "Contract Value": 125000},
            "Approvals": {"Approver": {"Value": "Jordan Lee"}},
        },
        "Description": "Renewed",
    }
    response = clm.call(
        "PATCH",
        "general",
        f"/documents/{id_of(doc)}",
        json=body,
        params={"expand": "AttributeGroups,Path,ParentFolder"},
    )
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
    assert clm.document(id_of(doc)) == updated


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
    doc = clm.document(id_of(clm.documents("/Contracts/Active")[0]))
    response = clm.call("PATCH", "general", f"/documents/{id_of(doc)}", json=body)
    assert_clm_error(response, 422)
    assert needle in response.json()["ValidationErrors"][0]["UserMessage"]
    assert clm.document(id_of(doc)) == doc


def test_patch_with_a_body_that_is_not_json(clm: Clm) -> None:
    doc = clm.documents("/Contracts/Active")[0]
    response = clm.call("PATCH", "general", f"/documents/{id_of(doc)}", content=b"{not json")
    assert_clm_error(response, 400)


def test_upload_then_download(clm: Clm) -> None:
    folder = clm.folder("/Power Automate Uploads")
    content = b"%PDF-1.7 pretend contract " + bytes(range(256))
    response = clm.call(
        "POST",
        "upload",
        f"/folders/{id_of(folder)}/documents",
        params={"name": "Signed NDA.pdf", "expand": "Path"},
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
    assert start.status_code == 201
    flow = start.json()
    assert flow["Status"] == "Execution Pending"
    assert flow["Params"] == "<Params><Id>7</Id></Params>"
    assert start.headers["location"] == flow["Href"]

    def poll() -> Any:
        return clm.client.get(flow["Href"], headers=bearer(clm.token)).json()

    assert poll()["Status"] == "Executing"
    assert poll()["Status"] == "Executing"
    assert poll()["Status"] == "Waiting"
    signal = clm.call("POST", "general", f"/workflows/{id_of(flow)}/signal", json={"Data": "<ok/>"})
    assert signal.status_code == 200
    assert signal.json()["Status"] == "Executing"
    again = clm.call("POST", "general", f"/workflows/{id_of(flow)}/signal", json={"Data": "x"})
    assert_clm_error(again, 422)
    assert poll()["Status"] == "Executing"
    done = poll()
    assert done["Status"] == "Completed"
    assert "EndDate" in done


def test_workflow_settles_when_the_clock_moves(clm: Clm) -> None:
    flow = clm.call("POST", "general", "/workflows", json={"Name": "Archive Document"}).json()
    assert clm.client.get(flow["Href"], headers=bearer(clm.token)).json()["Status"] == "Executing"
    clm.emu.advance_clock(6)
    assert clm.client.get(flow["Href"], headers=bearer(clm.token)).json()["Status"] == "Completed"
    signal = clm.call("POST", "general", f"/workflows/{id_of(flow)}/signal", json={"Data": "x"})
    error = assert_clm_error(signal, 422)
    assert error["UserMessage"]
    assert "Wait for Signal" in signal.json()["ValidationErrors"][0]["UserMessage"]
    stop = clm.call("DELETE", "general", f"/workflows/{id_of(flow)}")
    assert_clm_error(stop, 422)  # a completed workflow cannot be stopped


def test_stop_a_workflow_and_start_one_with_documents(clm: Clm) -> None:
    doc = clm.documents("/Contracts/Active")[0]
    start = clm.call(
        "POST",
        "general",
        "/workflows",
        json={"Name": "Contract Approval", "WorkflowDocuments": [{"Href": doc["Href"]}]},
    )
    assert start.status_code == 201
    flow = start.json()
    assert flow["WorkflowDocuments"] == [{"Href": doc["Href"]}]
    stop = clm.call("DELETE", "general", f"/workflows/{id_of(flow)}")
    assert stop.status_code == 200
    assert clm.client.get(flow["Href"], headers=bearer(clm.token)).json()["Status"] == "Aborted"
    both = {"Name": "Archive Document", "Params": "<x/>", "WorkflowDocuments": [doc]}
    assert_clm_error(clm.call("POST", "general", "/workflows", json=both), 422)
    missing = {"Name": "Archive Document", "WorkflowDocuments": [{"Href": "/documents/nope"}]}
    assert_clm_error(clm.call("POST", "general", "/workflows", json=missing), 422)


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
    assert configurations[0]["DestinationFolder"]["Href"] == clm.folder("/Contracts/Active")["Href"]
    body = {
        "DocLauncherConfiguration": {"Href": configurations[0]["Href"]},
        "Data": "<Data/>",
        "DataType": "xml",
    }
    start = clm.call("POST", "general", "/doclaunchertasks", json=body)
    assert start.status_code == 202
    task = start.json()
    assert task["Status"] == "Processing"
    # Real clients read the result URL straight from the POST answer.
    assert task["DocLauncherResultUrl"].startswith(clm.emu.clm_hosts["general"])
    assert task["UrlExpirationDate"] > task["CreatedDate"]

    def poll() -> Any:
        return clm.client.get(task["Href"], headers=bearer(clm.token)).json()

    assert poll()["Status"] == "Processing"
    done = poll()
    assert done["Status"] == "Success"
    assert done["DocLauncherResultUrl"].startswith(clm.emu.clm_hosts["general"])
    bad = clm.call("POST", "general", "/doclaunchertasks", json={"Data": "<Data/>"})
    assert_clm_error(bad, 422)
    reference = {"Href": configurations[0]["Href"]}
    as_json = {
        "DocLauncherConfiguration": reference,
        "Data": '{"Party": "Contoso"}',
        "DataType": "json",
        "DestinationFolder": {"Href": clm.folder("/Templates")["Href"]},
    }
    made = clm.call("POST", "general", "/doclaunchertasks", json=as_json)
    assert made.status_code == 202
    assert made.json()["DestinationFolder"]["Href"] == clm.folder("/Templates")["Href"]
    for wrong in (
        {"DataType": "csv", "Data": "a,b"},
        {"DataType": "json", "Data": "<not json/>"},
        {"DataType": "xml", "Data": "not xml"},
    ):
        response = clm.call(
            "POST",
            "general",
            "/doclaunchertasks",
            json={"DocLauncherConfiguration": reference, **wrong},
        )
        assert_clm_error(response, 422)


# -- download formats, versions, uploads ----------------------------------------------------


def _upload(clm: Clm, name: str, content: bytes, folder: str = "/Power Automate Uploads") -> Any:
    response = clm.call(
        "POST",
        "upload",
        f"/folders/{id_of(clm.folder(folder))}/documents",
        params={"name": name},
        content=content,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_download_format_is_chosen_by_accept(clm: Clm) -> None:
    import hashlib

    doc = _upload(clm, "Notes.docx", b"PK\x03\x04 pretend word file with Contoso terms")
    path = f"/documents/{id_of(doc)}"

    def get(accept: str | None) -> httpx.Response:
        headers = {"Accept": accept} if accept is not None else {}
        return clm.call("GET", "download", path, headers=headers)

    for original in (None, "*/*", "native", "application/octet-stream"):
        response = get(original)
        assert response.status_code == 200
        assert response.content.startswith(b"PK\x03\x04")
    assert_clm_error(get("application/pdf"), 404)  # not rendered yet
    not_ready = get("image/png")
    assert assert_clm_error(not_ready, 404)["ErrorCode"] == 119
    text = get("text/plain")
    assert text.status_code == 200 and "Contoso terms" in text.text
    assert assert_clm_error(get("application/zip"), 406)["HttpStatusCode"] == 406
    clm.emu.advance_clock(6)
    pdf = get("application/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert get("image/png").content.startswith(b"\x89PNG")
    head = clm.call("HEAD", "download", path)
    assert head.status_code == 200 and head.content == b""
    expected = hashlib.sha256(b"PK\x03\x04 pretend word file with Contoso terms").hexdigest()
    assert head.headers["x-springcm-content-sha256"] == expected


def test_new_version_check_out_and_versions(clm: Clm) -> None:
    doc = _upload(clm, "Terms.pdf", b"%PDF version one")
    doc_id = id_of(doc)
    lock = clm.call("POST", "general", f"/documents/{doc_id}/lock")
    assert lock.status_code == 201
    assert lock.json()["CheckInHref"] == clm.url("upload", f"/documents/{doc_id}")
    assert_clm_error(clm.call("POST", "general", f"/documents/{doc_id}/lock"), 422)
    assert clm.document(doc_id, "Lock")["Lock"]["LockType"] == "CheckOut"
    check_in = clm.client.post(
        lock.json()["CheckInHref"], content=b"%PDF version two", headers=bearer(clm.token)
    )
    assert check_in.status_code == 201
    assert check_in.json()["Version"] == "2.0"
    assert "Lock" not in clm.document(doc_id, "Lock")  # the upload checked it back in
    versions = clm.ok(f"/documents/{doc_id}/versions")["Items"]
    assert [v["Version"] for v in versions] == ["2.0", "1.0"]
    assert len({v["Uid"] for v in versions}) == 1
    old = clm.client.get(versions[1]["DownloadDocumentHref"], headers=bearer(clm.token))
    assert old.content == b"%PDF version one"
    current = clm.call("GET", "download", f"/documents/{doc_id}")
    assert current.content == b"%PDF version two"
    clm.call("POST", "general", f"/documents/{doc_id}/lock")
    assert clm.call("DELETE", "general", f"/documents/{doc_id}/lock").status_code == 204
    assert_clm_error(clm.call("DELETE", "general", f"/documents/{doc_id}/lock"), 404)
    history = clm.ok(f"/documents/{doc_id}/historyItems")["Items"]
    assert [h["Action"] for h in history] == [
        "CheckOutCancelled",
        "CheckedOut",
        "CheckedIn",
        "CheckedOut",
        "Created",
    ]


def test_multipart_upload_of_several_files(clm: Clm) -> None:
    folder = id_of(clm.folder("/Templates"))
    response = clm.call(
        "POST",
        "upload",
        f"/folders/{folder}/documents",
        files=[
            ("file", ("a.pdf", b"%PDF a", "application/pdf")),
            ("file", ("b.txt", b"bee", "text/plain")),
        ],
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert [d["Name"] for d in made] == ["a.pdf", "b.txt"]
    assert clm.call("GET", "download", f"/documents/{id_of(made[1])}").content == b"bee"
    empty = clm.call(
        "POST",
        "upload",
        f"/folders/{folder}/documents",
        content=b"--x--\r\n",
        headers={**bearer(clm.token), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert_clm_error(empty, 422)


def test_create_folder_move_rename_and_delete(clm: Clm) -> None:
    parent = clm.folder("/Contracts")
    created = clm.call(
        "POST",
        "general",
        "/folders",
        json={"Name": "2026", "ParentFolder": {"Href": parent["Href"]}},
    )
    assert created.status_code == 201
    assert clm.folder("/Contracts/2026")["Href"] == created.json()["Href"]
    again = clm.call(
        "POST",
        "general",
        "/folders",
        json={"Name": "2026", "ParentFolder": {"Href": parent["Href"]}},
    )
    assert assert_clm_error(again, 422)["ErrorCode"] == 101
    assert_clm_error(clm.call("POST", "general", "/folders", json={"Name": "x"}), 422)
    doc = clm.documents("/Contracts/Active")[0]
    moved = clm.call(
        "PATCH",
        "general",
        f"/documents/{id_of(doc)}",
        json={"Name": "MSA 2026.pdf", "ParentFolder": {"Href": created.json()["Href"]}},
        params={"expand": "Path"},
    )
    assert moved.status_code == 200
    assert moved.json()["Path"] == "/Contracts/2026/MSA 2026.pdf"
    assert len(clm.documents("/Contracts/Active")) == 2
    deleted = clm.call("DELETE", "general", f"/documents/{id_of(doc)}")
    assert deleted.status_code == 200
    assert_clm_error(clm.get(f"/documents/{id_of(doc)}"), 404)
    assert clm.documents("/Contracts/2026") == []


def test_document_search_task(clm: Clm) -> None:
    start = clm.call("POST", "general", "/documentsearchtasks", json={"Title": "contoso"})
    assert start.status_code == 202
    task = start.json()
    assert task["Status"] == "Processing" and "Result" not in task
    assert_clm_error(clm.client.get(task["Href"] + "/result", headers=bearer(clm.token)), 404)
    assert clm.client.get(task["Href"], headers=bearer(clm.token)).json()["Status"] == "Processing"
    done = clm.client.get(task["Href"], headers=bearer(clm.token)).json()
    assert done["Status"] == "Success"
    result = clm.client.get(
        done["Result"]["Href"], params={"expand": "AttributeGroups"}, headers=bearer(clm.token)
    ).json()
    assert [d["Name"] for d in result["Items"]] == [
        "Master Services Agreement - Contoso.pdf",
        "Statement of Work 3 - Contoso.pdf",
    ]
    assert "AttributeGroups" in result["Items"][0]
    templates = clm.folder("/Templates")["Href"]
    scoped = clm.call(
        "POST",
        "general",
        "/documentsearchtasks",
        json={"Title": "", "InFolder": {"Href": templates}},
    ).json()
    clm.emu.advance_clock(6)
    found = clm.client.get(scoped["Href"] + "/result", headers=bearer(clm.token)).json()
    assert [d["Name"] for d in found["Items"]] == ["NDA Template.docx"]


def test_xml_merge_generates_a_document(clm: Clm) -> None:
    template = clm.documents("/Templates")[0]
    body = {
        "TemplateDocument": {"Href": template["Href"]},
        "DataXml": "<Data><Party>Contoso</Party></Data>",
        "DestinationFolder": {"Href": clm.folder("/Power Automate Uploads")["Href"]},
        "DestinationDocumentName": "NDA Contoso.pdf",
    }
    start = clm.call("POST", "general", "/documentxmlmergetasks", json=body)
    assert start.status_code == 202
    task = start.json()
    assert task["Status"] == "Processing" and "ResultDocument" not in task
    clm.emu.advance_clock(6)
    done = clm.client.get(task["Href"], headers=bearer(clm.token)).json()
    assert done["Status"] == "Success"
    made = clm.client.get(done["ResultDocument"]["Href"], headers=bearer(clm.token)).json()
    assert made["Name"] == "NDA Contoso.pdf"
    pdf = clm.client.get(
        done["DownloadUrl"], headers={**bearer(clm.token), "Accept": "application/pdf"}
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert_clm_error(
        clm.call("POST", "general", "/documentxmlmergetasks", json={**body, "DataXml": "x"}), 422
    )
    no_template = {**body, "TemplateDocument": {"Href": "/documents/nope"}}
    assert_clm_error(clm.call("POST", "general", "/documentxmlmergetasks", json=no_template), 422)
