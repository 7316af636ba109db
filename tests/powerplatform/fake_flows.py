"""Connections and the Flow API written for the unit tests, served through httpx.MockTransport:
records every request, answers as the reference describes, and fails on cue."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from clmwizard.store.profile import PublishedConnector, PublishRecord

POWER_APPS = "https://api.powerapps.test"
FLOW = "https://api.flow.test"
ENV = "env-one"
CONNECTOR = "shared_docusign-20clm-5f0123"
TOKEN = "fake-token"
REDIRECT = "https://global.consent.azure-apim.net/redirect/docusign-20clm-5f0123"


@dataclass
class FakePlatform:
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    # What a run of the heartbeat answers: CLM's status and body.
    run_status: str = "Succeeded"
    run_outputs: dict[str, Any] = field(
        default_factory=lambda: {"statusCode": 200, "body": {"Items": [], "Total": 12}}
    )
    run_error: dict[str, Any] | None = None
    outputs_by_link: bool = False
    consent_refused: bool = False
    flow_refusal: tuple[int, str, str] | None = None  # status, code, message for POST /flows
    polls_until_connected: int | None = None  # connection turns Connected after N reads
    error_after_polls: tuple[int, str, str] | None = None  # (N, code, message)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def add_connection(self, status: str = "Error", code: str = "", message: str = "") -> str:
        name = uuid.uuid4().hex
        self.connections[name] = self._connection(name, status, code, message)
        return name

    def _connection(self, name: str, status: str, code: str = "", msg: str = "") -> dict[str, Any]:
        entry: dict[str, Any] = {"status": status, "target": "token"}
        if code:
            entry["error"] = {"code": code, "message": msg}
        return {
            "name": name,
            "properties": {
                "displayName": "DocuSign CLM",
                "apiId": f"/providers/Microsoft.PowerApps/apis/{CONNECTOR}",
                "statuses": [entry],
            },
        }

    def set_status(self, name: str, status: str, code: str = "", message: str = "") -> None:
        self.connections[name] = self._connection(name, status, code, message)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.startswith("/outputs/"):  # a signed link: no bearer token to it
            if "Authorization" in request.headers:
                return httpx.Response(400, json={"error": {"code": "TokenSentToLink"}})
            return httpx.Response(200, json=self.run_outputs)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}" and "blob" not in str(
            request.url
        ):
            return httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken"}})
        path = request.url.path
        parts = path.strip("/").split("/")
        if "/connections" in path:
            return self._connections(request, parts)
        if "/flows" in path:
            return self._flows(request, parts)
        return httpx.Response(404, json={"error": {"code": "NotFound", "message": path}})

    # connections: /providers/Microsoft.PowerApps/apis/{c}/connections[/{name}[/getConsentLink]]
    def _connections(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        assert request.url.params["$filter"] == f"environment eq '{ENV}'"
        name = parts[5] if len(parts) > 5 else None
        if name is None:
            return httpx.Response(200, json={"value": list(self.connections.values())})
        if len(parts) == 7 and parts[6] == "confirmConsentCode":
            if json.loads(request.content) != {"code": "good-code"}:
                return httpx.Response(
                    400, json={"error": {"code": "InvalidCode", "message": "invalid_grant"}}
                )
            self.set_status(name, "Connected")
            return httpx.Response(200)
        if len(parts) == 7 and parts[6] == "getConsentLink":
            if self.consent_refused:
                return httpx.Response(
                    400, json={"error": {"code": "NotSupported", "message": "no consent link"}}
                )
            body = json.loads(request.content)
            assert body["redirectUrl"]
            return httpx.Response(
                200, json={"consentLink": f"https://consent.test/login?connection={name}"}
            )
        if request.method == "PUT":
            body = json.loads(request.content)
            assert body["properties"]["environment"]["name"] == ENV
            self.connections[name] = self._connection(name, "Error")
            return httpx.Response(201, json=self.connections[name])
        if request.method == "GET":
            if name not in self.connections:
                return httpx.Response(404, json={"error": {"code": "ConnectionNotFound"}})
            if self.polls_until_connected is not None:
                self.polls_until_connected -= 1
                if self.polls_until_connected <= 0:
                    self.set_status(name, "Connected")
            if self.error_after_polls is not None:
                count, code, message = self.error_after_polls
                self.error_after_polls = (count - 1, code, message)
                if count - 1 <= 0:
                    self.set_status(name, "Error", code, message)
            return httpx.Response(200, json=self.connections[name])
        return httpx.Response(405)

    # flows: /providers/Microsoft.ProcessSimple/environments/{env}/flows[/{id}[/...]]
    def _flows(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        assert parts[3] == ENV
        rest = parts[5:]
        if not rest:
            if self.flow_refusal is not None:
                status, code, message = self.flow_refusal
                return httpx.Response(status, json={"error": {"code": code, "message": message}})
            flow_id = str(uuid.uuid4())
            self.flows[flow_id] = {"name": flow_id, **json.loads(request.content)}
            self.runs[flow_id] = []
            return httpx.Response(201, json=self.flows[flow_id])
        flow_id = rest[0]
        if flow_id not in self.flows:
            return httpx.Response(404, json={"error": {"code": "FlowNotFound"}})
        flow = self.flows[flow_id]
        if len(rest) == 1 and request.method == "GET":
            return httpx.Response(200, json=flow)
        if len(rest) == 1 and request.method == "PATCH":
            flow["properties"] = json.loads(request.content)["properties"]
            return httpx.Response(200, json=flow)
        if rest[1:] in (["start"], ["stop"]):
            flow["properties"]["state"] = "Started" if rest[1] == "start" else "Stopped"
            return httpx.Response(200)
        if rest[1:3] == ["triggers", "Recurrence"]:
            run_id = f"08585{len(self.runs[flow_id]):05d}"
            start = datetime.now(UTC) + timedelta(seconds=len(self.runs[flow_id]))
            self.runs[flow_id].append(
                {
                    "name": run_id,
                    "properties": {
                        "status": self.run_status,
                        "startTime": start.isoformat(),
                        "endTime": start.isoformat(),
                        **({"error": self.run_error} if self.run_error else {}),
                    },
                }
            )
            return httpx.Response(202, headers={"x-ms-workflow-run-id": run_id})
        if rest[1:] == ["runs"]:
            return httpx.Response(200, json={"value": list(reversed(self.runs[flow_id]))})
        if len(rest) == 3 and rest[1] == "runs":
            assert request.url.params["$expand"] == "properties/actions"
            run = next(r for r in self.runs[flow_id] if r["name"] == rest[2])
            action: dict[str, Any] = {"status": self.run_status}
            if self.outputs_by_link:
                action["outputsLink"] = {"uri": f"{FLOW}/outputs/{rest[2]}?sig=x"}
            else:
                action["outputs"] = self.run_outputs
            if self.run_error:
                action["error"] = self.run_error
            detail = json.loads(json.dumps(run))
            detail["properties"]["actions"] = {"List_attribute_groups": action}
            return httpx.Response(200, json=detail)
        return httpx.Response(404)

    def unauthenticated_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if "Authorization" not in r.headers]


def host_of(request: httpx.Request) -> str:
    return urlsplit(str(request.url)).netloc


def record(layout: Any = "single", **connector: Any) -> PublishRecord:
    """A publication of the fake platform's connector(s) in ENV, as publish records it."""
    keys = ["clm"] if layout == "single" else ["general", "upload", "download"]
    return PublishRecord(
        environment_id=ENV,
        layout=layout,
        power_apps_url=POWER_APPS,
        authority="https://login.fake.test/",
        tenant="common",
        client_id="04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        connectors=[
            PublishedConnector(
                key=key,
                connector_id=CONNECTOR if index == 0 else f"{CONNECTOR}{index}",
                display_name=f"DocuSign CLM {key}",
                secret_fingerprint="f" * 16,
                redirect_url=REDIRECT,
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                **connector,
            )
            for index, key in enumerate(keys)
        ],
    )
