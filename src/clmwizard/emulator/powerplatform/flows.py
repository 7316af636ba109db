"""The Flow API's cloud flows (reference power-platform.md, "Connections and flows"), under
`{flow}/providers/Microsoft.ProcessSimple/environments/{ENV}`, `api-version=2016-11-01`, with a
token for `https://service.flow.microsoft.com/` only (a Power Apps token gets 401
InvalidAuthenticationTokenAudience; the environments list keeps taking both, as paconn needs):

    GET    .../flows                                    the caller's flows
    POST   .../flows                                    201 (U) {"name": GUID, ...}
    GET    .../flows/{flow}
    PATCH  .../flows/{flow}                             200, the flow
    DELETE .../flows/{flow}                             200
    POST   .../flows/{flow}/start | /stop               200, empty (U)
    POST   .../flows/{flow}/triggers/{trigger}/run      202, empty, header x-ms-workflow-run-id
                                                        (T: what Logic Apps sends); 409
                                                        FlowNotStarted on a stopped flow (U)
    GET    .../flows/{flow}/runs                        newest first, paged (nextLink,
                                                        $skiptoken; switch runs_page_size, U)
    GET    .../flows/{flow}/runs/{run}[?$expand=properties/actions]
    GET    .../runs/{run}/actions/{action}/contents/ActionOutputs?sig=..   (the outputsLink:
                                                        signed, no bearer; switch action_outputs)

A flow that references a connection its caller does not own: 403 ConnectionAuthorizationFailed
(T). With the switch `premium_licence` off, saving a Started flow, starting or running it answers
NO_PREMIUM_LICENCE_* (U: nobody has published that answer).
"""

from __future__ import annotations

import copy
import hmac
import json
import re
import time
import uuid
from typing import Any

from clmwizard.emulator.http_types import Request, Response, json_response
from clmwizard.emulator.powerplatform import powerapps, runner
from clmwizard.emulator.powerplatform.powerapps import (
    ApiError,
    _api_version,
    _environment,
    _json_body,
    _principal,
    error_response,
)
from clmwizard.emulator.powerplatform.records import Flow, Platform, Run
from clmwizard.emulator.powerplatform.state import API_VERSION, FLOW_RESOURCE

ENVIRONMENTS = "/providers/Microsoft.ProcessSimple/environments"
_FLOW_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# U: the answer to a user without a Power Automate Premium licence (status, code, wording).
NO_PREMIUM_LICENCE_STATUS = 403
NO_PREMIUM_LICENCE_CODE = "MissingPremiumLicense"
NO_PREMIUM_LICENCE_MESSAGE = (
    "This flow uses a premium connector (a custom connector). Its owner needs a Power Automate "
    "Premium (or Process) licence to save, turn on or run it."
)
_MAX_TOP = 250


def handle(platform: Platform, request: Request) -> Response:
    parts = request.path.strip("/").split("/")
    prefix = ENVIRONMENTS.strip("/").split("/")
    if (
        parts[: len(prefix)] != prefix
        or len(parts) < len(prefix) + 2
        or parts[len(prefix) + 1] != "flows"
    ):
        # the environment lists (Flow's and BAP's) and anything else: the connector module's
        return powerapps.handle_flow(platform.state, request)
    try:
        _api_version(request)
        env_name, rest = parts[len(prefix)], parts[len(prefix) + 1 :]
        if (
            len(rest) == 8
            and request.method == "GET"
            and (rest[2], rest[4], rest[6], rest[7])
            == ("runs", "actions", "contents", "ActionOutputs")
        ):
            return _outputs(platform, request, env_name, rest[1], rest[3], rest[5])
        oid = _principal(platform.state, request, (FLOW_RESOURCE,))
        with platform.state.lock:
            _environment(platform.state, env_name, oid, write=request.method != "GET")
        match (request.method, rest[1:]):
            case ("GET", []):
                return _list(platform, env_name, oid)
            case ("POST", []):
                return _create(platform, request, env_name, oid)
            case ("GET", [name]):
                return json_response(200, view(platform, _own(platform, env_name, oid, name)))
            case ("PATCH", [name]):
                return _update(platform, request, _own(platform, env_name, oid, name), oid)
            case ("DELETE", [name]):
                flow = _own(platform, env_name, oid, name)
                with platform.state.lock:
                    platform.records.flows.pop((flow.environment, flow.name), None)
                return Response(200, b"")
            case ("POST", [name, "start"]):
                return _switch(platform, _own(platform, env_name, oid, name), oid, on=True)
            case ("POST", [name, "stop"]):
                return _switch(platform, _own(platform, env_name, oid, name), oid, on=False)
            case ("POST", [name, "triggers", trigger, "run"]):
                return _run_now(platform, _own(platform, env_name, oid, name), oid, trigger)
            case ("GET", [name, "runs"]):
                return _runs(platform, request, _own(platform, env_name, oid, name))
            case ("GET", [name, "runs", run_name]):
                flow = _own(platform, env_name, oid, name)
                expand = (request.param("$expand") or "").replace(" ", "").split(",")
                return json_response(
                    200,
                    run_view(
                        platform,
                        flow,
                        _run(platform, flow, run_name),
                        "properties/actions" in expand,
                    ),
                )
        raise ApiError(404, "NotFound", "No such resource.")
    except ApiError as failure:
        return error_response(failure.status, failure.code, failure.message)


