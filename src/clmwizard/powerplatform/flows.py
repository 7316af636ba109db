"""Cloud flows through the Flow API (see the README, "Heartbeat"): the heartbeat flow's
definition, create or update, start and stop, run now, its runs and one run's actions.

Microsoft calls this API unsupported for third parties but its PowerShell module and
cli-microsoft365 use it (C); the create, update, run-now and run-details calls are T. What the
API answers without a Premium licence is U: any refusal that names a licence is read as one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from clmwizard.errors import ClmWizardError, NetworkError
from clmwizard.powerplatform.api import MAX_ITEMS, PowerAppsApi, _malformed, _service_message
from clmwizard.powerplatform.settings import API_VERSION

if TYPE_CHECKING:
    import httpx

TRIGGER = "Recurrence"
ACTION = "List_attribute_groups"
OPERATION = "ListAttributeGroups"
CONNECTION_KEY = "shared_clm"
_FLOW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")
MAX_OUTPUT = 2_000_000
Frequency = Literal["Minute", "Hour", "Day", "Week"]
_UNITS: dict[str, Frequency] = {"m": "Minute", "h": "Hour", "d": "Day", "w": "Week"}


@dataclass(frozen=True)
class Schedule:
    frequency: Frequency
    interval: int

    @property
    def words(self) -> str:
        unit = self.frequency.lower()
        return f"every {unit}" if self.interval == 1 else f"every {self.interval} {unit}s"

    @property
    def text(self) -> str:
        return f"{self.interval}{self.frequency[0].lower()}"


def parse_every(value: str) -> Schedule:
    """`--every`: 1d, 12h, 30m, 1w (a Recurrence trigger's frequency and interval)."""
    from clmwizard.errors import UsageError

    match = re.fullmatch(r"\s*(\d{1,4})\s*([mhdw])\s*", value.lower())
    interval = int(match.group(1)) if match else 0
    if match is None or interval < 1:
        raise UsageError(
            f"{value[:40]!r} is not a schedule.",
            fix="Give --every as a number and a unit: 1d (daily, the default), 12h, 1w. A "
            "DocuSign grant dies after 30 days unused, so anything up to 1w keeps it alive.",
            field="every",
        )
    schedule = Schedule(_UNITS[match.group(2)], interval)
    if schedule.frequency == "Minute" and interval < 15:
        raise UsageError(
            "A heartbeat more often than every 15 minutes only spends your flow runs.",
            fix="Give --every 1d (the default) or at least 15m.",
            field="every",
        )
    return schedule


DAILY = Schedule("Day", 1)


def heartbeat_definition(
    connector_id: str, account_id: str, schedule: Schedule = DAILY
) -> dict[str, Any]:
    """A Recurrence trigger and one cheap read through the connection (C: the workflow
    definition language; the connection through `$connections`)."""
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/"
        "2016-06-01/workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "$connections": {"defaultValue": {}, "type": "Object"},
            "$authentication": {"defaultValue": {}, "type": "SecureObject"},
        },
        "triggers": {
            TRIGGER: {
                "type": "Recurrence",
                "recurrence": {"frequency": schedule.frequency, "interval": schedule.interval},
            }
        },
        "actions": {
            ACTION: {
                "type": "OpenApiConnection",
                "runAfter": {},
                "inputs": {
                    "host": {
                        "apiId": f"/providers/Microsoft.PowerApps/apis/{connector_id}",
                        "connectionName": CONNECTION_KEY,
                        "operationId": OPERATION,
                    },
                    "parameters": {"AccountId": account_id},
                    "authentication": "@parameters('$authentication')",
                },
            }
        },
        "outputs": {},
    }


def flow_body(
    display_name: str,
    connector_id: str,
    connection_name: str,
    account_id: str,
    schedule: Schedule,
    *,
    started: bool = True,
) -> dict[str, Any]:
    return {
        "properties": {
            "displayName": display_name,
            "state": "Started" if started else "Stopped",
            "definition": heartbeat_definition(connector_id, account_id, schedule),
            "connectionReferences": {
                CONNECTION_KEY: {
                    "connectionName": connection_name,
                    "source": "Invoker",
                    "id": f"/providers/Microsoft.PowerApps/apis/{connector_id}",
                }
            },
        }
    }


@dataclass(frozen=True)
class RemoteFlow:
    flow_id: str
    display_name: str
    state: str  # "Started" / "Stopped" / "Suspended"
    schedule: Schedule | None


@dataclass(frozen=True)
class FlowRun:
    run_id: str
    status: str  # "Succeeded" / "Failed" / "Running" / "Cancelled" / …
    start: datetime | None
    end: datetime | None
    error_code: str = ""
    error_message: str = ""

    @property
    def finished(self) -> bool:
        return self.status not in ("Running", "Waiting", "Queued", "")


@dataclass(frozen=True)
class ActionResult:
    name: str
    status: str
    status_code: int | None  # the HTTP status CLM answered, when known
    error_code: str
    error_message: str
    body: Any  # the parsed output body (bounded), or None


