"""Runs a cloud flow the way the platform does, and lets the emulator clock drive its
Recurrence trigger.

An `OpenApiConnection` action: the connection named by the flow's connectionReferences (its
owner's own), its DocuSign grant refreshed at the connector's refresh URL with the connector's
client secret when its access token ran out (switch `refresh_when`, U), then the operation the
connector's swagger declares for `operationId`, sent to the connector's backend
(`backendService.serviceUrl`) unless a `dynamichosturl` policy names another base URL for it,
with the path and method a `routerequesttoendpoint` policy gives. Missing parameters take the
swagger's `default` (switch `apply_parameter_defaults`, U). The run records each action's status,
code, outputs (`{"statusCode", "headers", "body"}`) or error.

The clock: `advance(seconds)` moves the emulator clock in steps, firing every Recurrence due on
the way at its own time (so DocuSign sees each refresh when it happens). Real time passing fires
nothing. A Recurrence without a startTime counts its interval from the moment the flow was
turned on (saved Started, started, or its definition changed while on).
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from clmwizard.emulator.powerplatform import connections, grants
from clmwizard.emulator.powerplatform.outbound import OutboundError, call
from clmwizard.emulator.powerplatform.records import ActionResult, Flow, Platform, Run

FREQUENCIES = {
    "Second": 1,
    "Minute": 60,
    "Hour": 3600,
    "Day": 86400,
    "Week": 7 * 86400,
    "Month": 30 * 86400,  # our simplification: a month is 30 days
}
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
RUN_FAILED = {
    "code": "ActionFailed",
    "message": "An action failed. No dependent actions succeeded.",
}
_KEPT_HEADERS = ("content-type", "x-ratelimit-limit", "x-ratelimit-reset", "location")


# -- the schedule -----------------------------------------------------------------------------


def recurrence_seconds(trigger: dict[str, Any]) -> int:
    recurrence = trigger.get("recurrence")
    if not isinstance(recurrence, dict):
        raise ValueError("A Recurrence trigger needs a recurrence object.")
    frequency = recurrence.get("frequency")
    interval = recurrence.get("interval", 1)
    if frequency not in FREQUENCIES:
        raise ValueError(f"recurrence.frequency must be one of {', '.join(FREQUENCIES)}.")
    if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= 1000:
        raise ValueError("recurrence.interval must be a whole number from 1 to 1000.")
    return FREQUENCIES[frequency] * interval


def _start_time(trigger: dict[str, Any]) -> float | None:
    raw = trigger.get("recurrence", {}).get("startTime")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # no offset: the recurrence's time zone, UTC when none is given
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _recurrence(flow: Flow) -> tuple[str, dict[str, Any]] | None:
    triggers = flow.properties.get("definition", {}).get("triggers", {})
    for name, trigger in triggers.items():
        if isinstance(trigger, dict) and trigger.get("type") == "Recurrence":
            return name, trigger
    return None


def turned_on(platform: Platform, flow: Flow) -> None:
    """Anchor the Recurrence at now (or its startTime); T/U switch: fire at once."""
    with platform.state.lock:
        found = _recurrence(flow)
        if found is None:
            flow.next_due = None
            return
        name, trigger = found
        every = recurrence_seconds(trigger)
        now = platform.now()
        start = _start_time(trigger)
        if start is not None and start > now:
            flow.next_due = start
        elif start is not None:
            flow.next_due = start + ((now - start) // every + 1) * every
        else:
            flow.next_due = now + every
        fire = platform.records.switches.recurrence_fires_on_start
    if fire:
        start_run(platform, flow, name, background=True)


def advance(platform: Platform, seconds: float) -> int:
    if seconds < 0:
        raise ValueError("the emulator clock only moves forward")
    clock = platform.state.clock
    end = clock.now() + seconds
    fired = 0
    while True:
        with platform.state.lock:
            limit = platform.records.switches.max_runs_per_jump
            due = [
                (f.next_due, f)
                for f in platform.records.flows.values()
                if f.state == "Started" and f.next_due is not None and f.next_due <= end
            ]
        if not due:
            break
        when, flow = min(due, key=lambda pair: pair[0] or 0.0)
        assert when is not None
        clock.advance(max(0.0, when - clock.now()))
        found = _recurrence(flow)
        with platform.state.lock:
            licensed = platform.records.switches.premium_licence
            fires = found is not None and licensed and fired < limit
            if found is None:
                flow.next_due = None
            else:
                every = recurrence_seconds(found[1])
                # skipped occurrences (an unlicensed owner's flow is suspended, U; or past the
                # jump's limit) are passed over at once, not one by one
                skip = 1 if fires else int((end - when) // every) + 1
                flow.next_due = when + skip * every
        if fires and found is not None:
            start_run(platform, flow, found[0], background=False)
            fired += 1
    clock.advance(max(0.0, end - clock.now()))
    return fired


# -- a run ------------------------------------------------------------------------------------


def _run_name() -> str:
    # Logic Apps' run names: 29 digits then "CU" and two digits (our imitation)
    return (
        "08584"
        + "".join(secrets.choice("0123456789") for _ in range(24))
        + "CU"
        + (f"{secrets.randbelow(100):02d}")
    )


def start_run(platform: Platform, flow: Flow, trigger: str, *, background: bool) -> Run:
    run = Run(name=_run_name(), trigger=trigger, start=platform.now())
    with platform.state.lock:
        flow.runs.append(run)
        definition = copy.deepcopy(flow.properties.get("definition", {}))
        references = copy.deepcopy(flow.properties.get("connectionReferences", {}))
        delay = platform.records.switches.run_delay

    def execute() -> None:
        if background and delay:
            time.sleep(delay)
        results = _execute(platform, flow, definition, references)
        with platform.state.lock:
            run.actions = results
            run.status = "Succeeded" if all(r.status != "Failed" for r in results) else "Failed"
            run.error = None if run.status == "Succeeded" else dict(RUN_FAILED)
            run.end = platform.now()

    if background:
        threading.Thread(target=execute, name=f"flow-run-{run.name}", daemon=True).start()
    else:
        execute()
    return run


def _ordered(actions: dict[str, Any]) -> list[str]:
    """Action names in runAfter order (a name whose predecessors are all placed comes next)."""
    placed: list[str] = []
    pending = [n for n, a in actions.items() if isinstance(a, dict)]
    while pending:
        ready = [n for n in pending if all(p in placed for p in (actions[n].get("runAfter") or {}))]
        if not ready:  # a cycle or a missing predecessor: keep the written order
            ready = pending[:1]
        placed.append(ready[0])
        pending.remove(ready[0])
    return placed


def _execute(
    platform: Platform, flow: Flow, definition: dict[str, Any], references: dict[str, Any]
) -> list[ActionResult]:
    actions = definition.get("actions", {})
    results: dict[str, ActionResult] = {}
    for name in _ordered(actions):
        action = actions[name]
        after = action.get("runAfter") or {}
        blocked = any(
            p in results and results[p].status not in (after.get(p) or ["Succeeded"]) for p in after
        )
        now = platform.now()
        if blocked:
            results[name] = ActionResult(name, now, now, "Skipped", "ActionSkipped")
            continue
        results[name] = _action(platform, flow, name, action, references)
    return list(results.values())


def _failed(
    platform: Platform, name: str, start: float, code: str, message: str, status: int = 0
) -> ActionResult:
    outputs = (
        {"statusCode": status, "headers": {}, "body": {"status": status, "message": message}}
        if status
        else None
    )
    return ActionResult(
        name,
        start,
        platform.now(),
        "Failed",
        code,
        outputs=outputs,
        error={"code": code, "message": message[:1000]},
        outputs_sig=secrets.token_urlsafe(24) if outputs else "",
    )


def find_operation(
    record: dict[str, Any], operation_id: str
) -> tuple[str, str, dict[str, Any], list[Any]] | None:
    """(path, method, operation, path-level parameters) for `operationId` in the swagger."""
    swagger = record.get("properties", {}).get("openApiDefinition", {})
    paths = swagger.get("paths", {}) if isinstance(swagger, dict) else {}
    for path, item in paths.items() if isinstance(paths, dict) else ():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                shared = item.get("parameters")
                return path, method.upper(), operation, shared if isinstance(shared, list) else []
    return None


def _policy_applies(instance: dict[str, Any], operation_id: str) -> bool:
    names = instance.get("parameters", {}).get("x-ms-apimTemplate-operationName")
    return not names or operation_id in names  # no list: every operation


def route(
    record: dict[str, Any], operation_id: str, path: str, method: str
) -> tuple[str, str, str]:
    """(base URL, path template, method) after the connector's dynamichosturl and
    routerequesttoendpoint policies."""
    properties = record.get("properties", {})
    swagger = properties.get("openApiDefinition", {})
    base = str(properties.get("backendService", {}).get("serviceUrl") or "")
    if not base:
        scheme = (swagger.get("schemes") or ["https"])[0]
        base = f"{scheme}://{swagger.get('host', '')}{swagger.get('basePath', '/')}"
    for instance in properties.get("policyTemplateInstances") or []:
        if not isinstance(instance, dict) or not _policy_applies(instance, operation_id):
            continue
        parameters = instance.get("parameters", {})
        if instance.get("templateId") == "dynamichosturl":
            # T: the url template replaces the whole backend base URL (scheme, host, base path)
            base = str(parameters.get("x-ms-apimTemplateParameter.urlTemplate") or base)
        elif instance.get("templateId") == "routerequesttoendpoint":
            path = str(parameters.get("x-ms-apimTemplateParameter.newPath") or path)
            method = str(parameters.get("x-ms-apimTemplateParameter.httpMethod") or method).upper()
    return base, path, method


def _action(
    platform: Platform, flow: Flow, name: str, action: dict[str, Any], references: dict[str, Any]
) -> ActionResult:
    start = platform.now()
    if action.get("type") != "OpenApiConnection":
        return _failed(
            platform,
            name,
            start,
            "ActionTypeNotSupported",
            "The emulator runs OpenApiConnection actions only.",
        )
    inputs = action.get("inputs", {})
    host = inputs.get("host", {})
    reference = references.get(host.get("connectionName"), {})
    connector_id = str(reference.get("id", "")).rsplit("/", 1)[-1]
    key = (flow.environment, connector_id, str(reference.get("connectionName", "")))
    with platform.state.lock:
        connection = platform.records.connections.get(key)
        record = copy.deepcopy(platform.connector(flow.environment, connector_id))
        refresh_always = platform.records.switches.refresh_when == "always"
        use_defaults = platform.records.switches.apply_parameter_defaults
    if connection is None or connection.owner != flow.owner or record is None:
        return _failed(
            platform,
            name,
            start,
            "ConnectionAuthorizationFailed",
            f"The flow's owner cannot use connection '{key[2][:128]}' under Api '{connector_id}'.",
            403,
        )
    found = find_operation(record, str(host.get("operationId", "")))
    if found is None:
        return _failed(
            platform,
            name,
            start,
            "OperationNotFound",
            f"The connector has no operation '{str(host.get('operationId'))[:100]}'.",
        )
    try:
        grant = connections.fresh_grant(platform, key, force=refresh_always)
    except grants.GrantError as failure:
        return _failed(platform, name, start, "Unauthorized", failure.message, 401)
    path, method, operation, shared = found
    base, path, method = route(record, operation["operationId"], path, method)
    given = inputs.get("parameters") or {}
    query: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {grant.access_token}", "Accept": "application/json"}
    body: bytes | None = None
    for parameter in [*shared, *(operation.get("parameters") or [])]:
        if not isinstance(parameter, dict) or "name" not in parameter:
            continue
        pname, where = parameter["name"], parameter.get("in")
        value = given.get(pname)
        if value is None and use_defaults:
            value = parameter.get("default")
        if value is None:
            if parameter.get("required"):
                return _failed(
                    platform,
                    name,
                    start,
                    "InvalidTemplate",
                    f"The required parameter '{pname}' of the operation has no value.",
                )
            continue
        if where == "path":
            encoded = quote(str(value), safe="")
            if parameter.get("x-ms-url-encoding") == "double":
                encoded = quote(encoded, safe="")
            path = path.replace("{" + pname + "}", encoded)
        elif where == "query":
            query[pname] = str(value).lower() if isinstance(value, bool) else str(value)
        elif where == "header":
            headers[pname] = str(value)
        elif where == "body":
            body = json.dumps(value).encode()
            headers["Content-Type"] = "application/json"
    url = base.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
    try:
        answer = call(method, url, headers=headers, body=body, ca_pem=platform.ca_pem)
    except OutboundError as error:
        return _failed(platform, name, start, "BadGateway", f"The connector's host: {error}", 502)
    payload = answer.json()
    outputs = {
        "statusCode": answer.status,
        "headers": {k: v for k, v in answer.headers.items() if k in _KEPT_HEADERS},
        "body": payload if payload is not None else answer.text(4096),
    }
    ok = 200 <= answer.status < 300
    code = "OK" if ok else _REASONS.get(answer.status, str(answer.status))
    return ActionResult(
        name,
        start,
        platform.now(),
        "Succeeded" if ok else "Failed",
        code,
        outputs=outputs,
        error=None
        if ok
        else {
            "code": code,
            "message": f"The connector's host answered {answer.status}: {answer.text(500)}",
        },
        outputs_sig=secrets.token_urlsafe(24),
    )
