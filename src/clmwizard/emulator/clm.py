"""CLM (SpringCM) v2: base-URL discovery and a small, real slice of the API on three hosts.

Discovery, on the CLM auth origin: `GET /api/v2/{accountId}/account`. Its `ApiBaseUrl`,
`ApiBaseUploadUrl` and `ApiBaseDownloadUrl` are the three host origins with a trailing "/", so a
client must build `{ApiBaseUrl}v2/...` or strip the slash (a "//v2" path is a 404).

Asynchronous work settles on the second GET (or any GET once the emulator clock is 5 seconds
past the change). Task API posts (Doc Launcher, search, XML merge) answer 202 with `Status:
"Processing"` and settle at "Success". Workflow instances use CLM's own vocabulary: a start
answers 201 with "Execution Pending", then "Executing", then "Waiting" (the definition has a
Wait for Signal step) or "Completed"; a signal sends a waiting one back to "Executing"; DELETE
stops it ("Aborted").

Related data comes back only when asked for with `expand` (capitalised values, as CLM:
lower-case ones are ignored): a document's AttributeGroups, Path, ParentFolder, Versions, Lock,
HistoryItems; a folder's Path, ParentFolder, Folders, Documents, AttributeGroups; a group's
Attributes.

The download host picks the format from `Accept`: none, `*/*`, `native` or
`application/octet-stream` give the original; `application/pdf`, `text/plain` (OCR text) and
`image/png` renditions; anything else is 406. A rendition of a freshly uploaded non-PDF file is
not ready for 5 seconds (404; PNG: 404 with ErrorCode 119).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from clmwizard.emulator.faults import clm_error
from clmwizard.emulator.http_types import Request, Response, json_response
from clmwizard.emulator.state import AccessToken, AuthState, new_guid

PROCESSING, SUCCESS = "Processing", "Success"
# CLM's workflow status vocabulary (documented).
PENDING, EXECUTING, WAITING, COMPLETED = "Execution Pending", "Executing", "Waiting", "Completed"
PAUSED, FAILED, ABORTED = "Paused", "Failed", "Aborted"
RUNNING = (PENDING, EXECUTING)
SETTLE_AFTER_SECONDS = 5.0
RENDER_SECONDS = 5.0  # how long a PDF / PNG rendition of a new upload takes (our choice)
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
# CLM's own ErrorCode values (documented): validation failed, rate limit, not yet available.
VALIDATION_CODE, RATE_LIMIT_CODE, NOT_READY_CODE = 101, 103, 119
# unconfirmed: CLM's ErrorCode for "not found", "not allowed" and "not acceptable".
NOT_FOUND_CODE, NOT_ALLOWED_CODE, NOT_ACCEPTABLE_CODE, BAD_BODY_CODE = 100, 100, 100, 101
# unconfirmed: which paging parameter names the object endpoints read. The emulator reads the
# guide's offset/limit (override with ClmService.paging_names, e.g. ("pageSortParams.offset",
# "pageSortParams.limit")); the names it does not read are ignored, as a server would.
PAGING_NAMES = ("offset", "limit")
# unconfirmed: the name of the system-folder parameter of /folders/type (third-party code).
SYSTEM_FOLDER_PARAMETER = "systemFolder"
ORIGINAL_TYPES = ("", "*/*", "native", "application/octet-stream")
CREATED_BY = "alex.morgan@example.com"

_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


# A 1x1 transparent PNG: the page image the emulator renders.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


_T = TypeVar("_T")


class _Identified(Protocol):
    id: str


_Made = TypeVar("_Made", bound=_Identified)
_Default = TypeVar("_Default", bound=str | None)


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
    uid: str = field(default_factory=new_guid)
    version: int = 1
    rendered_at: float = 0.0  # when PDF / PNG / text renditions are ready
    versions: list[str] = field(default_factory=list)  # older version ids, oldest first
    history: list[tuple[str, str, float]] = field(default_factory=list)  # action, what, when
    lock: float | None = None  # when it was checked out
    trashed: bool = False


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
    documents: list[str] = field(default_factory=list)
    waits_for_signal: bool = False
    signals: list[Any] = field(default_factory=list)


@dataclass
class DocLauncherConfiguration:
    id: str
    name: str
    description: str
    destination_id: str = ""


@dataclass
class DocLauncherTask(Job):
    configuration_id: str = ""
    data: str = ""
    data_type: str = "xml"
    destination_id: str | None = None


@dataclass
class SearchTask(Job):
    title: str = ""
    content: str = ""
    folder_id: str | None = None
    subfolders: bool = True
    found: list[str] = field(default_factory=list)


@dataclass
class MergeTask(Job):
    template_id: str = ""
    data_xml: str = ""
    folder_id: str = ""
    document_name: str = ""
    result_id: str | None = None


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
    searches: dict[str, SearchTask] = field(default_factory=dict)
    merges: dict[str, MergeTask] = field(default_factory=dict)
    versions: dict[str, Document] = field(default_factory=dict)  # older versions by id


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
    templates = folder("Templates", root, "Approved templates")
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
        doc.history.append(("Created", "Document uploaded", created))
        documents[doc.id] = doc
    template = Document(
        new_guid(),
        "NDA Template.docx",
        templates.id,
        b"<w:document>NDA between {Party} and Acme</w:document>",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        created,
        created,
    )
    documents[template.id] = template

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
            DocLauncherConfiguration(
                new_guid(), "NDA Request", "Generates a mutual NDA", active.id
            ),
            DocLauncherConfiguration(
                new_guid(), "Statement of Work", "Generates an SOW", active.id
            ),
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
    return clm_error(404, what, error_code=NOT_FOUND_CODE)


def _invalid(property_name: str, message: str) -> Response:
    return clm_error(
        422,
        "The request is not valid.",
        "One or more validation errors occurred.",
        error_code=VALIDATION_CODE,
        validation=[
            {
                "PropertyName": property_name,
                "UserMessage": message,
                "DeveloperMessage": message,
                "ErrorCode": VALIDATION_CODE,
            }
        ],
    )


def _expanded(call: Call) -> set[str]:
    """The expand values asked for; case matters (lower case is ignored, as CLM does)."""
    raw = call.request.param("expand") or ""
    return {part.strip() for part in raw.split(",")[:20] if part.strip()}


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
        self.paging_names = PAGING_NAMES
        self.created = state.clock.now() - 400 * 86400
        self.system_folder_parameter = SYSTEM_FOLDER_PARAMETER
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
        method = "GET" if request.method == "HEAD" and request.origin == "download" else None
        route = next((r for r in candidates if r.method == (method or request.method)), None)
        if route is None:
            return clm_error(
                405, "The method is not allowed on this resource.", error_code=NOT_ALLOWED_CODE
            )
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
            return clm_error(
                405, "The method is not allowed on this resource.", error_code=NOT_ALLOWED_CODE
            )
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
                # No Name: the real answer has none (third-party evidence).
                "Id": account.account_id,
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
            *self._listed(
                "attributegroups", lambda data: data.groups, self._group_json, "attribute group"
            ),
            # GET /folders itself is not a valid call: only POST is routed, so GET is a 405.
            Route(g, "POST", ("folders",), "write", self.create_folder),
            Route(g, "GET", ("folders", "path"), "read", self.folder_by_path),
            Route(g, "GET", ("folders", "type"), "read", self.system_folder),
            Route(g, "GET", ("folders", "*"), "read", self.get_folder),
            Route(g, "GET", ("folders", "*", "folders"), "read", self.child_folders),
            Route(g, "GET", ("folders", "*", "documents"), "read", self.folder_documents),
            Route(g, "GET", ("documents",), "read", self.document_by_path),
            Route(g, "GET", ("documents", "*"), "read", self.get_document),
            Route(g, "PATCH", ("documents", "*"), "write", self.patch_document),
            Route(g, "DELETE", ("documents", "*"), "write", self.delete_document),
            Route(g, "GET", ("documents", "*", "versions"), "read", self.list_versions),
            Route(g, "GET", ("documents", "*", "historyItems"), "read", self.list_history),
            Route(g, "POST", ("documents", "*", "lock"), "write", self.lock_document),
            Route(g, "DELETE", ("documents", "*", "lock"), "write", self.unlock_document),
            Route(g, "POST", ("documentsearchtasks",), "read", self.start_search),
            Route(g, "GET", ("documentsearchtasks", "*"), "read", self.get_search),
            Route(g, "GET", ("documentsearchtasks", "*", "result"), "read", self.search_result),
            Route(g, "POST", ("documentxmlmergetasks",), "write", self.start_merge),
            Route(g, "GET", ("documentxmlmergetasks", "*"), "read", self.get_merge),
            Route(g, "POST", ("workflows",), "write", self.start_workflow),
            Route(g, "GET", ("workflows", "*"), "read", self.get_workflow),
            Route(g, "DELETE", ("workflows", "*"), "write", self.stop_workflow),
            Route(g, "POST", ("workflows", "*", "signal"), "write", self.signal_workflow),
            *self._listed(
                "workflowdefinitions",
                lambda data: data.definitions,
                self._definition_json,
                "workflow definition",
            ),
            *self._listed(
                "doclauncherconfigurations",
                lambda data: data.configurations,
                self._configuration_json,
                "Doc Launcher configuration",
            ),
            Route(g, "POST", ("doclaunchertasks",), "write", self.start_task),
            Route(g, "GET", ("doclaunchertasks", "*"), "read", self.get_task),
            Route(u, "POST", ("folders", "*", "documents"), "content_write", self.upload),
            Route(u, "POST", ("documents", "*"), "content_write", self.upload_version),
            Route(d, "GET", ("documents", "*"), "content_read", self.download),
        ]

    # -- shapes -----------------------------------------------------------------------------

    def _href(self, call: Call, *parts: str, host: str = "general") -> str:
        return "/".join((self.hosts[host], "v2", call.account_id, *parts))

    def _listed(
        self,
        path: str,
        table: Callable[[AccountData], Mapping[str, _T]],
        shape: Callable[[Call, _T], dict[str, Any]],
        what: str,
    ) -> list[Route]:
        """The routes of a read-only collection: GET /{path} (a page) and GET /{path}/{id}."""

        def every(call: Call) -> Response:
            items = [shape(call, item) for item in table(call.data).values()]
            return self._collection(call, items, self._href(call, path))

        def one(call: Call) -> Response:
            return self._one(call, table(call.data), shape, what)

        return [
            Route("general", "GET", (path,), "read", every),
            Route("general", "GET", (path, "*"), "read", one),
        ]

    def _one(
        self,
        call: Call,
        table: Mapping[str, _T],
        shape: Callable[[Call, _T], dict[str, Any]],
        what: str,
    ) -> Response:
        item = table.get(call.ids[0])
        if item is None:
            return _not_found(f"The {what} was not found.")
        return json_response(200, shape(call, item))

    def _created(
        self,
        call: Call,
        table: dict[str, _Made],
        made: _Made,
        shape: Callable[[Call, _Made], dict[str, Any]],
        status: int,
    ) -> Response:
        """Keep what a POST made and answer with it and its Location."""
        table[made.id] = made
        answer = shape(call, made)
        return json_response(status, answer, ("Location", answer["Href"]))

    def _collection(self, call: Call, items: list[dict[str, Any]], href: str) -> Response:
        query = call.request.query
        offset_name, limit_name = self.paging_names
        try:
            offset = int(query.get(offset_name, ["0"])[0])
            limit = int(query.get(limit_name, [str(DEFAULT_LIMIT)])[0])
        except ValueError:
            return _invalid(offset_name, f"{offset_name} and {limit_name} must be whole numbers.")
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            return _invalid(
                limit_name, f"{offset_name} must be 0 or more and {limit_name} 1 to {MAX_LIMIT}."
            )
        total = len(items)
        extra = {k: v[0] for k, v in query.items() if k not in (offset_name, limit_name)}

        def page(at: int) -> str:
            return f"{href}?{urlencode({**extra, offset_name: at, limit_name: limit})}"

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
        expand = _expanded(call)
        body: dict[str, Any] = {
            **_named_object(folder.name, folder.created, folder.created, folder.description),
            "BrowseDocumentsUrl": f"{self.web_origin}/atlas/Link/Folder/{folder.id}",
            "AccessLevel": _full_access(),
            "CreateDocumentHref": self._href(call, "folders", folder.id, "documents", host="upload")
            + "{?name}",
            "Href": href,
        }
        if "Path" in expand:
            body["Path"] = self._folder_path(call.data, folder)
        if "Documents" in expand:
            body["Documents"] = {"Href": href + "/documents"}
        if "Folders" in expand:
            body["Folders"] = {"Href": href + "/folders"}
        if "ParentFolder" in expand and folder.parent_id is not None:
            body["ParentFolder"] = {"Href": self._href(call, "folders", folder.parent_id)}
        return body

    def _document_json(self, call: Call, doc: Document, *, version_of: str = "") -> dict[str, Any]:
        expand = _expanded(call)
        body: dict[str, Any] = {
            **_named_object(doc.name, doc.created, doc.updated, doc.description),
            "AccessLevel": _full_access(),
            "PageCount": 1,
            "NativeFileSize": len(doc.content),
            "PdfFileSize": len(doc.content),
            "Uid": doc.uid,
            "Version": f"{doc.version}.0",
            "DownloadDocumentHref": self._href(call, "documents", doc.id, host="download"),
            "Href": self._href(call, "documents", doc.id),
        }
        if "AttributeGroups" in expand:
            body["AttributeGroups"] = {
                name: {
                    field: _attribute_value(call.data, name, field, value)
                    for field, value in values.items()
                }
                for name, values in doc.attributes.items()
            }
        if "Path" in expand:
            folder = call.data.folders[doc.folder_id]
            body["Path"] = self._folder_path(call.data, folder).rstrip("/") + "/" + doc.name
        if "ParentFolder" in expand:
            body["ParentFolder"] = {"Href": self._href(call, "folders", doc.folder_id)}
        if "Versions" in expand and not version_of:
            body["Versions"] = {"Href": self._href(call, "documents", doc.id, "versions")}
        if "HistoryItems" in expand and not version_of:
            body["HistoryItems"] = {"Href": self._href(call, "documents", doc.id, "historyItems")}
        if "Lock" in expand and doc.lock is not None:
            body["Lock"] = self._lock_json(call, doc)
        return body

    def _lock_json(self, call: Call, doc: Document) -> dict[str, Any]:
        # unconfirmed: the lock's fields beyond CheckInHref.
        return {
            "LockType": "CheckOut",
            "LockedDate": _timestamp(doc.lock or call.now),
            "LockOwner": CREATED_BY,
            "CheckInHref": self._href(call, "documents", doc.id, host="upload"),
            "Href": self._href(call, "documents", doc.id, "lock"),
        }

    def _group_json(self, call: Call, group: AttributeGroup) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Name": group.name,
            "Description": group.description,
            "IsSystem": False,
            "Href": self._href(call, "attributegroups", group.id),
        }
        if "Attributes" not in _expanded(call):
            return body
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
        body["Attributes"] = attributes
        return body

    def _workflow_json(self, call: Call, flow: Workflow) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Name": flow.name,
            "StartDate": _timestamp(flow.created),
            "Status": flow.status,
            "Params": flow.params,
            "WorkflowDocuments": [
                {"Href": self._href(call, "documents", d)} for d in flow.documents
            ],
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
            "DataType": task.data_type,
            # The result URL is in the POST answer already: live clients read it from there.
            "DocLauncherResultUrl": f"{self.web_origin}/atlas/doclauncher/Result/{task.id}",
            "UrlExpirationDate": _timestamp(task.created + 3600),
            "Href": self._href(call, "doclaunchertasks", task.id),
        }
        if task.destination_id is not None:
            body["DestinationFolder"] = {"Href": self._href(call, "folders", task.destination_id)}
        return body

    # -- folders -----------------------------------------------------------------------------

    def folder_by_path(self, call: Call) -> Response:
        path = call.request.param("path")
        if not path:
            return _invalid("path", "Give the folder's path: path=/Contracts.")
        wanted = "/" + path.strip("/")
        if wanted == "/":
            return json_response(200, self._folder_json(call, call.data.folders[call.data.root_id]))
        for folder in call.data.folders.values():
            if self._folder_path(call.data, folder) == wanted:
                return json_response(200, self._folder_json(call, folder))
        return _not_found(f"No folder exists at the path {wanted}.")

    def system_folder(self, call: Call) -> Response:
        kind = (call.request.param(self.system_folder_parameter) or "").lower()
        if kind not in ("root", "home"):
            return _invalid(
                self.system_folder_parameter,
                f"Give the system folder: {self.system_folder_parameter}=root or home.",
            )
        # The emulated user's home folder is the root: one user, one account.
        return json_response(200, self._folder_json(call, call.data.folders[call.data.root_id]))

    def get_folder(self, call: Call) -> Response:
        return self._one(call, call.data.folders, self._folder_json, "folder")

    def create_folder(self, call: Call) -> Response:
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        name = body.get("Name")
        if not isinstance(name, str) or not name.strip() or "/" in name or len(name) > 255:
            return _invalid("Name", "Name is required: the new folder's name, without /.")
        parent_id = _folder_reference(call, body, "ParentFolder")
        if isinstance(parent_id, Response):
            return parent_id
        if any(f.parent_id == parent_id and f.name == name for f in call.data.folders.values()):
            return _invalid("Name", f"A folder named {name!r} exists there already.")
        description = body.get("Description", "")
        folder = Folder(new_guid(), name.strip(), parent_id, str(description), call.now)
        return self._created(call, call.data.folders, folder, self._folder_json, 201)

    def child_folders(self, call: Call) -> Response:
        if call.ids[0] not in call.data.folders:
            return _not_found("The folder was not found.")
        children = [f for f in call.data.folders.values() if f.parent_id == call.ids[0]]
        items = [self._folder_json(call, f) for f in sorted(children, key=lambda f: f.name)]
        return self._collection(call, items, self._href(call, "folders", call.ids[0], "folders"))

    def folder_documents(self, call: Call) -> Response:
        if call.ids[0] not in call.data.folders:
            return _not_found("The folder was not found.")
        docs = [
            d for d in call.data.documents.values() if d.folder_id == call.ids[0] and not d.trashed
        ]
        items = [self._document_json(call, d) for d in sorted(docs, key=lambda d: d.name)]
        return self._collection(call, items, self._href(call, "folders", call.ids[0], "documents"))

    # -- documents ---------------------------------------------------------------------------

    def _document(self, call: Call) -> Document | Response:
        doc = call.data.documents.get(call.ids[0])
        if doc is None or doc.trashed:
            return _not_found("The document was not found.")
        return doc

    def get_document(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        return json_response(200, self._document_json(call, doc))

    def document_by_path(self, call: Call) -> Response:
        path = call.request.param("path")
        if not path:
            return _invalid("path", "Give the document's path: path=/Contracts/MSA.pdf.")
        wanted = "/" + path.strip("/")
        for doc in call.data.documents.values():
            folder = call.data.folders[doc.folder_id]
            here = self._folder_path(call.data, folder).rstrip("/") + "/" + doc.name
            if here == wanted and not doc.trashed:
                return json_response(200, self._document_json(call, doc))
        return _not_found(f"No document exists at the path {wanted}.")

    def patch_document(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        for key in ("Name", "Description"):
            if key in body and not isinstance(body[key], str):
                return _invalid(key, f"{key} must be text.")
        if "Name" in body and (not body["Name"].strip() or "/" in body["Name"]):
            return _invalid("Name", "Name must be a file name without /.")
        target = _optional_folder(call, body, "ParentFolder", doc.folder_id)
        if isinstance(target, Response):
            return target
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
        if "Name" in body and body["Name"] != doc.name:
            doc.history.append(("Renamed", f"Renamed from {doc.name}", call.now))
            doc.name = body["Name"]
        if target != doc.folder_id:
            doc.history.append(("Moved", "Moved to another folder", call.now))
            doc.folder_id = target
        if "Description" in body:
            doc.description = body["Description"]
        if updates:
            doc.history.append(("Edited", "Attribute values changed", call.now))
        doc.updated = call.now
        return json_response(200, self._document_json(call, doc))

    def delete_document(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        doc.trashed = True  # to the trash: gone from folders and lookups
        doc.history.append(("Deleted", "Moved to the trash", call.now))
        return Response(200)

    def list_versions(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        versions = [doc, *(call.data.versions[v] for v in reversed(doc.versions))]
        items = [self._document_json(call, v, version_of=doc.id) for v in versions]
        return self._collection(call, items, self._href(call, "documents", doc.id, "versions"))

    def list_history(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        items = [
            {
                "Description": what,
                "Action": action,
                "CreatedDate": _timestamp(when),
                "CreatedBy": CREATED_BY,
                "Href": self._href(call, "documents", doc.id, "historyItems", str(index)),
            }
            for index, (action, what, when) in enumerate(reversed(doc.history))
        ]
        return self._collection(call, items, self._href(call, "documents", doc.id, "historyItems"))

    def lock_document(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        if doc.lock is not None:
            return _invalid("Lock", "The document is already checked out.")
        doc.lock = call.now
        doc.history.append(("CheckedOut", "Checked out", call.now))
        return json_response(201, self._lock_json(call, doc))

    def unlock_document(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        if doc.lock is None:
            return _not_found("The document is not checked out.")
        doc.lock = None
        doc.history.append(("CheckOutCancelled", "Check-out cancelled", call.now))
        return Response(204)

    # -- upload and download -----------------------------------------------------------------

    def _new_document(self, call: Call, name: str, folder: Folder, content: bytes) -> Document:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        doc = Document(new_guid(), name, folder.id, content, content_type, call.now, call.now)
        if content_type != "application/pdf":
            doc.rendered_at = call.now + RENDER_SECONDS
        doc.history.append(("Created", "Document uploaded", call.now))
        call.data.documents[doc.id] = doc
        return doc

    def upload(self, call: Call) -> Response:
        folder = call.data.folders.get(call.ids[0])
        if folder is None:
            return _not_found("The folder was not found.")
        if call.request.content_type == "multipart/form-data":
            files = _multipart_files(call.request)
            if isinstance(files, Response):
                return files
            made = [self._new_document(call, n, folder, c) for n, c in files]
            return json_response(201, [self._document_json(call, d) for d in made])
        name = (call.request.param("name") or "").strip()
        if not name or "/" in name:
            return _invalid("name", "Give the document's file name: ?name=Contract.pdf")
        if not call.request.body:
            return _invalid("content", "The document has no content.")
        doc = self._new_document(call, name, folder, call.request.body)
        body = self._document_json(call, doc)
        return json_response(201, body, ("Location", body["Href"]))

    def upload_version(self, call: Call) -> Response:
        doc = self._document(call)
        if isinstance(doc, Response):
            return doc
        if not call.request.body:
            return _invalid("content", "The new version has no content.")
        name = (call.request.param("name") or "").strip() or doc.name
        old = Document(
            new_guid(),
            doc.name,
            doc.folder_id,
            doc.content,
            doc.content_type,
            doc.created,
            doc.updated,
            uid=doc.uid,
            version=doc.version,
        )
        call.data.versions[old.id] = old
        doc.versions.append(old.id)
        doc.name, doc.content, doc.version, doc.updated = (
            name,
            call.request.body,
            doc.version + 1,
            call.now,
        )
        doc.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        doc.rendered_at = call.now + (
            0 if doc.content_type == "application/pdf" else RENDER_SECONDS
        )
        doc.lock = None  # an upload checks the document back in
        doc.history.append(("CheckedIn", f"Version {doc.version} uploaded", call.now))
        return json_response(201, self._document_json(call, doc))

    def download(self, call: Call) -> Response:
        doc = call.data.documents.get(call.ids[0]) or call.data.versions.get(call.ids[0])
        if doc is None or doc.trashed:
            return _not_found("The document was not found.")
        accept = call.request.header("accept").split(",", 1)[0].split(";", 1)[0].strip().lower()
        ready = call.now >= doc.rendered_at
        if accept in ORIGINAL_TYPES:
            content, content_type = doc.content, doc.content_type
        elif accept == "application/pdf":
            if doc.content_type != "application/pdf" and not ready:
                return _not_found("The PDF rendition is not ready yet; try again shortly.")
            content, content_type = (doc.content if doc.content_type == accept else _PDF), accept
        elif accept == "text/plain":
            content, content_type = _ocr_text(doc).encode("utf-8"), "text/plain; charset=utf-8"
        elif accept == "image/png":
            if not ready:
                return clm_error(404, "The page image is not ready yet.", error_code=NOT_READY_CODE)
            content, content_type = _PNG, "image/png"
        else:
            return clm_error(
                406,
                f"The document cannot be returned as {accept!r}.",
                "Ask for native (or no Accept), application/pdf, text/plain or image/png.",
                error_code=NOT_ACCEPTABLE_CODE,
            )
        safe_name = doc.name.replace('"', "")
        headers = [
            ("Content-Type", content_type),
            ("Content-Disposition", f'attachment; filename="{safe_name}"'),
            ("X-SpringCM-Content-SHA256", hashlib.sha256(doc.content).hexdigest()),
        ]
        if call.request.method == "HEAD":
            headers.append(("Content-Length", str(len(content))))
            return Response(200, b"", headers)
        return Response(200, content, headers)

    # -- search and XML merge tasks ----------------------------------------------------------

    def start_search(self, call: Call) -> Response:
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        title, content = body.get("Title", ""), body.get("Content", "")
        if not isinstance(title, str) or not isinstance(content, str):
            return _invalid("Title", "Title and Content must be text.")
        folder_id = _href_id(body.get("InFolder")) if "InFolder" in body else None
        if folder_id is not None and folder_id not in call.data.folders:
            return _invalid("InFolder", "InFolder.Href must name an existing folder.")
        task = SearchTask(
            new_guid(),
            call.now,
            call.now,
            title=title,
            content=content,
            folder_id=folder_id,
            subfolders=bool(body.get("IncludeSubFolders", True)),
        )
        return self._created(call, call.data.searches, task, self._search_json, 202)

    def _search_json(self, call: Call, task: SearchTask) -> dict[str, Any]:
        href = self._href(call, "documentsearchtasks", task.id)
        body: dict[str, Any] = {
            "Status": task.status,
            "Title": task.title,
            "Content": task.content,
            "CreatedDate": _timestamp(task.created),
            "Href": href,
        }
        if task.status == SUCCESS:
            body["Result"] = {"Href": href + "/result"}
        return body

    def _settle_search(self, call: Call, task: SearchTask) -> None:
        if task.status != PROCESSING or _is_processing(task, call.now):
            return
        folders = None
        if task.folder_id is not None:
            folders = {task.folder_id}
            if task.subfolders:
                changed = True
                while changed:
                    more = {f.id for f in call.data.folders.values() if f.parent_id in folders}
                    changed = not more <= folders
                    folders |= more
        task.found = [
            d.id
            for d in sorted(call.data.documents.values(), key=lambda d: d.name)
            if not d.trashed
            and task.title.lower() in d.name.lower()
            and task.content.lower() in _ocr_text(d).lower()
            and (folders is None or d.folder_id in folders)
        ]
        task.status, task.ended, task.changed = SUCCESS, call.now, call.now

    def get_search(self, call: Call) -> Response:
        task = call.data.searches.get(call.ids[0])
        if task is None:
            return _not_found("The search task was not found.")
        self._settle_search(call, task)
        return json_response(200, self._search_json(call, task))

    def search_result(self, call: Call) -> Response:
        task = call.data.searches.get(call.ids[0])
        if task is None:
            return _not_found("The search task was not found.")
        if task.status == PROCESSING and call.now < task.changed + SETTLE_AFTER_SECONDS:
            return clm_error(404, "The search is still running.", error_code=NOT_READY_CODE)
        self._settle_search(call, task)
        docs = [call.data.documents[d] for d in task.found if not call.data.documents[d].trashed]
        items = [self._document_json(call, d) for d in docs]
        href = self._href(call, "documentsearchtasks", task.id, "result")
        return self._collection(call, items, href)

    def start_merge(self, call: Call) -> Response:
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        template_id = _href_id(body.get("TemplateDocument")) or ""
        template = call.data.documents.get(template_id)
        if template is None or template.trashed:
            return _invalid("TemplateDocument", "TemplateDocument.Href must name a document.")
        data_xml = body.get("DataXml")
        if not isinstance(data_xml, str) or not data_xml.strip().startswith("<"):
            return _invalid("DataXml", "DataXml is required: the XML data to merge.")
        folder_id = _optional_folder(
            call, body, "DestinationFolder", template.folder_id, "a folder"
        )
        if isinstance(folder_id, Response):
            return folder_id
        name = body.get("DestinationDocumentName") or template.name.rsplit(".", 1)[0] + ".pdf"
        if not isinstance(name, str) or "/" in name:
            return _invalid("DestinationDocumentName", "Give a file name without /.")
        task = MergeTask(
            new_guid(),
            call.now,
            call.now,
            template_id=template_id,
            data_xml=data_xml,
            folder_id=folder_id,
            document_name=name,
        )
        return self._created(call, call.data.merges, task, self._merge_json, 202)

    def _merge_json(self, call: Call, task: MergeTask) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Status": task.status,
            "TemplateDocument": {"Href": self._href(call, "documents", task.template_id)},
            "DestinationFolder": {"Href": self._href(call, "folders", task.folder_id)},
            "DestinationDocumentName": task.document_name,
            "CreatedDate": _timestamp(task.created),
            "Href": self._href(call, "documentxmlmergetasks", task.id),
        }
        if task.result_id is not None:
            body["ResultDocument"] = {"Href": self._href(call, "documents", task.result_id)}
            body["DownloadUrl"] = self._href(call, "documents", task.result_id, host="download")
        return body

    def get_merge(self, call: Call) -> Response:
        task = call.data.merges.get(call.ids[0])
        if task is None:
            return _not_found("The merge task was not found.")
        if task.status == PROCESSING and not _is_processing(task, call.now):
            folder = call.data.folders[task.folder_id]
            made = self._new_document(call, task.document_name, folder, _PDF)
            made.rendered_at = call.now
            task.result_id = made.id
            task.status, task.ended, task.changed = SUCCESS, call.now, call.now
        return json_response(200, self._merge_json(call, task))

    # -- workflows ---------------------------------------------------------------------------

    def _definition_json(self, call: Call, definition: WorkflowDefinition) -> dict[str, Any]:
        created = _timestamp(self.created)
        return {
            "Name": definition.name,
            "Description": definition.description,
            "CreatedDate": created,
            "UpdatedDate": created,
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
        references = body.get("WorkflowDocuments", [])
        if not isinstance(references, list) or len(references) > 100:
            return _invalid("WorkflowDocuments", "WorkflowDocuments must be a list of {Href}.")
        documents = [_href_id(r) or "" for r in references]
        if any(d not in call.data.documents for d in documents):
            return _invalid("WorkflowDocuments", "Every WorkflowDocuments Href must be a document.")
        if params and documents:
            return _invalid("Params", "Give Params or WorkflowDocuments, not both.")
        flow = Workflow(
            new_guid(),
            call.now,
            call.now,
            status=PENDING,
            name=name,
            params=params,
            documents=documents,
            waits_for_signal=definition.waits_for_signal,
        )
        return self._created(call, call.data.workflows, flow, self._workflow_json, 201)

    def get_workflow(self, call: Call) -> Response:
        flow = call.data.workflows.get(call.ids[0])
        if flow is None:
            return _not_found("The workflow was not found.")
        settled = call.now >= flow.changed + SETTLE_AFTER_SECONDS
        if flow.status == PENDING:
            flow.status, flow.changed = EXECUTING, call.now
        elif flow.status == EXECUTING and (settled or flow.polls_before_settling <= 0):
            if flow.waits_for_signal and not flow.signals:
                flow.status = WAITING
            else:
                flow.status, flow.ended = COMPLETED, call.now
            flow.changed = call.now
        elif flow.status == EXECUTING:
            flow.polls_before_settling -= 1
        return json_response(200, self._workflow_json(call, flow))

    def stop_workflow(self, call: Call) -> Response:
        flow = call.data.workflows.get(call.ids[0])
        if flow is None:
            return _not_found("The workflow was not found.")
        if flow.status not in (*RUNNING, WAITING, PAUSED):
            return _invalid("Status", f"The workflow has ended already (it is {flow.status}).")
        flow.status, flow.ended, flow.changed = ABORTED, call.now, call.now
        return Response(200)

    def signal_workflow(self, call: Call) -> Response:
        flow = call.data.workflows.get(call.ids[0])
        if flow is None:
            return _not_found("The workflow was not found.")
        body = _json_object(call.request)
        if isinstance(body, Response):
            return body
        if flow.status != WAITING:
            return _invalid(
                "Status", f"The workflow is not at a Wait for Signal step (it is {flow.status})."
            )
        flow.signals.append(body.get("Data"))
        flow.status, flow.changed, flow.polls_before_settling = EXECUTING, call.now, 1
        # unconfirmed: the status a signal answers with; 200 and the instance, as for a GET.
        return json_response(200, self._workflow_json(call, flow))

    # -- Doc Launcher ------------------------------------------------------------------------

    def _configuration_json(self, call: Call, c: DocLauncherConfiguration) -> dict[str, Any]:
        return {
            "Name": c.name,
            "Description": c.description,
            "DestinationFolder": {"Href": self._href(call, "folders", c.destination_id)},
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
        data_type = body.get("DataType", "xml")
        if data_type not in ("xml", "json"):
            return _invalid("DataType", "DataType must be xml or json.")
        data = body.get("Data", "")
        if not isinstance(data, str):
            return _invalid("Data", "Data must be a string of XML or JSON.")
        if data_type == "json":
            try:
                json.loads(data or "{}")
            except ValueError:
                return _invalid("Data", "DataType is json but Data is not valid JSON.")
        elif data and not data.lstrip().startswith("<"):
            return _invalid("Data", "DataType is xml but Data is not XML.")
        destination_id = _optional_folder(call, body, "DestinationFolder", None, "a folder")
        if isinstance(destination_id, Response):
            return destination_id
        task = DocLauncherTask(
            new_guid(),
            call.now,
            call.now,
            configuration_id=configuration_id,
            data=data,
            data_type=data_type,
            destination_id=destination_id,
        )
        return self._created(call, call.data.tasks, task, self._task_json, 202)

    def get_task(self, call: Call) -> Response:
        task = call.data.tasks.get(call.ids[0])
        if task is None:
            return _not_found("The Doc Launcher task was not found.")
        if task.status == PROCESSING and not _is_processing(task, call.now):
            task.status, task.ended, task.changed = SUCCESS, call.now, call.now
        return json_response(200, self._task_json(call, task))


def _named_object(name: str, created: float, updated: float, description: str) -> dict[str, Any]:
    """The fields a folder's and a document's JSON open with (the one emulated user made both)."""
    return {
        "Name": name,
        "CreatedDate": _timestamp(created),
        "CreatedBy": CREATED_BY,
        "UpdatedDate": _timestamp(updated),
        "UpdatedBy": CREATED_BY,
        "Description": description,
    }


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
        return clm_error(400, "The request body is not valid JSON.", error_code=BAD_BODY_CODE)
    if not isinstance(body, dict):
        return clm_error(400, "The request body must be a JSON object.", error_code=BAD_BODY_CODE)
    return body


def _href_id(reference: Any) -> str | None:
    """The GUID at the end of a {"Href": ...} reference, lower-cased."""
    href = reference.get("Href") if isinstance(reference, dict) else None
    if not isinstance(href, str) or len(href) > 2048:
        return None
    return href.rstrip("/").rsplit("/", 1)[-1].lower()


def _folder_reference(
    call: Call, body: dict[str, Any], key: str, wording: str = "an existing folder"
) -> str | Response:
    """The id of the folder that body[key], a {"Href": ...} reference, names; else a 422."""
    folder_id = _href_id(body.get(key)) or ""
    if folder_id not in call.data.folders:
        return _invalid(key, f"{key}.Href must name {wording}.")
    return folder_id


def _optional_folder(
    call: Call,
    body: dict[str, Any],
    key: str,
    default: _Default,
    wording: str = "an existing folder",
) -> str | _Default | Response:
    """As _folder_reference, but `default` when the body has no such key."""
    return _folder_reference(call, body, key, wording) if key in body else default


MAX_PARTS = 20


def _multipart_files(request: Request) -> list[tuple[str, bytes]] | Response:
    """(file name, content) of each file part of a multipart/form-data upload."""
    from email import policy
    from email.parser import BytesParser

    head = f"Content-Type: {request.header('content-type')}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.default).parsebytes(head + request.body)
    if not message.is_multipart():
        return _invalid("content", "The multipart body has no parts.")
    files: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_filename()
        content = part.get_payload(decode=True)
        if not name or not isinstance(content, bytes):
            continue
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name or not content:
            return _invalid("content", "Every file part needs a file name and content.")
        files.append((name, content))
        if len(files) > MAX_PARTS:
            return _invalid("content", f"Upload at most {MAX_PARTS} files at once.")
    if not files:
        return _invalid("content", "The multipart body holds no file (filename=...).")
    return files


def _ocr_text(doc: Document) -> str:
    """The emulator's stand-in for CLM's recognised text: the name plus any readable text."""
    readable = doc.content[:4000].decode("latin-1")
    letters = "".join(c if c.isprintable() or c == "\n" else " " for c in readable)
    return f"{doc.name}\n{' '.join(letters.split())}\n"


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