def validate_flow_id(value: object) -> str:
    if not isinstance(value, str) or not _FLOW_NAME.fullmatch(value):
        raise _malformed("a flow or run name that is not one")
    return value


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _words(value: object, limit: int = 400) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _error_of(data: object) -> tuple[str, str]:
    if not isinstance(data, dict):
        return "", ""
    return _words(data.get("code"), 100), _words(data.get("message"))


def schedule_of(definition: object) -> Schedule | None:
    try:
        recurrence = definition["triggers"][TRIGGER]["recurrence"]  # type: ignore[index]
        frequency, interval = recurrence["frequency"], recurrence["interval"]
    except (KeyError, TypeError):
        return None
    if frequency in ("Minute", "Hour", "Day", "Week") and isinstance(interval, int):
        return Schedule(frequency, interval)
    return None


def flow_from(data: Any) -> RemoteFlow:
    if not isinstance(data, dict):
        raise _malformed("a flow that is not a JSON object")
    properties = data.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    return RemoteFlow(
        flow_id=validate_flow_id(data.get("name")),
        display_name=_words(properties.get("displayName"), 200),
        state=_words(properties.get("state"), 40) or "Unknown",
        schedule=schedule_of(properties.get("definition")),
    )


def run_from(data: Any) -> FlowRun:
    if not isinstance(data, dict):
        raise _malformed("a flow run that is not a JSON object")
    properties = data.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    code, message = _error_of(properties.get("error"))
    return FlowRun(
        run_id=validate_flow_id(data.get("name")),
        status=_words(properties.get("status"), 40) or "Unknown",
        start=_time(properties.get("startTime")),
        end=_time(properties.get("endTime")),
        error_code=code,
        error_message=message,
    )