# -- flows ------------------------------------------------------------------------------------


def _stamp(when: float) -> str:
    fraction = int((when % 1) * 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{fraction:07d}Z"


def _flow_id(flow: Flow) -> str:
    return f"{ENVIRONMENTS}/{flow.environment}/flows/{flow.name}"


def view(platform: Platform, flow: Flow) -> dict[str, Any]:
    with platform.state.lock:
        properties = copy.deepcopy(flow.properties)
        definition = properties.get("definition", {})
        triggers = definition.get("triggers", {}) if isinstance(definition, dict) else {}
        actions = definition.get("actions", {}) if isinstance(definition, dict) else {}
        properties.update(
            {
                "createdTime": _stamp(flow.created),
                "lastModifiedTime": _stamp(flow.changed),
                "creator": {
                    "tenantId": platform.state.tenant,
                    "objectId": flow.owner,
                    "userId": flow.owner,
                    "userType": "ActiveDirectory",
                },
                "environment": {
                    "name": flow.environment,
                    "id": f"{ENVIRONMENTS}/{flow.environment}",
                },
                "definitionSummary": {
                    "triggers": [
                        {"type": t.get("type"), "name": n}
                        for n, t in triggers.items()
                        if isinstance(t, dict)
                    ],
                    "actions": [
                        {
                            "type": a.get("type"),
                            "swaggerOperationId": a.get("inputs", {})
                            .get("host", {})
                            .get("operationId"),
                        }
                        for a in actions.values()
                        if isinstance(a, dict)
                    ],
                },
            }
        )
        return {
            "name": flow.name,
            "id": _flow_id(flow),
            "type": "Microsoft.ProcessSimple/environments/flows",
            "properties": properties,
        }


def summary(platform: Platform, flow: Flow) -> dict[str, Any]:
    answer = view(platform, flow)
    with platform.state.lock:
        runs = list(reversed(flow.runs))
    answer["runs"] = [run_view(platform, flow, run, True) for run in runs]
    answer["next_due"] = flow.next_due
    return answer


def _own(platform: Platform, env_name: str, oid: str, name: str) -> Flow:
    with platform.state.lock:
        flow = platform.records.flows.get((env_name, name)) if _FLOW_NAME.match(name) else None
    if flow is None or flow.owner != oid:  # U: another user's flow is simply not found
        raise ApiError(404, "FlowNotFound", f"The flow '{name[:100]}' could not be found.")
    return flow


def _list(platform: Platform, env_name: str, oid: str) -> Response:
    with platform.state.lock:
        mine = [
            f
            for f in platform.records.flows.values()
            if f.environment == env_name and f.owner == oid
        ]
    return json_response(200, {"value": [view(platform, f) for f in mine]})


def _check(platform: Platform, env_name: str, oid: str, properties: dict[str, Any]) -> None:
    """The definition's shape, its connection references (the caller's own connections) and
    the operations named (in the connector's swagger), as the service checks them on save."""
    definition = properties.get("definition")
    if not isinstance(definition, dict):
        raise ApiError(400, "InvalidTemplate", "properties.definition must be an object.")
    triggers = definition.get("triggers")
    actions = definition.get("actions", {})
    if not isinstance(triggers, dict) or len(triggers) != 1:
        raise ApiError(400, "InvalidTemplate", "The definition must have exactly one trigger.")
    if not isinstance(actions, dict):
        raise ApiError(400, "InvalidTemplate", "The definition's actions must be an object.")
    for name, trigger in triggers.items():
        if not isinstance(trigger, dict) or not isinstance(trigger.get("type"), str):
            raise ApiError(400, "InvalidTemplate", f"The trigger '{name[:80]}' has no type.")
        if trigger["type"] == "Recurrence":
            runner.recurrence_seconds(trigger)  # raises ValueError for a bad recurrence
    references = properties.get("connectionReferences", {})
    if not isinstance(references, dict):
        raise ApiError(400, "InvalidTemplate", "connectionReferences must be an object.")
    state = properties.get("state", "Started")
    if state not in ("Started", "Stopped"):
        raise ApiError(400, "InvalidFlowState", "state must be Started or Stopped.")
    for name, action in actions.items():
        if not isinstance(action, dict) or action.get("type") != "OpenApiConnection":
            continue
        host = action.get("inputs", {}).get("host", {})
        if not isinstance(host, dict) or not isinstance(host.get("operationId"), str):
            raise ApiError(400, "InvalidTemplate", f"The action '{name[:80]}' has no operationId.")
        reference = references.get(host.get("connectionName"))
        if not isinstance(reference, dict):
            raise ApiError(
                400,
                "InvalidTemplate",
                f"The action '{name[:80]}' names the connection reference "
                f"'{str(host.get('connectionName'))[:80]}', which connectionReferences lacks.",
            )
        connector_id = str(reference.get("id", "")).rsplit("/", 1)[-1]
        with platform.state.lock:
            record = platform.connector(env_name, connector_id)
            connection = platform.records.connections.get(
                (env_name, connector_id, str(reference.get("connectionName", "")))
            )
        if record is None:
            raise ApiError(
                400, "ApiNotFound", f"The API '{connector_id[:200]}' could not be found."
            )
        if connection is None or connection.owner != oid:
            raise ApiError(
                403,
                "ConnectionAuthorizationFailed",
                f"The caller with object id '{oid}' does not have permission for connection "
                f"'{str(reference.get('connectionName'))[:128]}' under Api '{connector_id}'.",
            )
        if runner.find_operation(record, host["operationId"]) is None:
            raise ApiError(
                400,
                "InvalidTemplate",  # U: the code for an unknown operation
                f"The API operation '{host['operationId'][:100]}' is not found on the "
                f"connector '{connector_id}'.",
            )
    if state == "Started":
        _licence(platform, properties)


def _licence(platform: Platform, properties: dict[str, Any]) -> None:
    with platform.state.lock:
        licensed = platform.records.switches.premium_licence
    if not licensed and properties.get("connectionReferences"):
        raise ApiError(
            NO_PREMIUM_LICENCE_STATUS, NO_PREMIUM_LICENCE_CODE, NO_PREMIUM_LICENCE_MESSAGE
        )


def _checked(platform: Platform, env_name: str, oid: str, properties: dict[str, Any]) -> None:
    try:
        _check(platform, env_name, oid, properties)
    except ValueError as error:
        raise ApiError(400, "InvalidTemplate", str(error)) from None


def _create(platform: Platform, request: Request, env_name: str, oid: str) -> Response:
    body = _json_body(request)
    properties = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(properties, dict):
        raise ApiError(400, "InvalidRequestContent", "The body needs a 'properties' object.")
    if not isinstance(properties.get("displayName"), str) or not properties["displayName"]:
        raise ApiError(400, "InvalidRequestContent", "properties.displayName is required.")
    properties = copy.deepcopy(properties)
    properties.setdefault("state", "Started")  # U: the state of a flow created without one
    _checked(platform, env_name, oid, properties)
    now = platform.now()
    flow = Flow(env_name, str(uuid.uuid4()), oid, properties, now, now)
    with platform.state.lock:
        platform.records.flows[(env_name, flow.name)] = flow
    if flow.state == "Started":
        runner.turned_on(platform, flow)
    return json_response(201, view(platform, flow))  # U: 201 or 200


def _update(platform: Platform, request: Request, flow: Flow, oid: str) -> Response:
    body = _json_body(request)
    changes = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(changes, dict):
        raise ApiError(400, "InvalidRequestContent", "The body needs a 'properties' object.")
    with platform.state.lock:
        merged = copy.deepcopy(flow.properties)
    for key in ("displayName", "state", "definition", "connectionReferences"):
        if key in changes:
            merged[key] = copy.deepcopy(changes[key])
    _checked(platform, flow.environment, oid, merged)
    with platform.state.lock:
        was_on = flow.state == "Started"
        definition_changed = merged.get("definition") != flow.properties.get("definition")
        flow.properties = merged
        flow.changed = platform.now()
    if flow.state == "Started" and (not was_on or definition_changed):
        runner.turned_on(platform, flow)
    elif flow.state != "Started":
        with platform.state.lock:
            flow.next_due = None
    return json_response(200, view(platform, flow))


def _switch(platform: Platform, flow: Flow, oid: str, *, on: bool) -> Response:
    with platform.state.lock:
        properties = copy.deepcopy(flow.properties)
        was_on = flow.state == "Started"
    if on:
        properties["state"] = "Started"
        _checked(platform, flow.environment, oid, properties)
    with platform.state.lock:
        flow.properties["state"] = "Started" if on else "Stopped"
        flow.changed = platform.now()
        if not on:
            flow.next_due = None
    if on and not was_on:
        runner.turned_on(platform, flow)
    return Response(200, b"")


def _run_now(platform: Platform, flow: Flow, oid: str, trigger: str) -> Response:
    with platform.state.lock:
        triggers = flow.properties.get("definition", {}).get("triggers", {})
        started = flow.state == "Started"
    if trigger not in triggers:
        raise ApiError(404, "TriggerNotFound", f"The trigger '{trigger[:80]}' could not be found.")
    if not started:  # U: status, code and wording
        raise ApiError(409, "FlowNotStarted", "The flow is turned off; turn it on to run it.")
    _licence(platform, flow.properties)
    run = runner.start_run(platform, flow, trigger, background=True)
    return Response(202, b"", [("x-ms-workflow-run-id", run.name)])


# -- runs -------------------------------------------------------------------------------------


def _run(platform: Platform, flow: Flow, name: str) -> Run:
    with platform.state.lock:
        found = next((r for r in flow.runs if r.name == name), None)
    if found is None:
        raise ApiError(404, "RunNotFound", f"The run '{name[:100]}' could not be found.")
    return found


def outputs_link(platform: Platform, flow: Flow, run: Run, action: str, sig: str) -> str:
    return (
        f"{platform.origins['flow']}{_flow_id(flow)}/runs/{run.name}/actions/{action}"
        f"/contents/ActionOutputs?api-version={API_VERSION}&sig={sig}"
    )


def run_view(platform: Platform, flow: Flow, run: Run, with_actions: bool) -> dict[str, Any]:
    with platform.state.lock:
        properties: dict[str, Any] = {
            "startTime": _stamp(run.start),
            "status": run.status,
            "correlation": {"clientTrackingId": run.name},
            "trigger": {
                "name": run.trigger,
                "startTime": _stamp(run.start),
                "endTime": _stamp(run.start),
                "status": "Succeeded",
                "code": "OK",
            },
        }
        if run.end is not None:
            properties["endTime"] = _stamp(run.end)
        if run.error is not None:
            properties["code"] = run.error["code"]
            properties["error"] = dict(run.error)
        if with_actions:
            inline = platform.records.switches.action_outputs == "inline"
            actions: dict[str, Any] = {}
            for result in run.actions:
                entry: dict[str, Any] = {
                    "startTime": _stamp(result.start),
                    "endTime": _stamp(result.end),
                    "status": result.status,
                    "code": result.code,
                }
                if result.error is not None:
                    entry["error"] = dict(result.error)
                if result.outputs is not None:
                    if inline:
                        entry["outputs"] = copy.deepcopy(result.outputs)
                    else:
                        content = json.dumps(result.outputs).encode()
                        entry["outputsLink"] = {
                            "uri": outputs_link(
                                platform, flow, run, result.name, result.outputs_sig
                            ),
                            "contentVersion": result.outputs_sig[:22],
                            "contentSize": len(content),
                        }
                actions[result.name] = entry
            properties["actions"] = actions
        return {
            "name": run.name,
            "id": f"{_flow_id(flow)}/runs/{run.name}",
            "type": "Microsoft.ProcessSimple/environments/flows/runs",
            "properties": properties,
        }


def _runs(platform: Platform, request: Request, flow: Flow) -> Response:
    with platform.state.lock:
        runs = list(reversed(flow.runs))
        size = platform.records.switches.runs_page_size
    top = request.param("$top")
    if top is not None:
        if not top.isdigit() or not 1 <= int(top) <= _MAX_TOP:
            raise ApiError(400, "InvalidQueryParameter", f"$top must be 1 to {_MAX_TOP}.")
        size = min(size, int(top))
    token = request.param("$skiptoken")
    offset = 0
    if token is not None:
        if not re.fullmatch(r"o[0-9]{1,9}", token):
            raise ApiError(400, "InvalidSkipToken", "The $skiptoken is not valid.")
        offset = int(token[1:])
    page = runs[offset : offset + size]
    answer: dict[str, Any] = {"value": [run_view(platform, flow, r, False) for r in page]}
    if offset + size < len(runs):
        query = f"api-version={API_VERSION}&$skiptoken=o{offset + size}"
        if top is not None:
            query += f"&$top={top}"
        answer["nextLink"] = f"{platform.origins['flow']}{_flow_id(flow)}/runs?{query}"
    return json_response(200, answer)


def _outputs(
    platform: Platform, request: Request, env_name: str, name: str, run_name: str, action: str
) -> Response:
    with platform.state.lock:
        flow = platform.records.flows.get((env_name, name))
        run = next((r for r in flow.runs if r.name == run_name), None) if flow else None
        result = next((a for a in run.actions if a.name == action), None) if run else None
    sig = request.param("sig") or ""
    if (
        result is None
        or result.outputs is None
        or not result.outputs_sig
        or not hmac.compare_digest(sig.encode(), result.outputs_sig.encode())
    ):
        raise ApiError(
            403, "AuthorizationFailed", "The signature of the outputs link is not valid."
        )
    return json_response(200, result.outputs)
