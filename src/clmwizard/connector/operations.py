"""The CLM operation catalogue: every action the connector bundle offers, as data.

One source of truth for the swagger files, the Definition tab of `clmwizard fields` and the
wizard. Paths are relative to the CLM base URL of the operation's connector (general, upload or
download host); `{AccountId}` is filled with the profile's account GUID as a hidden default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from clmwizard.store.profile import ConnectorName

Schema = Mapping[str, Any]
Visibility = Literal["important", "advanced", "internal"]
Location = Literal["path", "query", "header", "body"]
Method = Literal["GET", "POST", "PATCH", "DELETE"]

ACCOUNT_ID = "AccountId"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: Location
    summary: str  # x-ms-summary: the label the flow designer shows
    description: str
    type: str = "string"
    required: bool = True
    format: str | None = None
    schema: Schema | None = None  # body parameters only
    visibility: Visibility | None = None
    default: str | None = None
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    operation_id: str
    connector: ConnectorName
    method: Method
    path: str  # the real CLM path the call reaches
    summary: str
    description: str
    visibility: Visibility
    parameters: tuple[Parameter, ...]
    response: Schema | None  # None: the call answers without a body
    status: int = 200
    response_description: str = "OK"
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    also: tuple[int, ...] = ()  # further success statuses with the same answer
    # The swagger path when `path` is already taken in the same swagger by another action of
    # the same verb (one CLM URL, several actions: download formats, raw or multipart upload,
    # the general and download hosts' GET /documents/{id} in the single layout). The bundle
    # sends such an action to `path` with a routerequesttoendpoint policy.
    alias: str | None = None
    example: Any = None  # a literal response sample; else one is made from the schema

    @property
    def statuses(self) -> tuple[int, ...]:
        return (self.status, *self.also)


def _text(summary: str, description: str, fmt: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": description, "x-ms-summary": summary}
    if fmt:
        schema["format"] = fmt
    return schema


def _integer(summary: str, description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "format": "int64",
        "description": description,
        "x-ms-summary": summary,
    }


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}"}


def _object(properties: Mapping[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    return schema


def _link(summary: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "x-ms-summary": summary,
        "properties": {
            "Href": _text(f"{summary} link", f"The API address of the {summary.lower()}.")
        },
    }


def _documents_refs() -> dict[str, Any]:
    return {
        "type": "array",
        "description": "The documents the workflow works on.",
        "x-ms-summary": "Workflow documents",
        "items": _object({"Href": _text("Document link", "The API address of a document.", "uri")}),
    }


def _collection(item: str, noun: str) -> dict[str, Any]:
    return _object(
        {
            "Items": {
                "type": "array",
                "description": f"The {noun} on this page.",
                "x-ms-summary": noun.capitalize(),
                "items": _ref(item),
            },
            "Href": _text("Page link", "The API address of this page.", "uri"),
            "Offset": _integer("Offset", "How many items come before this page."),
            "Limit": _integer("Limit", "The largest number of items a page holds."),
            "First": _text("First page link", "The API address of the first page.", "uri"),
            "Last": _text("Last page link", "The API address of the last page.", "uri"),
            "Next": _text("Next page link", "The API address of the next page, if any.", "uri"),
            "Previous": _text(
                "Previous page link", "The API address of the previous page, if any.", "uri"
            ),
            "Total": _integer("Total", f"How many {noun} there are in all."),
        }
    )


_HREF = _text("Link", "The API address of this object.", "uri")
_CREATED = _text("Created", "When it was created (UTC).", "date-time")
_UPDATED = _text("Updated", "When it was last changed (UTC).", "date-time")
_CREATED_BY = _text("Created by", "Who created it.")
_UPDATED_BY = _text("Updated by", "Who changed it last.")

DEFINITIONS: dict[str, dict[str, Any]] = {
    "Error": _object(
        {
            "Error": _object(
                {
                    "HttpStatusCode": _integer("HTTP status", "The HTTP status code."),
                    "UserMessage": _text("Message", "What went wrong, for people."),
                    "DeveloperMessage": _text("Developer message", "What went wrong, in detail."),
                    "ErrorCode": _integer("Error code", "The CLM error code."),
                    "ReferenceId": _text(
                        "Reference", "The reference to quote to DocuSign support."
                    ),
                }
            ),
            "ValidationErrors": {
                "type": "array",
                "description": "What is wrong with the request (HTTP 422 only).",
                "x-ms-summary": "Validation errors",
                "items": _object(
                    {
                        "PropertyName": _text("Property", "The field that is wrong."),
                        "UserMessage": _text("Message", "What is wrong with it."),
                        "ErrorCode": _integer("Error code", "The CLM error code."),
                    }
                ),
            },
        }
    ),
    "AttributeGroup": _object(
        {
            "Name": _text("Attribute group name", "The name of the attribute group."),
            "Description": _text("Attribute group description", "What the group is for."),
            "Attributes": {
                "type": "array",
                "description": "The attributes (fields) of the group.",
                "x-ms-summary": "Attributes",
                "items": _object(
                    {
                        "Name": _text("Attribute name", "The name of the attribute."),
                        "AttributeType": _text(
                            "Attribute type", "String, Date, Number or DropDownList."
                        ),
                        "RepeatingAttribute": {
                            "type": "boolean",
                            "description": "Whether the attribute holds several values.",
                            "x-ms-summary": "Repeating",
                        },
                        "DisplayOrder": _integer("Display order", "Where the attribute is shown."),
                    }
                ),
            },
            "Href": _HREF,
        }
    ),
    "Folder": _object(
        {
            "Name": _text("Folder name", "The name of the folder."),
            "Description": _text("Folder description", "The description of the folder."),
            "Path": _text("Folder path", "The full path of the folder."),
            "CreatedDate": _CREATED,
            "CreatedBy": _CREATED_BY,
            "UpdatedDate": _UPDATED,
            "UpdatedBy": _UPDATED_BY,
            "BrowseDocumentsUrl": _text("Browse URL", "Where people open the folder.", "uri"),
            "ParentFolder": _link("Parent folder", "The folder that holds this folder."),
            "Folders": _link("Subfolders", "The folders inside this folder."),
            "Documents": _link("Documents", "The documents in this folder."),
            "Href": _HREF,
        }
    ),
    "Document": _object(
        {
            "Name": _text("Document name", "The name of the document."),
            "Description": _text("Document description", "The description of the document."),
            "Path": _text("Document path", "The full path of the document."),
            "CreatedDate": _CREATED,
            "CreatedBy": _CREATED_BY,
            "UpdatedDate": _UPDATED,
            "UpdatedBy": _UPDATED_BY,
            "PageCount": _integer("Page count", "How many pages the document has."),
            "NativeFileSize": _integer("File size", "The size of the file in bytes."),
            "PdfFileSize": _integer("PDF size", "The size of the PDF rendition in bytes."),
            "AttributeGroups": {
                "type": "object",
                "description": "The document's attribute values, by attribute group.",
                "x-ms-summary": "Attribute groups",
            },
            "ParentFolder": _link("Parent folder", "The folder that holds the document."),
            "DownloadDocumentHref": _text(
                "Download link", "The API address of the document's content.", "uri"
            ),
            "Uid": _text("Document UID", "The document's unique id across versions."),
            "Version": _text("Version", "The version label of this document."),
            "Lock": _ref("Lock"),
            "Href": _HREF,
        }
    ),
    "Lock": _object(
        {
            "LockType": _text("Lock type", "How the document is locked, e.g. CheckOut."),
            "LockedDate": _text("Locked", "When the document was checked out (UTC).", "date-time"),
            "LockOwner": _text("Locked by", "Who checked the document out."),
            "CheckInHref": _text(
                "Check-in link", "Where to upload the new version (upload host).", "uri"
            ),
            "Href": _text("Lock link", "The API address of the lock.", "uri"),
        }
    ),
    "HistoryItem": _object(
        {
            "Description": _text("What happened", "The event, in words."),
            "Action": _text("Action", "The kind of event, e.g. Created or Edited."),
            "CreatedDate": _CREATED,
            "CreatedBy": _CREATED_BY,
            "Href": _HREF,
        }
    ),
    "Workflow": _object(
        {
            "Name": _text("Workflow name", "The name of the workflow definition."),
            "Status": _text(
                "Workflow status",
                "Execution Pending, Executing, Waiting, Completed, Paused, Failed or Aborted.",
            ),
            "StartDate": _text("Started", "When the workflow started (UTC).", "date-time"),
            "EndDate": _text("Ended", "When the workflow ended (UTC).", "date-time"),
            "Params": _text("Parameters", "The XML parameters the workflow was started with."),
            "WorkflowDocuments": _documents_refs(),
            "Href": _text("Workflow link", "The API address of the workflow instance.", "uri"),
        }
    ),
    "WorkflowDefinition": _object(
        {
            "Name": _text("Definition name", "The name of the workflow definition."),
            "Description": _text("Definition description", "What the workflow does."),
            "CreatedDate": _CREATED,
            "UpdatedDate": _UPDATED,
            "Href": _HREF,
        }
    ),
    "DocLauncherConfiguration": _object(
        {
            "Name": _text("Configuration name", "The name of the Doc Launcher configuration."),
            "Description": _text("Configuration description", "What the configuration makes."),
            "DestinationFolder": _link(
                "Destination folder", "Where the configuration saves its documents."
            ),
            "Href": _text("Configuration link", "The API address of the configuration.", "uri"),
        }
    ),
    "DocLauncherTask": _object(
        {
            "Status": _text("Task status", "Processing, Success or Failure."),
            "CreatedDate": _CREATED,
            "DocLauncherConfiguration": _link(
                "Configuration", "The Doc Launcher configuration the task uses."
            ),
            "Data": _text("Data", "The XML or JSON data merged into the document."),
            "DataType": _text("Data type", "xml or json."),
            "DestinationFolder": _link("Destination folder", "Where the document is saved."),
            "DocLauncherResultUrl": _text(
                "Result URL", "Where the person finishes the document in Doc Launcher.", "uri"
            ),
            "UrlExpirationDate": _text(
                "URL expires", "When the result URL stops working (UTC).", "date-time"
            ),
            "Href": _text(
                "Task link", "The API address of the task, to ask for its result.", "uri"
            ),
        }
    ),
    "DocumentSearchTask": _object(
        {
            "Status": _text("Search status", "Processing, Success or Failure."),
            "Title": _text("Title searched", "The title words searched for."),
            "Content": _text("Content searched", "The content words searched for."),
            "CreatedDate": _CREATED,
            "Result": _link("Result", "The documents found (a paged list)."),
            "Href": _text("Search link", "The API address of the search task.", "uri"),
        }
    ),
    "DocumentXmlMergeTask": _object(
        {
            "Status": _text("Merge status", "Processing, Success or Failure."),
            "TemplateDocument": _link("Template", "The template document merged."),
            "DestinationFolder": _link("Destination folder", "Where the result is saved."),
            "DestinationDocumentName": _text("Document name", "The name of the new document."),
            "ResultDocument": _link("Result document", "The generated document, once done."),
            "DownloadUrl": _text("Download URL", "Where to download the result.", "uri"),
            "CreatedDate": _CREATED,
            "Href": _text("Merge link", "The API address of the merge task.", "uri"),
        }
    ),
}
DEFINITIONS["AttributeGroupList"] = _collection("AttributeGroup", "attribute groups")
DEFINITIONS["FolderList"] = _collection("Folder", "folders")
DEFINITIONS["DocumentList"] = _collection("Document", "documents")
DEFINITIONS["HistoryItemList"] = _collection("HistoryItem", "history items")
DEFINITIONS["WorkflowDefinitionList"] = _collection("WorkflowDefinition", "workflow definitions")
DEFINITIONS["DocLauncherConfigurationList"] = _collection(
    "DocLauncherConfiguration", "Doc Launcher configurations"
)


def _id(name: str, noun: str) -> Parameter:
    return Parameter(name, "path", f"{noun} ID", f"The GUID of the {noun.lower()}.")


_ACCOUNT = Parameter(
    ACCOUNT_ID,
    "path",
    "Account ID",
    "The DocuSign account GUID; filled in from your clmwizard profile.",
    visibility="internal",
)
_FOLDER = _id("FolderId", "Folder")
_DOCUMENT = _id("DocumentId", "Document")
_WORKFLOW = _id("WorkflowId", "Workflow")
_TASK = _id("TaskId", "Task")
# unconfirmed: CLM's guide names offset/limit, the v2 search reference and two live clients use
# pageSortParams.offset/limit. The actions send offset/limit; every collection answer carries
# First/Next/Previous/Last links, which work whichever names the server reads.
_PAGE = (
    Parameter(
        "offset",
        "query",
        "Offset",
        "How many items to skip before the first one returned.",
        type="integer",
        required=False,
        visibility="advanced",
    ),
    Parameter(
        "limit",
        "query",
        "Limit",
        "The largest number of items to return: 1 to 100, 20 when empty.",
        type="integer",
        required=False,
        visibility="advanced",
    ),
)
# CLM returns related data only when asked for (expand, capitalised values).
DOCUMENT_EXPAND = "AttributeGroups,Path,ParentFolder,Lock"
FOLDER_EXPAND = "Path,ParentFolder,Folders,Documents"
LIST_DOCUMENT_EXPAND = "AttributeGroups,Path,ParentFolder"


def _expand(default: str, what: str) -> Parameter:
    return Parameter(
        "expand",
        "query",
        "Expand",
        f"The related data to include, comma separated ({what}).",
        default=default,
        visibility="advanced",
    )


def _accept(media_type: str, what: str) -> Parameter:
    """CLM picks the download format from Accept; unconfirmed what Power Automate sends for a
    bare `produces`, so every download action sends its own Accept explicitly."""
    return Parameter(
        "Accept",
        "header",
        "Format",
        f"The format CLM returns: {what}.",
        default=media_type,
        visibility="internal",
    )


def _body(summary: str, description: str, schema: Schema) -> Parameter:
    return Parameter("body", "body", summary, description, schema=schema)


_BINARY = {"type": "string", "format": "binary", "description": "The file content."}
_NAME = Parameter("name", "query", "File name", "The document's name, with its extension.")
_HREF_LINK = {"Href": _text("Link", "The API address (Href) of the object.", "uri")}

OPERATIONS: tuple[Operation, ...] = (
    # -- attribute groups ----------------------------------------------------------------------
    Operation(
        "ListAttributeGroups",
        "general",
        "GET",
        "/v2/{AccountId}/attributegroups",
        "List attribute groups",
        "Lists the attribute groups of the CLM account. A cheap call, also used by the daily "
        "heartbeat flow.",
        "important",
        (_ACCOUNT, _expand("Attributes", "Attributes"), *_PAGE),
        _ref("AttributeGroupList"),
    ),
    Operation(
        "GetAttributeGroup",
        "general",
        "GET",
        "/v2/{AccountId}/attributegroups/{AttributeGroupId}",
        "Get an attribute group",
        "Gets one attribute group with its attributes.",
        "advanced",
        (_ACCOUNT, _id("AttributeGroupId", "Attribute group"), _expand("Attributes", "Attributes")),
        _ref("AttributeGroup"),
    ),
    # -- folders -------------------------------------------------------------------------------
    Operation(
        "GetFolder",
        "general",
        "GET",
        "/v2/{AccountId}/folders/{FolderId}",
        "Get a folder",
        "Gets a CLM folder by its ID, with its path.",
        "important",
        (_ACCOUNT, _FOLDER, _expand(FOLDER_EXPAND, "Path, ParentFolder, Folders, Documents")),
        _ref("Folder"),
    ),
    Operation(
        "GetFolderByPath",
        "general",
        "GET",
        "/v2/{AccountId}/folders/path",
        "Get a folder by path",
        "Gets a CLM folder by its full path, such as /Contracts/2024.",
        "important",
        (
            _ACCOUNT,
            Parameter("path", "query", "Folder path", "The full path of the folder."),
            _expand(FOLDER_EXPAND, "Path, ParentFolder, Folders, Documents"),
        ),
        _ref("Folder"),
    ),
    Operation(
        "GetSystemFolder",
        "general",
        "GET",
        "/v2/{AccountId}/folders/type",
        "Get a system folder",
        "Gets one of the account's system folders, such as the root folder.",
        "advanced",
        (
            _ACCOUNT,
            # unconfirmed: the parameter name systemFolder comes from third-party code only.
            Parameter(
                "systemFolder",
                "query",
                "System folder",
                "Which system folder: root or home.",
                default="root",
                enum=("root", "home"),
            ),
            _expand(FOLDER_EXPAND, "Path, ParentFolder, Folders, Documents"),
        ),
        _ref("Folder"),
    ),
    Operation(
        "ListSubfolders",
        "general",
        "GET",
        "/v2/{AccountId}/folders/{FolderId}/folders",
        "List subfolders",
        "Lists the folders directly inside a folder.",
        "advanced",
        (
            _ACCOUNT,
            _FOLDER,
            _expand(FOLDER_EXPAND, "Path, ParentFolder, Folders, Documents"),
            *_PAGE,
        ),
        _ref("FolderList"),
    ),
    Operation(
        "ListFolderDocuments",
        "general",
        "GET",
        "/v2/{AccountId}/folders/{FolderId}/documents",
        "List documents in a folder",
        "Lists the documents directly inside a folder, with their attribute values.",
        "important",
        (_ACCOUNT, _FOLDER, _expand(LIST_DOCUMENT_EXPAND, "AttributeGroups, Path, …"), *_PAGE),
        _ref("DocumentList"),
    ),
    Operation(
        "CreateFolder",
        "general",
        "POST",
        "/v2/{AccountId}/folders",
        "Create a folder",
        "Creates a folder inside another folder.",
        "important",
        (
            _ACCOUNT,
            _body(
                "Folder",
                "The new folder's name and the folder that holds it.",
                _object(
                    {
                        "Name": _text("Folder name", "The name of the new folder."),
                        "Description": _text("Folder description", "What the folder holds."),
                        "ParentFolder": _link("Parent folder", "The folder to create it in."),
                    },
                    required=("Name", "ParentFolder"),
                ),
            ),
        ),
        _ref("Folder"),
        status=201,
        response_description="Created",
        consumes=("application/json",),
    ),
    # -- documents -----------------------------------------------------------------------------
    Operation(
        "GetDocument",
        "general",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Get a document",
        "Gets a document's details, path and attribute values.",
        "important",
        (_ACCOUNT, _DOCUMENT, _expand(DOCUMENT_EXPAND, "AttributeGroups, Path, Versions, …")),
        _ref("Document"),
    ),
    Operation(
        "GetDocumentByPath",
        "general",
        "GET",
        "/v2/{AccountId}/documents",
        "Get a document by path",
        "Gets a document by its full path, such as /Contracts/MSA.pdf, with its attributes.",
        "important",
        (
            _ACCOUNT,
            Parameter("path", "query", "Document path", "The full path of the document."),
            _expand(DOCUMENT_EXPAND, "AttributeGroups, Path, Versions, …"),
        ),
        _ref("Document"),
    ),
    Operation(
        "UpdateDocument",
        "general",
        "PATCH",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Update, move or rename a document",
        "Sets attribute values, a new name or a new folder; what is not sent stays as it is.",
        "important",
        (
            _ACCOUNT,
            _DOCUMENT,
            _expand(DOCUMENT_EXPAND, "AttributeGroups, Path, Versions, …"),
            _body(
                "Changes",
                "The attribute values, name or folder to set.",
                _object(
                    {
                        "Name": _text("New name", "A new name for the document."),
                        "Description": _text("New description", "A new description."),
                        "ParentFolder": _link("New folder", "The folder to move it to."),
                        "AttributeGroups": {
                            "type": "object",
                            "description": "Attribute groups, each with attribute names "
                            'and {"Value": ...} objects.',
                            "x-ms-summary": "Attribute groups",
                        },
                    }
                ),
            ),
        ),
        _ref("Document"),
        consumes=("application/json",),
    ),
    Operation(
        "DeleteDocument",
        "general",
        "DELETE",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Delete a document",
        "Moves a document to the CLM trash.",
        "advanced",
        (_ACCOUNT, _DOCUMENT),
        None,
        also=(204,),
        response_description="Deleted",
    ),
    Operation(
        "ListDocumentVersions",
        "general",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}/versions",
        "List document versions",
        "Lists the versions of a document; each has its own ID to download it with.",
        "advanced",
        (_ACCOUNT, _DOCUMENT, *_PAGE),
        _ref("DocumentList"),
    ),
    Operation(
        "ListDocumentHistory",
        "general",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}/historyItems",
        "List document history",
        "Lists what happened to a document: uploads, edits, moves and check-outs.",
        "advanced",
        (_ACCOUNT, _DOCUMENT, *_PAGE),
        _ref("HistoryItemList"),
    ),
    Operation(
        "CheckOutDocument",
        "general",
        "POST",
        "/v2/{AccountId}/documents/{DocumentId}/lock",
        "Check out a document",
        "Locks a document for editing; upload the new version to check it back in.",
        "advanced",
        (_ACCOUNT, _DOCUMENT),
        _ref("Lock"),
        also=(201,),
    ),
    Operation(
        "CancelCheckOut",
        "general",
        "DELETE",
        "/v2/{AccountId}/documents/{DocumentId}/lock",
        "Cancel a check-out",
        "Unlocks a checked-out document without uploading a new version.",
        "advanced",
        (_ACCOUNT, _DOCUMENT),
        None,
        also=(204,),
        response_description="Unlocked",
    ),
    Operation(
        "StartDocumentSearch",
        "general",
        "POST",
        "/v2/{AccountId}/documentsearchtasks",
        "Start a document search",
        "Starts searching documents by title or content; ask for the result with Get search "
        "results.",
        "important",
        (
            _ACCOUNT,
            _body(
                "Search",
                "What to search for; the full set of fields is unconfirmed.",
                _object(
                    {
                        "Title": _text("Title", "Words in the document's name."),
                        "Content": _text("Content", "Words in the document's text."),
                        "InFolder": _link("In folder", "Only documents in this folder."),
                        "IncludeSubFolders": {
                            "type": "boolean",
                            "description": "Also search the folder's subfolders.",
                            "x-ms-summary": "Include subfolders",
                        },
                    }
                ),
            ),
        ),
        _ref("DocumentSearchTask"),
        status=202,
        response_description="Accepted: the search is running",
        consumes=("application/json",),
    ),
    Operation(
        "GetDocumentSearch",
        "general",
        "GET",
        "/v2/{AccountId}/documentsearchtasks/{TaskId}",
        "Get a document search",
        "Gets the status of a document search task.",
        "advanced",
        (_ACCOUNT, _TASK),
        _ref("DocumentSearchTask"),
    ),
    Operation(
        "GetDocumentSearchResults",
        "general",
        "GET",
        "/v2/{AccountId}/documentsearchtasks/{TaskId}/result",
        "Get search results",
        "Lists the documents a finished search found, with their attributes.",
        "important",
        (_ACCOUNT, _TASK, _expand(LIST_DOCUMENT_EXPAND, "AttributeGroups, Path, …"), *_PAGE),
        _ref("DocumentList"),
    ),
    # -- workflows -----------------------------------------------------------------------------
    Operation(
        "StartWorkflow",
        "general",
        "POST",
        "/v2/{AccountId}/workflows",
        "Start a workflow",
        "Starts a CLM workflow by name, with XML parameters or a list of documents.",
        "important",
        (
            _ACCOUNT,
            _body(
                "Workflow",
                "The workflow to start and its parameters or documents.",
                _object(
                    {
                        "Name": _text("Workflow name", "The name of the workflow definition."),
                        "Params": _text(
                            "Parameters", "XML parameters for the workflow, e.g. <Params/>."
                        ),
                        "WorkflowDocuments": _documents_refs(),
                    },
                    required=("Name",),
                ),
            ),
        ),
        _ref("Workflow"),
        status=201,
        also=(200, 202),  # CLM's reference pages only say "OK"
        response_description="The workflow is starting",
        consumes=("application/json",),
    ),
    Operation(
        "GetWorkflow",
        "general",
        "GET",
        "/v2/{AccountId}/workflows/{WorkflowId}",
        "Get a workflow",
        "Gets the status of a running or finished workflow instance.",
        "advanced",
        (_ACCOUNT, _WORKFLOW),
        _ref("Workflow"),
    ),
    Operation(
        "StopWorkflow",
        "general",
        "DELETE",
        "/v2/{AccountId}/workflows/{WorkflowId}",
        "Stop a workflow",
        "Stops a running workflow instance; its status becomes Aborted.",
        "advanced",
        (_ACCOUNT, _WORKFLOW),
        None,
        also=(204,),
        response_description="Stopped",
    ),
    Operation(
        "SignalWorkflow",
        "general",
        "POST",
        "/v2/{AccountId}/workflows/{WorkflowId}/signal",
        "Signal a waiting workflow",
        'Sends data to a workflow instance that is waiting at a "Wait for Signal" step.',
        "important",
        (
            _ACCOUNT,
            _WORKFLOW,
            _body(
                "Signal",
                "The data handed to the waiting step.",
                _object(
                    {"Data": _text("Data", "The data for the workflow, often XML.")},
                    required=("Data",),
                ),
            ),
        ),
        _ref("Workflow"),
        also=(201, 202),  # unconfirmed: the reference names no status for a signal
        response_description="The workflow goes on",
        consumes=("application/json",),
    ),
    Operation(
        "ListWorkflowDefinitions",
        "general",
        "GET",
        "/v2/{AccountId}/workflowdefinitions",
        "List workflow definitions",
        "Lists the workflow definitions that can be started.",
        "advanced",
        (_ACCOUNT, *_PAGE),
        _ref("WorkflowDefinitionList"),
    ),
    Operation(
        "GetWorkflowDefinition",
        "general",
        "GET",
        "/v2/{AccountId}/workflowdefinitions/{WorkflowDefinitionId}",
        "Get a workflow definition",
        "Gets one workflow definition by its ID.",
        "advanced",
        (_ACCOUNT, _id("WorkflowDefinitionId", "Workflow definition")),
        _ref("WorkflowDefinition"),
    ),
    # -- Doc Launcher and document generation --------------------------------------------------
    Operation(
        "ListDocLauncherConfigurations",
        "general",
        "GET",
        "/v2/{AccountId}/doclauncherconfigurations",
        "List Doc Launcher configurations",
        "Lists the Doc Launcher configurations of the account.",
        "advanced",
        (_ACCOUNT, *_PAGE),
        _ref("DocLauncherConfigurationList"),
    ),
    Operation(
        "GetDocLauncherConfiguration",
        "general",
        "GET",
        "/v2/{AccountId}/doclauncherconfigurations/{ConfigurationId}",
        "Get a Doc Launcher configuration",
        "Gets one Doc Launcher configuration by its ID.",
        "advanced",
        (_ACCOUNT, _id("ConfigurationId", "Configuration")),
        _ref("DocLauncherConfiguration"),
    ),
    Operation(
        "StartDocLauncherTask",
        "general",
        "POST",
        "/v2/{AccountId}/doclaunchertasks",
        "Start a Doc Launcher task",
        "Starts making a document with a Doc Launcher configuration and XML or JSON data; the "
        "answer carries the result URL.",
        "important",
        (
            _ACCOUNT,
            _body(
                "Doc Launcher task",
                "The configuration to use and the data to merge.",
                _object(
                    {
                        "DocLauncherConfiguration": _link(
                            "Configuration", "The Doc Launcher configuration to use."
                        ),
                        "Data": _text("Data", "The XML or JSON data to merge."),
                        "DataType": {
                            **_text("Data type", "The format of Data: xml or json."),
                            "enum": ["xml", "json"],
                            "default": "xml",
                        },
                        "DestinationFolder": _link(
                            "Destination folder", "Where to save the document (optional)."
                        ),
                    },
                    required=("DocLauncherConfiguration", "Data", "DataType"),
                ),
            ),
        ),
        _ref("DocLauncherTask"),
        status=202,
        response_description="Accepted: the task is running",
        consumes=("application/json",),
    ),
    Operation(
        "GetDocLauncherTask",
        "general",
        "GET",
        "/v2/{AccountId}/doclaunchertasks/{TaskId}",
        "Get a Doc Launcher task",
        "Gets the status of a Doc Launcher task and its result URL.",
        "advanced",
        (_ACCOUNT, _TASK),
        _ref("DocLauncherTask"),
    ),
    Operation(
        "StartDocumentGeneration",
        "general",
        "POST",
        "/v2/{AccountId}/documentxmlmergetasks",
        "Generate a document from a template",
        "Merges XML data into a template document (XML merge task); ask for the result with "
        "Get a document generation.",
        "important",
        (
            _ACCOUNT,
            _body(
                "Merge",
                "The template, the data and where to save the result.",
                _object(
                    {
                        "TemplateDocument": _link("Template", "The template document."),
                        "DataXml": _text("Data XML", "The XML data to merge."),
                        "DestinationFolder": _link("Destination folder", "Where to save it."),
                        "DestinationDocumentName": _text(
                            "Document name", "The name of the new document."
                        ),
                    },
                    required=("TemplateDocument", "DataXml"),
                ),
            ),
        ),
        _ref("DocumentXmlMergeTask"),
        status=202,
        response_description="Accepted: the merge is running",
        consumes=("application/json",),
    ),
    Operation(
        "GetDocumentGeneration",
        "general",
        "GET",
        "/v2/{AccountId}/documentxmlmergetasks/{TaskId}",
        "Get a document generation",
        "Gets the status of an XML merge task and, once done, the generated document.",
        "advanced",
        (_ACCOUNT, _TASK),
        _ref("DocumentXmlMergeTask"),
    ),
    # -- upload host ---------------------------------------------------------------------------
    Operation(
        "UploadDocument",
        "upload",
        "POST",
        "/v2/{AccountId}/folders/{FolderId}/documents",
        "Upload a document",
        "Uploads a file into a CLM folder as a new document.",
        "important",
        (
            _ACCOUNT,
            _FOLDER,
            _NAME,
            _body("File content", "The bytes of the file.", {"type": "string", "format": "binary"}),
        ),
        _ref("Document"),
        status=201,
        response_description="Created",
        consumes=("application/octet-stream",),
    ),
    Operation(
        "UploadNewVersion",
        "upload",
        "POST",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Upload a new version",
        "Uploads a file as the new version of an existing document (check-in).",
        "important",
        (
            _ACCOUNT,
            _DOCUMENT,
            Parameter(
                "name",
                "query",
                "File name",
                "The new version's file name; empty keeps the name.",
                required=False,
                visibility="advanced",
            ),
            _body("File content", "The bytes of the file.", {"type": "string", "format": "binary"}),
        ),
        _ref("Document"),
        status=201,
        also=(200,),
        response_description="Created",
        consumes=("application/octet-stream",),
    ),
    Operation(
        "UploadDocuments",
        "upload",
        "POST",
        "/v2/{AccountId}/folders/{FolderId}/documents",
        "Upload several files",
        "Uploads several files into a CLM folder at once as a multipart form.",
        "advanced",
        (
            _ACCOUNT,
            _FOLDER,
            _body(
                "Files",
                'A multipart body: {"$content-type": "multipart/form-data", "$multipart": '
                "[one part per file]}.",
                _object(
                    {
                        "$content-type": _text("Content type", "multipart/form-data."),
                        "$multipart": {
                            "type": "array",
                            "description": "One part per file, with a Content-Disposition "
                            "header naming the file.",
                            "x-ms-summary": "Files",
                            "items": {"type": "object"},
                        },
                    }
                ),
            ),
        ),
        {
            "type": "array",
            "description": "The documents created, one per file.",
            "items": _ref("Document"),
        },
        status=201,
        response_description="Created",
        consumes=("multipart/form-data",),
        alias="/v2/{AccountId}/folders/{FolderId}/documents/multipart",
    ),
    # -- download host -------------------------------------------------------------------------
    Operation(
        "DownloadDocument",
        "download",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Download the original file",
        "Downloads the document's file as it was uploaded.",
        "important",
        (_ACCOUNT, _DOCUMENT, _accept("native", "the original file")),
        _BINARY,
        produces=("application/octet-stream",),
        alias="/v2/{AccountId}/documents/{DocumentId}/original",
    ),
    Operation(
        "DownloadDocumentPdf",
        "download",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Download as PDF",
        "Downloads the document rendered as PDF; a 404 means the PDF is not ready yet.",
        "important",
        (_ACCOUNT, _DOCUMENT, _accept("application/pdf", "PDF")),
        _BINARY,
        produces=("application/pdf",),
        alias="/v2/{AccountId}/documents/{DocumentId}/pdf",
    ),
    Operation(
        "DownloadDocumentText",
        "download",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Download the OCR text",
        "Downloads the document's text, as read by CLM's text recognition.",
        "advanced",
        (_ACCOUNT, _DOCUMENT, _accept("text/plain", "plain text")),
        {"type": "string", "description": "The document's text."},
        produces=("text/plain",),
        alias="/v2/{AccountId}/documents/{DocumentId}/text",
    ),
    Operation(
        "DownloadDocumentVersion",
        "download",
        "GET",
        "/v2/{AccountId}/documents/{VersionId}",
        "Download a version",
        "Downloads one version of a document; take its ID from List document versions.",
        "advanced",
        (
            _ACCOUNT,
            _id("VersionId", "Version"),
            _accept("native", "the original file"),
        ),
        _BINARY,
        produces=("application/octet-stream",),
        alias="/v2/{AccountId}/versions/{VersionId}",
    ),
)


def _shape(path: str) -> str:
    """A path template with its parameter names blanked: /a/{X} and /a/{Y} are one path."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def swagger_paths(operations: Sequence[Operation]) -> dict[str, str]:
    """operation id → the path it has in one swagger holding `operations` (its own path, or
    its alias when an earlier operation of the same verb holds that path)."""
    taken: set[tuple[str, str]] = set()
    placed: dict[str, str] = {}
    for operation in operations:
        path = operation.path
        if (_shape(path), operation.method) in taken:
            if operation.alias is None:
                raise ValueError(f"{operation.operation_id} collides and has no alias")
            path = operation.alias
        key = (_shape(path), operation.method)
        if key in taken:
            raise ValueError(f"{operation.operation_id}: {operation.method} {path} is taken")
        taken.add(key)
        placed[operation.operation_id] = path
    return placed


def operations_for(connector: ConnectorName) -> tuple[Operation, ...]:
    """The operations served by one CLM host."""
    return tuple(operation for operation in OPERATIONS if operation.connector == connector)