class FlowApi(PowerAppsApi):
    """The Flow API, with a token for https://service.flow.microsoft.com/."""

    def __repr__(self) -> str:
        return f"FlowApi({self.flow_url!r})"

    def _flows(self, environment: str, suffix: str = "") -> str:
        env = quote(environment, safe="")
        return f"{self.flow_url}/providers/Microsoft.ProcessSimple/environments/{env}/flows{suffix}"

    async def _on_flow(
        self,
        method: str,
        environment: str,
        flow_id: str,
        suffix: str = "",
        *,
        doing: str,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        retry_server_errors: bool = True,
    ) -> httpx.Response:
        """A call on flow `flow_id` (or `suffix` below it) that names the environment when
        refused."""
        return await self._request(
            method,
            self._flows(environment, f"/{quote(validate_flow_id(flow_id), safe='')}{suffix}"),
            doing=doing,
            environment=environment,
            json_body=json_body,
            params={"api-version": API_VERSION, **(params or {})},
            retry_server_errors=retry_server_errors,
        )

    def _error(
        self, response: httpx.Response, doing: str, environment: str | None
    ) -> ClmWizardError:
        said = _service_message(response)
        lowered = said.lower()
        cause = f"The service said: {said}" if said else f"HTTP {response.status_code}."
        if "licen" in lowered or "premium" in lowered:
            return ClmWizardError(
                f"Power Automate refused to {doing}: the flow needs a Premium licence.",
                cause=f"{cause} A flow that uses a custom connector is a premium feature (a "
                "Power Automate Premium or per-flow licence).",
                fix="Ask your Microsoft 365 administrator for a Power Automate Premium licence "
                "(a trial works to test), then run the command again.",
                code="premium_licence_missing",
            )
        if response.status_code == 403:
            if "connectionauthorization" in lowered:
                return ClmWizardError(
                    f"Power Automate refused to {doing}: you may not use the connection.",
                    cause=cause,
                    fix="Run `clmwizard connect` with the same Microsoft account that runs the "
                    "heartbeat: a flow may use only connections its owner can use.",
                    code="connection_not_yours",
                )
            where = f" in environment {environment}" if environment else ""
            return ClmWizardError(
                f"The Flow API refused to {doing}{where} (HTTP 403).",
                cause=f"{cause} The Microsoft account may lack the Environment Maker role "
                "there, or an administrator blocks flows (a data loss prevention policy).",
                fix="Ask a Power Platform administrator for the Environment Maker role in that "
                "environment and whether a DLP policy blocks custom connectors; or create the "
                "heartbeat flow in the portal (the README, “Heartbeat by hand”).",
                code="flow_forbidden",
            )
        error = super()._error(response, doing, environment)
        error.what = error.what.replace("Power Apps API", "Flow API")
        return error

    async def create_flow(self, environment: str, body: dict[str, Any]) -> RemoteFlow:
        response = await self._request(
            "POST",
            self._flows(environment),
            doing="create the heartbeat flow",
            environment=environment,
            json_body=body,
            params={"api-version": API_VERSION},
            retry_server_errors=False,  # a 5xx may have created it: a retry could duplicate
        )
        return flow_from(self._json(response))

    async def update_flow(self, environment: str, flow_id: str, body: dict[str, Any]) -> None:
        await self._on_flow(
            "PATCH", environment, flow_id, doing="update the heartbeat flow", json_body=body
        )

    async def get_flow(self, environment: str, flow_id: str) -> RemoteFlow | None:
        response = await self._found(
            self._flows(environment, f"/{quote(validate_flow_id(flow_id), safe='')}"),
            doing="read the heartbeat flow",
            params={"api-version": API_VERSION},
        )
        return None if response is None else flow_from(self._json(response))

    async def set_state(self, environment: str, flow_id: str, *, on: bool) -> None:
        verb = "start" if on else "stop"
        doing = f"turn the heartbeat flow {'on' if on else 'off'}"
        await self._on_flow("POST", environment, flow_id, f"/{verb}", doing=doing)

    async def run_now(self, environment: str, flow_id: str) -> str | None:
        """Trigger a run; the run's name when the answer says it (else None)."""
        response = await self._on_flow(
            "POST",
            environment,
            flow_id,
            f"/triggers/{TRIGGER}/run",
            doing="run the heartbeat flow now",
            retry_server_errors=False,  # a retry could run it twice
        )
        header = str(response.headers.get("x-ms-workflow-run-id", ""))  # T: Logic Apps
        if _FLOW_NAME.fullmatch(header):
            return header
        if not response.content.strip():
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        name = data.get("name") if isinstance(data, dict) else None
        return name if isinstance(name, str) and _FLOW_NAME.fullmatch(name) else None

    async def runs(self, environment: str, flow_id: str, *, limit: int = 10) -> list[FlowRun]:
        """The newest runs first (sorted here: the order the service answers in is U)."""
        response = await self._on_flow(
            "GET", environment, flow_id, "/runs", doing="read the heartbeat flow's runs"
        )
        data = self._json(response)
        values = data.get("value") if isinstance(data, dict) else None
        if not isinstance(values, list):
            raise _malformed("a run list without `value`")
        found = []
        for item in values[:MAX_ITEMS]:
            try:
                found.append(run_from(item))
            except ClmWizardError:
                continue
        epoch = datetime.min.replace(tzinfo=UTC)
        found.sort(key=lambda run: run.start or epoch, reverse=True)
        return found[:limit]

    async def run_actions(self, environment: str, flow_id: str, run_id: str) -> list[ActionResult]:
        response = await self._on_flow(
            "GET",
            environment,
            flow_id,
            f"/runs/{quote(validate_flow_id(run_id), safe='')}",
            doing="read the heartbeat run's result",
            params={"$expand": "properties/actions"},
        )
        data = self._json(response)
        properties = data.get("properties") if isinstance(data, dict) else None
        actions = properties.get("actions") if isinstance(properties, dict) else None
        if isinstance(actions, list):  # some answers list them; the run API keys them by name
            actions = {a.get("name"): a for a in actions if isinstance(a, dict) and a.get("name")}
        if not isinstance(actions, dict):
            return []
        results = []
        for name, entry in list(actions.items())[:50]:
            if isinstance(entry, dict):
                results.append(await self._action(str(name)[:100], entry))
        return results

    async def _action(self, name: str, entry: dict[str, Any]) -> ActionResult:
        inner = entry.get("properties")
        action = inner if isinstance(inner, dict) else entry
        code, message = _error_of(action.get("error"))
        outputs = action.get("outputs")
        link = action.get("outputsLink")
        if not isinstance(outputs, dict) and isinstance(link, dict):
            outputs = await self._fetch_outputs(link.get("uri"))
        status_code = None
        body: Any = None
        if isinstance(outputs, dict):
            raw = outputs.get("statusCode")
            if isinstance(raw, int) and not isinstance(raw, bool):
                status_code = raw
            elif isinstance(raw, str) and raw.isdigit():
                status_code = int(raw)
            body = outputs.get("body")
        if not code and isinstance(body, dict):
            code, message = _error_of(body.get("error")) if "error" in body else ("", "")
            if not message:
                message = _words(body.get("Message") or body.get("message"))
        return ActionResult(
            name=name,
            status=_words(action.get("status"), 40) or "Unknown",
            status_code=status_code,
            error_code=code,
            error_message=message,
            body=body,
        )

    async def _fetch_outputs(self, uri: object) -> dict[str, Any] | None:
        """An action's outputs behind a signed link (the SAS is the authorisation: no token)."""
        if not isinstance(uri, str) or len(uri) > 4000:
            return None
        if urlsplit(uri).scheme != "https":
            return None
        try:
            response = await self._request(
                "GET", uri, doing="read the heartbeat run's output", auth=False
            )
        except (ClmWizardError, NetworkError):
            return None
        if len(response.content) > MAX_OUTPUT:
            return None
        try:
            data = json.loads(response.content)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
