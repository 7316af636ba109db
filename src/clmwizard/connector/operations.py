"""The CLM operation catalogue: every action the connector bundle offers, as data.

One source of truth for the swagger files, the Definition tab of `clmwizard fields` and the
wizard. Paths are relative to the CLM base URL of the operation's connector (general, upload or
download host); `{AccountId}` is filled with the profile's account GUID as a hidden default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clmwizard.store.profile import ConnectorName

Schema = Mapping[str, Any]
Visibility = Literal["important", "advanced", "internal"]
Location = Literal["path", "query", "body"]

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


@dataclass(frozen=True)
class Operation:
    operation_id: str
    connector: ConnectorName
    method: Literal["GET", "POST", "PATCH"]
    path: str
    summary: str
    description: str
    visibility: Visibility
    parameters: tuple[Parameter, ...]
    response: Schema | None  # None: the call answers without a body
    status: int = 200
    response_description: str = "OK"
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()

    @property
    def binary_response(self) -> bool:
        return self.response is not None and self.response.get("format") == "binary"


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
            )
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
            "Href": _HREF,
        }
    ),
    "Workflow": _object(
        {
            "Name": _text("Workflow name", "The name of the workflow definition."),
            "Status": _text("Workflow status", "Where the workflow is, e.g. Running or Completed."),
            "StartDate": _text("Started", "When the workflow started (UTC).", "date-time"),
            "EndDate": _text("Ended", "When the workflow ended (UTC).", "date-time"),
            "Params": _text("Parameters", "The XML parameters the workflow was started with."),
            "Href": _text("Workflow link", "The API address of the workflow instance.", "uri"),
        }
    ),
    "WorkflowDefinition": _object(
        {
            "Name": _text("Definition name", "The name of the workflow definition."),
            "Description": _text("Definition description", "What the workflow does."),
            "Href": _HREF,
        }
    ),
    "DocLauncherConfiguration": _object(
        {
            "Name": _text("Configuration name", "The name of the Doc Launcher configuration."),
            "Description": _text("Configuration description", "What the configuration makes."),
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
            "Data": _text("Data", "The XML data merged into the document."),
            "DocLauncherResultUrl": _text(
                "Result URL", "Where the person finishes the document in Doc Launcher.", "uri"
            ),
            "Href": _text(
                "Task link", "The API address of the task, to ask for its result.", "uri"
            ),
        }
    ),
}
DEFINITIONS["AttributeGroupList"] = _collection("AttributeGroup", "attribute groups")
DEFINITIONS["FolderList"] = _collection("Folder", "folders")
DEFINITIONS["DocumentList"] = _collection("Document", "documents")
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
        "The largest number of items to return.",
        type="integer",
        required=False,
        visibility="advanced",
    ),
)


def _body(summary: str, description: str, schema: Schema) -> Parameter:
    return Parameter("body", "body", summary, description, schema=schema)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "ListAttributeGroups",
        "general",
        "GET",
        "/v2/{AccountId}/attributegroups",
        "List attribute groups",
        "Lists the attribute groups of the CLM account. A cheap call, also used by the daily "
        "heartbeat flow.",
        "important",
        (_ACCOUNT, *_PAGE),
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
        (_ACCOUNT, _id("AttributeGroupId", "Attribute group")),
        _ref("AttributeGroup"),
    ),
    Operation(
        "GetFolder",
        "general",
        "GET",
        "/v2/{AccountId}/folders/{FolderId}",
        "Get a folder",
        "Gets a CLM folder by its ID.",
        "important",
        (_ACCOUNT, _FOLDER),
        _ref("Folder"),
    ),
    Operation(
        "GetFolderByPath",
        "general",
        "GET",
        "/v2/{AccountId}/folders",
        "Get a folder by path",
        "Gets a CLM folder by its full path, such as /Contracts/2024.",
        "important",
        (
            _ACCOUNT,
            Parameter("path", "query", "Folder path", "The full path of the folder."),
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
        (_ACCOUNT, _FOLDER, *_PAGE),
        _ref("FolderList"),
    ),
    Operation(
        "ListFolderDocuments",
        "general",
        "GET",
        "/v2/{AccountId}/folders/{FolderId}/documents",
        "List documents in a folder",
        "Lists the documents directly inside a folder.",
        "important",
        (_ACCOUNT, _FOLDER, *_PAGE),
        _ref("DocumentList"),
    ),
    Operation(
        "GetDocument",
        "general",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Get a document",
        "Gets a document's details and attribute values.",
        "important",
        (_ACCOUNT, _DOCUMENT),
        _ref("Document"),
    ),
    Operation(
        "UpdateDocumentAttributes",
        "general",
        "PATCH",
        "/v2/{AccountId}/documents/{DocumentId}",
        "Update document attributes",
        "Sets attribute values on a document; attributes not sent keep their values.",
        "important",
        (
            _ACCOUNT,
            _DOCUMENT,
            _body(
                "Attributes",
                "The attribute values to set, by attribute group.",
                _object(
                    {
                        "AttributeGroups": {
                            "type": "object",
                            "description": "Attribute groups, each with attribute names "
                            'and {"Value": ...} objects.',
                            "x-ms-summary": "Attribute groups",
                        }
                    },
                    required=("AttributeGroups",),
                ),
            ),
        ),
        _ref("Document"),
        consumes=("application/json",),
    ),
    Operation(
        "StartWorkflow",
        "general",
        "POST",
        "/v2/{AccountId}/workflows",
        "Start a workflow",
        "Starts a CLM workflow by name, with optional XML parameters.",
        "important",
        (
            _ACCOUNT,
            _body(
                "Workflow",
                "The workflow to start and its parameters.",
                _object(
                    {
                        "Name": _text("Workflow name", "The name of the workflow definition."),
                        "Params": _text(
                            "Parameters", "XML parameters for the workflow, e.g. <Params/>."
                        ),
                    },
                    required=("Name",),
                ),
            ),
        ),
        _ref("Workflow"),
        status=202,
        response_description="Accepted: the workflow is starting",
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
        (_ACCOUNT, _id("WorkflowId", "Workflow")),
        _ref("Workflow"),
    ),
    Operation(
        "SignalWorkflow",
        "general",
        "POST",
        "/v2/{AccountId}/workflows/{WorkflowId}/signal",
        "Signal a waiting workflow",
        'Sends data to a workflow instance that is waiting at a "Wait for Signal" step.',
        "advanced",
        (
            _ACCOUNT,
            _id("WorkflowId", "Workflow"),
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
        status=202,
        response_description="Accepted: the workflow goes on",
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
        "StartDocLauncherTask",
        "general",
        "POST",
        "/v2/{AccountId}/doclaunchertasks",
        "Start a Doc Launcher task",
        "Starts making a document with a Doc Launcher configuration and XML data; ask for the "
        "result with Get a Doc Launcher task.",
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
                        "Data": _text("Data", "The XML data to merge into the document."),
                    },
                    required=("DocLauncherConfiguration",),
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
        "Gets the status of a Doc Launcher task and, once done, its result URL.",
        "advanced",
        (_ACCOUNT, _id("TaskId", "Task")),
        _ref("DocLauncherTask"),
    ),
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
            Parameter("name", "query", "File name", "The document's name, with its extension."),
            _body(
                "File content",
                "The bytes of the file.",
                {"type": "string", "format": "binary"},
            ),
        ),
        _ref("Document"),
        status=201,
        response_description="Created",
        consumes=("application/octet-stream",),
    ),
    Operation(
        "DownloadDocumentContent",
        "download",
        "GET",
        "/v2/{AccountId}/documents/{DocumentId}/content",
        "Download document content",
        "Downloads the file content of a document.",
        "important",
        (_ACCOUNT, _DOCUMENT),
        {"type": "string", "format": "binary", "description": "The file content."},
        produces=("application/octet-stream",),
    ),
)


def operations_for(connector: ConnectorName) -> tuple[Operation, ...]:
    """The operations served by one CLM host."""
    return tuple(operation for operation in OPERATIONS if operation.connector == connector)
