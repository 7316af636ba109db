"""CLM (SpringCM) v2: base-URL discovery and a small, real slice of the API on three hosts.

Discovery, on the CLM auth origin: `GET /api/v2/{accountId}/account`. Its `ApiBaseUrl`,
`ApiBaseUploadUrl` and `ApiBaseDownloadUrl` are the three host origins with a trailing "/", so a
client must build `{ApiBaseUrl}v2/...` or strip the slash (a "//v2" path is a 404).

Asynchronous work (workflow instances, Doc Launcher tasks) answers 202 with `Status:
"Processing"`; the first GET afterwards still reports Processing, the next one the settled state
(or any GET once the emulator clock is 5 seconds past the change). A workflow whose definition
has a Wait for Signal step settles at "Wait for Signal"; a signal sends it back to Processing,
then "Success".
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from clmwizard.emulator.faults import clm_error
from clmwizard.emulator.http_types import Request, Response, json_response
from clmwizard.emulator.state import AccessToken, AuthState, new_guid

PROCESSING, SUCCESS, WAIT_FOR_SIGNAL = "Processing", "Success", "Wait for Signal"
SETTLE_AFTER_SECONDS = 5.0
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000
CREATED_BY = "alex.morgan@example.com"

_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _timestamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Folder:
    id: str
    name: str
    parent_id: str | None
    description: str
    created: float


@dataclass
class Document:
    id: str
    name: str
    folder_id: str
    content: bytes
    content_type: str
    created: float
    updated: float
    description: str = ""
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Attribute:
    name: str
    type: str  # String, Date, Number, DropDownList
    picklist: list[str] | None = None


@dataclass
class AttributeGroup:
    id: str
    name: str
    description: str
    attributes: list[Attribute]


@dataclass
class WorkflowDefinition:
    id: str
    name: str
    description: str
    waits_for_signal: bool


@dataclass
class Job:
    """A workflow instance or Doc Launcher task: Processing until polled or the clock moves."""

    id: str
    created: float
    changed: float
    status: str = PROCESSING
    polls_before_settling: int = 1
    ended: float | None = None


@dataclass
class Workflow(Job):
    name: str = ""
    params: str = ""
    waits_for_signal: bool = False
    signals: list[Any] = field(default_factory=list)


@dataclass
class DocLauncherConfiguration:
    id: str
    name: str
    description: str


@dataclass
class DocLauncherTask(Job):
    configuration_id: str = ""
    data: str = ""


@dataclass
class AccountData:
    root_id: str
    folders: dict[str, Folder]
    documents: dict[str, Document]
    groups: dict[str, AttributeGroup]
    definitions: dict[str, WorkflowDefinition]
    configurations: dict[str, DocLauncherConfiguration]
    workflows: dict[str, Workflow] = field(default_factory=dict)
    tasks: dict[str, DocLauncherTask] = field(default_factory=dict)


def seed(now: float, account_name: str) -> AccountData:
    """Realistic starting content for one account."""
    created = now - 400 * 86400
    root = Folder(new_guid(), account_name, None, "Root folder", created)
    folders = {root.id: root}

    def folder(name: str, parent: Folder, description: str = "") -> Folder:
        made = Folder(new_guid(), name, parent.id, description, created)
        folders[made.id] = made
        return made

    contracts = folder("Contracts", root, "Executed and in-flight agreements")
    active = folder("Active", contracts)
    folder("Archive", contracts, "Expired or terminated agreements")
    folder("Templates", root, "Approved templates")
    folder("Power Automate Uploads", root, "Documents added by flows")

    details = AttributeGroup(
        new_guid(),
        "Contract Details",
        "Key terms of an agreement",
        [
            Attribute("Contract Number", "String"),
            Attribute("Counterparty", "String"),
            Attribute("Effective Date", "Date"),
            Attribute("Contract Value", "Number"),
            Attribute("Status", "DropDownList", ["Draft", "In Review", "Active", "Expired"]),
        ],
    )
    approvals = AttributeGroup(
        new_guid(),
        "Approvals",
        "Who approved the agreement and when",
        [Attribute("Approver", "String"), Attribute("Approved On", "Date")],
    )
    groups = {details.id: details, approvals.id: approvals}

    documents: dict[str, Document] = {}
    for name, counterparty, number in (
        ("Master Services Agreement - Contoso.pdf", "Contoso Ltd", "MSA-2024-001"),
        ("Mutual NDA - Fabrikam.pdf", "Fabrikam Inc", "NDA-2024-017"),
        ("Statement of Work 3 - Contoso.pdf", "Contoso Ltd", "SOW-2024-003"),
    ):
        doc = Document(new_guid(), name, active.id, _PDF, "application/pdf", created, created)
        doc.attributes = {
            "Contract Details": {
                "Contract Number": number,
                "Counterparty": counterparty,
                "Status": "Active",
            }
        }
        documents[doc.id] = doc

    definitions = {
        d.id: d
        for d in (
            WorkflowDefinition(
                new_guid(), "Contract Approval", "Routes a contract for approval", True
            ),
            WorkflowDefinition(
                new_guid(), "Archive Document", "Moves a document to Archive", False
            ),
        )
    }
    configurations = {
        c.id: c
        for c in (
            DocLauncherConfiguration(new_guid(), "NDA Request", "Generates a mutual NDA"),
            DocLauncherConfiguration(new_guid(), "Statement of Work", "Generates an SOW"),
        )
    }
    return AccountData(root.id, folders, documents, groups, definitions, configurations)


Handler = Callable[["Call"], Response]


@dataclass
class Call:
    """One routed CLM request: the account's data plus the ids taken from the path."""

    request: Request
    account_id: str
    data: AccountData
    ids: list[str]
    now: float


@dataclass
class Route:
    origin: str
    method: str
    pattern: tuple[str, ...]  # "*" matches an id
    need: str  # read, write, content_read, content_write
    handler: Handler


def _not_found(what: str = "The requested resource was not found.") -> Response:
    return clm_error(404, what, error_code=404)


def _invalid(property_name: str, message: str) -> Response:
    return clm_error(
        422,
        "The request is not valid.",
        "One or more validation errors occurred.",
        error_code=422,
        validation=[
            {
                "PropertyName": property_name,
                "UserMessage": message,
                "DeveloperMessage": message,
                "ErrorCode": 4220,
            }
        ],
    )


def _is_processing(job: Job, now: float) -> bool:
    """Whether a job still reports Processing to this GET (and count the poll)."""
    if job.status != PROCESSING:
        return False
    if job.polls_before_settling > 0 and now < job.changed + SETTLE_AFTER_SECONDS:
        job.polls_before_settling -= 1
        return True
    return False


class ClmService:
    """Routes requests for the CLM auth origin and the general, upload and download hosts."""

    def __init__(self, state: AuthState, *, clm_hosts: dict[str, str], web_origin: str) -> None:
        self.state = state
        self.hosts = clm_hosts
        self.web_origin = web_origin
        with state.lock:
            now = state.clock.now()
            self.accounts = {a.account_id: seed(now, a.account_name) for a in state.accounts}
        self.routes = self._routes()

    # -- entry -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.origin == "clm_auth":
            return self._discovery(request)
        parts = tuple(request.path.split("/")[1:])
        if len(parts) < 3 or parts[0] != "v2":
            return _not_found()
        shape = parts[2:]
        candidates = [
            r
            for r in self.routes
            if r.origin == request.origin
            and len(r.pattern) == len(shape)
            and all(p in ("*", s) for p, s in zip(r.pattern, shape, strict=True))
        ]
        if not candidates:
            return _not_found()
        route = next((r for r in candidates if r.method == request.method), None)
        if route is None:
            return clm_error(405, "The method is not allowed on this resource.", error_code=405)
        with self.state.lock:
            token = self.state.live_access_token(request.bearer_token())
            refused = self._refuse(token, route.need)
            if refused is not None:
                return refused
            account_id = parts[1].lower()
            data = self.accounts.get(account_id)
            if data is None:
                return _not_found("The account was not found.")
            ids = [s.lower() for p, s in zip(route.pattern, shape, strict=True) if p == "*"]
            return route.handler(Call(request, account_id, data, ids, self.state.clock.now()))

    def _refuse(self, token: AccessToken | None, need: str) -> Response | None:
        if token is None:
            return clm_error(
                401, "Unauthorized", "The access token is missing, invalid or expired."
            )
        scopes = token.grant.scopes
        if not scopes & {"spring_read", "spring_write", "content"}:
            return clm_error(
                401, "Unauthorized", "The access token does not carry the spring scopes."
            )
        allowed = {
            "read": {"spring_read"},
            "write": {"spring_write"},
            "content_read": {"spring_read", "content"},
            "content_write": {"spring_write", "content"},
        }[need]
        if not scopes & allowed:
            return clm_error(
                403,
                "Forbidden",
                f"This operation needs one of these scopes: {', '.join(sorted(allowed))}.",
            )
        return None

    def _discovery(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "v2"] or parts[3] != "account":
            return _not_found()
        if request.method != "GET":
            return clm_error(405, "The method is not allowed on this resource.", error_code=405)
        with self.state.lock:
            token = self.state.live_access_token(request.bearer_token())
            account = self.state.account(parts[2])
        if token is None or not token.grant.scopes & {"spring_read", "spring_write"}:
            return clm_error(401, "Unauthorized", "A token with spring_read or spring_write.")
        if account is None or account.account_id not in self.accounts:
            return _not_found("The account was not found.")
        return json_response(
            200,
            {
                "Id": account.account_id,
                "Name": account.account_name,
                "ApiBaseUrl": self.hosts["general"] + "/",
                "ApiBaseUploadUrl": self.hosts["upload"] + "/",
                "ApiBaseDownloadUrl": self.hosts["download"] + "/",
                "WebLandingPageUrl": self.web_origin + "/atlas/Landing.aspx",
                "SftpUrl": "sftp://127.0.0.1:2222",  # not served: listed like the real answer
            },
        )

    def _routes(self) -> list[Route]:
        g, u, d = "general", "upload", "download"
        return [
            Route(g, "GET", ("attributegroups",), "read", self.list_groups),
            Route(g, "GET", ("attributegroups", "*"), "read", self.get_group),
            Route(g, "GET", ("folders",), "read", self.folder_by_path),
            Route(g, "GET", ("folders", "*"), "read", self.get_folder),
            Route(g, "GET", ("folders", "*", "folders"), "read", self.child_folders),
            Route(g, "GET", ("folders", "*", "documents"), "read", self.folder_documents),
            Route(g, "GET", ("documents", "*"), "read", self.get_document),
            Route(g, "PATCH", ("documents", "*"), "write", self.patch_document),
            Route(g, "POST", ("workflows",), "write", self.start_workflow),
            Route(g, "GET", ("workflows", "*"), "read", self.get_workflow),
            Route(g, "POST", ("workflows", "*", "signal"), "write", self.signal_workflow),
            Route(g, "GET", ("workflowdefinitions",), "read", self.list_definitions),
            Route(g, "GET", ("workflowdefinitions", "*"), "read", self.get_definition),
            Route(g, "GET", ("doclauncherconfigurations",), "read", self.list_configurations),
            Route(g, "GET", ("doclauncherconfigurations", "*"), "read", self.get_configuration),
            Route(g, "POST", ("doclaunchertasks",), "write", self.start_task),
            Route(g, "GET", ("doclaunchertasks", "*"), "read", self.get_task),
            Route(u, "POST", ("folders", "*", "documents"), "content_write", self.upload),
            Route(d, "GET", ("documents", "*", "content"), "content_read", self.download),
        ]

    # -- shapes -----------------------------------------------------------------------------

    def _href(self, call: Call, *parts: str, host: str = "general") -> str:
        return "/".join((self.hosts[host], "v2", call.account_id, *parts))

    def _collection(self, call: Call, items: list[dict[str, Any]], href: str) -> Response:
        query = call.request.query
        try:
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", [str(DEFAULT_LIMIT)])[0])
        except ValueError:
            return _invalid("offset", "offset and limit must be whole numbers.")
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            return _invalid("limit", f"offset must be 0 or more and limit 1 to {MAX_LIMIT}.")
        total = len(items)
        extra = {k: v[0] for k, v in query.items() if k not in ("offset", "limit")}

        def page(at: int) -> str:
            return f"{href}?{urlencode({**extra, 'offset': at, 'limit': limit})}"

        body: dict[str, Any] = {
            "Items": items[offset : offset + limit],
            "Href": page(offset),
            "Offset": offset,
            "Limit": limit,
            "First": page(0),
            "Last": page(max(0, (total - 1) // limit * limit)),
            "Total": total,
        }
        if offset + limit < total:
            body["Next"] = page(offset + limit)
        if offset > 0:
            body["Previous"] = page(max(0, offset - limit))
        return json_response(200, body)

    def _folder_path(self, data: AccountData, folder: Folder) -> str:
        names: list[str] = []
        current: Folder | None = folder
        while current is not None and current.parent_id is not None:
            names.append(current.name)
            current = data.folders.get(current.parent_id)
        return "/" + "/".join(reversed(names))

    def _folder_json(self, call: Call, folder: Folder) -> dict[str, Any]:
        href = self._href(call, "folders", folder.id)
        body: dict[str, Any] = {
            "Name": folder.name,
            "CreatedDate": _timestamp(folder.created),
            "CreatedBy": CREATED_BY,
            "UpdatedDate": _timestamp(folder.created),
            "UpdatedBy": CREATED_BY,
            "Description": folder.description,
            "Path": self._folder_path(call.data, folder),
            "BrowseDocumentsUrl": f"{self.web_origin}/atlas/Link/Folder/{folder.id}",
            "AccessLevel": _full_access(),
            "Documents": {"Href": href + "/documents"},
            "Folders": {"Href": href + "/folders"},
            "CreateDocumentHref": self._href(call, "folders", folder.id, "documents", host="upload")
            + "{?name}",
            "Href": href,
        }
        if folder.parent_id is not None:
            body["ParentFolder"] = {"Href": self._href(call, "folders", folder.parent_id)}
        return body

    def _document_json(self, call: Call, doc: Document) -> dict[str, Any]:
        groups = {name: dict(values) for name, values in doc.attributes.items()}
        folder = call.data.folders[doc.folder_id]
        path = self._folder_path(call.data, folder).rstrip("/") + "/" + doc.name
        return {
            "Name": doc.name,
            "CreatedDate": _timestamp(doc.created),
            "CreatedBy": CREATED_BY,
            "UpdatedDate": _timestamp(doc.updated),
            "UpdatedBy": CREATED_BY,
            "Description": doc.description,
            "Path": path,
            "ParentFolder": {"Href": self._href(call, "folders", doc.folder_id)},
            "AttributeGroups": {
                name: {
                    field: _attribute_value(call.data, name, field, value)
                    for field, value in values.items()
                }
                for name, values in groups.items()
            },
            "AccessLevel": _full_access(),
            "PageCount": 1,
            "NativeFileSize": len(doc.content),
            "PdfFileSize": len(doc.content),
            "DownloadDocumentHref": self._href(
                call, "documents", doc.id, "content", host="download"
            ),
            "Href": self._href(call, "documents", doc.id),
        }

    def _group_json(self, call: Call, group: AttributeGroup) -> dict[str, Any]:
        attributes = []
        for order, attribute in enumerate(group.attributes):
            entry: dict[str, Any] = {
                "Name": attribute.name,
                "AttributeType": attribute.type,
                "RepeatingAttribute": False,
                "DisplayOrder": order,
            }
            if attribute.picklist is not None:
                entry["PickList"] = {"Values": list(attribute.picklist)}
            attributes.append(entry)
        return {
            "Name": group.name,
            "Description": group.description,
            "Attributes": attributes,
            "Href": self._href(call, "attributegroups", group.id),
        }

    def _workflow_json(self, call: Call, flow: Workflow) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Name": flow.name,
            "StartDate": _timestamp(flow.created),
            "Status": flow.status,
            "Params": flow.params,
            "Href": self._href(call, "workflows", flow.id),
        }
        if flow.ended is not None:
            body["EndDate"] = _timestamp(flow.ended)
        return body

    def _task_json(self, call: Call, task: DocLauncherTask) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Status": task.status,
            "CreatedDate": _timestamp(task.created),
            "DocLauncherConfiguration": {
                "Href": self._href(call, "doclauncherconfigurations", task.configuration_id)
            },
            "Data": task.data,
            "Href": self._href(call, "doclaunchertasks", task.id),
        }
        if task.status == SUCCESS:
            body["DocLauncherResultUrl"] = f"{self.web_origin}/atlas/doclauncher/Result/{task.id}"
        return body

    # -- attribute groups ----------------------------------------------------------------------

    def list_groups(self, call: Call) -> Response:
        items = [self._group_json(call, g) for g in call.data.groups.values()]
        return self._collection(call, items, self._href(call, "attributegroups"))

    def get_group(self, call: Call) -> Response:
        group = call.data.groups.get(call.ids[0])
        if group is None:
            return _not_found("The attribute group was not found.")
        return json_response(200, self._group_json(call, group))

    # -- folders -----------------------------------------------------------------------------

    def folder_by_path(self, call: Call) -> Response:
        path = call.request.param("path")
        if call.request.param("systemfolder") == "root" or path == "/":
            return json_response(200, self._folder_json(call, call.data.folders[call.data.root_id]))
        if not path:
            return _invalid(
                "path", "Give the folder's path (path=/Contracts) or systemfolder=root."
            )
        wanted = "/" + path.strip("/")
        for folder in call.data.folders.values():
            if self._folder_path(call.data, folder) == wanted:
                return json_response(200, self._folder_json(call, folder))
        return _not_found(f"No folder exists at the path {wanted}.")

    def get_folder(self, call: Call) -> Response:
        folder = call.data.folders.get(call.ids[0])
        if folder is None:
            return _not_found("The folder was not found.")
        return json_response(200, self._folder_json(call, folder))

    def child_folders(self, call: Call) -> Response:
        if call.ids[0] not in call.data.folders:
            return _not_found("The folder was not found.")
        children = [f for f in call.data.folders.values() if f.parent_id == call.ids[0]]
        items = [self._folder_json(call, f) for f in sorted(children, key=lambda f: f.name)]
        return self._collection(call, items, self._href(call, "folders", call.ids[0], "folders"))

    def folder_documents(self, call: Call) -> Response:
        if call.ids[0] not in call.data.folders:
            return _not_found("The folder was not found.")
        docs = [d for d in call.data.documents.values() if d.folder_id == call.ids[0]]
        items = [self._document_json(call, d) for d in sorted(docs, key=lambda d: d.name)]
        return self._collection(call, items, self._href(call, "folders", call.ids[0], "documents"))

    # -- documents ---------------------------------------------------------------------------

    def get_document(self, call: Call) -> Response:
        doc = call.data.documents.get(call.ids[0])
        if doc is None:
            return _not_found("The document was not found.")
        return json_response(200, self._document_json(call, doc))

    def patch_document(self, call: Call) -> Response:
        doc = call.data.documents.get(call.ids[0])
        if doc is None:
            return _not_found("The document was not found.")
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        for key in ("Name", "Description"):
            if key in body and not isinstance(body[key], str):
                return _invalid(key, f"{key} must be text.")
        updates: dict[str, dict[str, Any]] = {}
        groups = body.get("AttributeGroups", {})
        if not isinstance(groups, dict):
            return _invalid("AttributeGroups", "AttributeGroups must be an object of groups.")
        for group_name, fields in groups.items():
            group = next((g for g in call.data.groups.values() if g.name == group_name), None)
            if group is None:
                return _invalid("AttributeGroups", f"There is no attribute group {group_name!r}.")
            if not isinstance(fields, dict):
                return _invalid("AttributeGroups", f"{group_name!r} must be an object of fields.")
            for field_name, raw in fields.items():
                attribute = next((a for a in group.attributes if a.name == field_name), None)
                if attribute is None:
                    return _invalid(
                        "AttributeGroups", f"{group_name!r} has no field named {field_name!r}."
                    )
                value = raw.get("Value") if isinstance(raw, dict) else raw
                problem = _check_value(attribute, value)
                if problem:
                    return _invalid("AttributeGroups", problem)
                updates.setdefault(group_name, {})[field_name] = value
        for group_name, values in updates.items():
            doc.attributes.setdefault(group_name, {}).update(values)
        if "Name" in body:
            doc.name = body["Name"]
        if "Description" in body:
            doc.description = body["Description"]
        doc.updated = call.now
        return json_response(200, self._document_json(call, doc))

    def upload(self, call: Call) -> Response:
        folder = call.data.folders.get(call.ids[0])
        if folder is None:
            return _not_found("The folder was not found.")
        name = (call.request.param("name") or "").strip()
        if not name:
            return _invalid("name", "Give the document's file name: ?name=Contract.pdf")
        if not call.request.body:
            return _invalid("content", "The document has no content.")
        content_type = call.request.content_type
        if not content_type or content_type == "application/x-www-form-urlencoded":
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        doc = Document(
            new_guid(), name, folder.id, call.request.body, content_type, call.now, call.now
        )
        call.data.documents[doc.id] = doc
        body = self._document_json(call, doc)
        return json_response(201, body, ("Location", body["Href"]))

    def download(self, call: Call) -> Response:
        doc = call.data.documents.get(call.ids[0])
        if doc is None:
            return _not_found("The document was not found.")
        safe_name = doc.name.replace('"', "")
        disposition = f'attachment; filename="{safe_name}"'
        return Response(
            200,
            doc.content,
            [("Content-Type", doc.content_type), ("Content-Disposition", disposition)],
        )

    # -- workflows ---------------------------------------------------------------------------

    def list_definitions(self, call: Call) -> Response:
        items = [self._definition_json(call, d) for d in call.data.definitions.values()]
        return self._collection(call, items, self._href(call, "workflowdefinitions"))

    def get_definition(self, call: Call) -> Response:
        definition = call.data.definitions.get(call.ids[0])
        if definition is None:
            return _not_found("The workflow definition was not found.")
        return json_response(200, self._definition_json(call, definition))

    def _definition_json(self, call: Call, definition: WorkflowDefinition) -> dict[str, Any]:
        return {
            "Name": definition.name,
            "Description": definition.description,
            "Href": self._href(call, "workflowdefinitions", definition.id),
        }

    def start_workflow(self, call: Call) -> Response:
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        name = body.get("Name")
        if not isinstance(name, str) or not name.strip():
            return _invalid("Name", "Name is required: the workflow definition to start.")
        definition = next((d for d in call.data.definitions.values() if d.name == name), None)
        if definition is None:
            return _invalid("Name", f"No workflow definition named {name!r} exists.")
        params = body.get("Params", "")
        if not isinstance(params, str):
            return _invalid("Params", "Params must be an XML string.")
        flow = Workflow(
            new_guid(),
            call.now,
            call.now,
            name=name,
            params=params,
            waits_for_signal=definition.waits_for_signal,
        )
        call.data.workflows[flow.id] = flow
        answer = self._workflow_json(call, flow)
        return json_response(202, answer, ("Location", answer["Href"]))

    def get_workflow(self, call: Call) -> Response:
        flow = call.data.workflows.get(call.ids[0])
        if flow is None:
            return _not_found("The workflow was not found.")
        if flow.status == PROCESSING and not _is_processing(flow, call.now):
            if flow.waits_for_signal and not flow.signals:
                flow.status = WAIT_FOR_SIGNAL
            else:
                flow.status, flow.ended = SUCCESS, call.now
            flow.changed = call.now
        return json_response(200, self._workflow_json(call, flow))

    def signal_workflow(self, call: Call) -> Response:
        flow = call.data.workflows.get(call.ids[0])
        if flow is None:
            return _not_found("The workflow was not found.")
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        if flow.status != WAIT_FOR_SIGNAL:
            return _invalid(
                "Status", f"The workflow is not at a Wait for Signal step (it is {flow.status})."
            )
        flow.signals.append(body.get("Data"))
        flow.status, flow.changed, flow.polls_before_settling = PROCESSING, call.now, 1
        answer = self._workflow_json(call, flow)
        return json_response(202, answer, ("Location", answer["Href"]))

    # -- Doc Launcher ------------------------------------------------------------------------

    def list_configurations(self, call: Call) -> Response:
        items = [self._configuration_json(call, c) for c in call.data.configurations.values()]
        return self._collection(call, items, self._href(call, "doclauncherconfigurations"))

    def get_configuration(self, call: Call) -> Response:
        configuration = call.data.configurations.get(call.ids[0])
        if configuration is None:
            return _not_found("The Doc Launcher configuration was not found.")
        return json_response(200, self._configuration_json(call, configuration))

    def _configuration_json(self, call: Call, c: DocLauncherConfiguration) -> dict[str, Any]:
        return {
            "Name": c.name,
            "Description": c.description,
            "Href": self._href(call, "doclauncherconfigurations", c.id),
        }

    def start_task(self, call: Call) -> Response:
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        reference = body.get("DocLauncherConfiguration")
        href = reference.get("Href") if isinstance(reference, dict) else None
        configuration_id = (
            href.rstrip("/").rsplit("/", 1)[-1].lower() if isinstance(href, str) else ""
        )
        if configuration_id not in call.data.configurations:
            return _invalid(
                "DocLauncherConfiguration",
                "DocLauncherConfiguration.Href must name one of this account's configurations.",
            )
        data = body.get("Data", "")
        if not isinstance(data, str):
            return _invalid("Data", "Data must be an XML string.")
        task = DocLauncherTask(
            new_guid(), call.now, call.now, configuration_id=configuration_id, data=data
        )
        call.data.tasks[task.id] = task
        answer = self._task_json(call, task)
        return json_response(202, answer, ("Location", answer["Href"]))

    def get_task(self, call: Call) -> Response:
        task = call.data.tasks.get(call.ids[0])
        if task is None:
            return _not_found("The Doc Launcher task was not found.")
        if task.status == PROCESSING and not _is_processing(task, call.now):
            task.status, task.ended, task.changed = SUCCESS, call.now, call.now
        return json_response(200, self._task_json(call, task))


def _full_access() -> dict[str, bool]:
    return {
        "See": True,
        "Read": True,
        "Write": True,
        "Move": True,
        "Create": True,
        "SetAccess": True,
    }


def _json_object(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return clm_error(400, "The request body is not valid JSON.", error_code=400)
    if not isinstance(body, dict):
        return clm_error(400, "The request body must be a JSON object.", error_code=400)
    return body


def _check_value(attribute: Attribute, value: Any) -> str | None:
    if value is None:
        return None
    where = f"{attribute.name!r}"
    if attribute.type == "Number" and (isinstance(value, bool) or not _is_number(value)):
        return f"{where} takes a number."
    if attribute.type == "Date":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return f"{where} takes a date such as 2024-05-31."
    if attribute.type == "DropDownList" and value not in (attribute.picklist or []):
        return f"{where} takes one of: {', '.join(attribute.picklist or [])}."
    if attribute.type == "String" and not isinstance(value, str):
        return f"{where} takes text."
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _attribute_value(data: AccountData, group: str, name: str, value: Any) -> dict[str, Any]:
    types = {a.name: a.type for g in data.groups.values() if g.name == group for a in g.attributes}
    return {"AttributeType": types.get(name, "String"), "RepeatingAttribute": False, "Value": value}
