"""The heartbeat flow: one per profile and environment, created or updated (never a second),
turned on or off, run once now as the connector's end-to-end test, its result in words.

In the single layout the flow reads through the one connection and keeps it alive; in the
three-connector layout it reads through the `general` connection only (List attribute groups
lives on the general host), so the upload and download connections are not kept alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clmwizard.errors import NetworkError, UsageError
from clmwizard.powerplatform.flows import (
    ActionResult,
    FlowApi,
    FlowRun,
    Schedule,
    flow_body,
)
from clmwizard.powerplatform.polling import Tick, poll_until
from clmwizard.powerplatform.rotation_proof import proving_run
from clmwizard.store.profile import HeartbeatRecord, Profile, PublishedConnector, PublishRecord

if TYPE_CHECKING:
    from clmwizard.store.profiles import ProfileStore

HEARTBEAT_KEYS = ("clm", "general")  # the connectors that carry List attribute groups


@dataclass(frozen=True)
class HeartbeatTarget:
    record: PublishRecord
    connector: PublishedConnector  # the one the flow reads through
    others: tuple[PublishedConnector, ...]  # connected, but not kept alive by the flow

    @property
    def environment_id(self) -> str:
        return self.record.environment_id


def heartbeat_target(profile: Profile, environment: str | None) -> HeartbeatTarget:
    records = [
        r for r in profile.publications if environment is None or r.environment_id == environment
    ]
    if environment is None and len(records) > 1:
        raise UsageError(
            f"The profile {profile.name} published connectors in several environments.",
            fix="Choose one with --environment.",
            field="environment",
            code="choose_environment",
        )
    for record in records:
        by_key = {c.key: c for c in record.connectors}
        for key in HEARTBEAT_KEYS:
            connector = by_key.get(key)
            if connector is None:
                continue
            if not connector.connection_name:
                raise UsageError(
                    f"{connector.display_name} has no connection yet.",
                    fix=f"Connect first: clmwizard connect --profile {profile.name} "
                    f"--environment {record.environment_id}",
                    code="not_connected",
                )
            others = tuple(c for c in record.connectors if c is not connector)
            return HeartbeatTarget(record, connector, others)
    raise UsageError(
        f"The profile {profile.name} has published no connector to read through"
        + (f" in environment {environment}." if environment else "."),
        fix=f"Publish and connect first: clmwizard publish --profile {profile.name}, then "
        f"clmwizard connect --profile {profile.name}",
        code="nothing_published",
    )


def kept_alive_lines(target: HeartbeatTarget, profile: str) -> list[str]:
    """Which connections the flow keeps alive, and what to do for the others."""
    lines = [f"keeps alive: the connection to {target.connector.display_name}"]
    if target.others:
        names = ", ".join(c.display_name for c in target.others)
        lines.append(
            f"not kept alive: {names} — each holds its own DocuSign sign-in, which dies after "
            "30 days unused. Use them in a flow at least every few weeks, or run "
            f"`clmwizard connect --profile {profile}` again when `clmwizard status` says they "
            "failed; the single layout (`clmwizard publish --layout single`) needs one "
            "connection only."
        )
    return lines


def flow_name(profile: Profile, target: HeartbeatTarget) -> str:
    return f"clmwizard heartbeat: {target.connector.display_name} ({profile.name})"[:200]


@dataclass
class HeartbeatOutcome:
    flow_id: str
    created: bool
    on: bool
    schedule: Schedule
    run: FlowRun | None = None
    actions: list[ActionResult] = field(default_factory=list)
    result: str = ""  # "12 attribute groups", or the failure in words

    @property
    def succeeded(self) -> bool:
        return self.run is not None and self.run.status == "Succeeded"


async def upsert_flow(
    api: FlowApi,
    profile: Profile,
    target: HeartbeatTarget,
    schedule: Schedule,
    *,
    on: bool,
) -> tuple[str, bool]:
    """(flow id, created): updates the recorded flow when it still exists, else creates one."""
    if profile.account_id is None:
        raise UsageError(
            f"The profile {profile.name} has no DocuSign account yet.",
            fix=f"Sign in first: clmwizard login --profile {profile.name} …",
            code="not_signed_in",
        )
    env = target.environment_id
    assert target.connector.connection_name is not None
    body = flow_body(
        flow_name(profile, target),
        target.connector.connector_id,
        target.connector.connection_name,
        profile.account_id,
        schedule,
        started=on,
    )
    known = target.record.heartbeat
    if known is not None and await api.get_flow(env, known.flow_id) is not None:
        await api.update_flow(env, known.flow_id, body)
        await api.set_state(env, known.flow_id, on=on)
        return known.flow_id, False
    created = await api.create_flow(env, body)
    if not on:
        await api.set_state(env, created.flow_id, on=False)
    return created.flow_id, True


def remember_heartbeat(
    environment_id: str, heartbeat: HeartbeatRecord, flow_url: str
) -> Callable[[Profile], None]:
    def change(profile: Profile) -> None:
        for record in profile.publications:
            if record.environment_id == environment_id:
                record.heartbeat = replace(heartbeat)
                record.flow_url = flow_url
                if heartbeat.last_run_status is not None:  # a late enough run proves a rotation
                    run = (heartbeat.last_run_status, heartbeat.last_run_at)
                    record.rotation_proven_at = (
                        proving_run(record, [run]) or record.rotation_proven_at
                    )

    return change


async def run_and_wait(
    api: FlowApi,
    environment: str,
    flow_id: str,
    *,
    timeout: float,
    poll: float,
    tick: Tick = lambda waited: None,
) -> tuple[FlowRun, list[ActionResult]]:
    """Trigger one run now and wait until it finished; its actions for the result."""
    before = {run.run_id for run in await api.runs(environment, flow_id, limit=50)}
    run_id = await api.run_now(environment, flow_id)

    async def finished() -> tuple[FlowRun, list[ActionResult]] | None:
        runs = await api.runs(environment, flow_id, limit=50)
        mine = [r for r in runs if (r.run_id == run_id if run_id else r.run_id not in before)]
        if not mine or not mine[0].finished:
            return None
        return mine[0], await api.run_actions(environment, flow_id, mine[0].run_id)

    def timed_out(waited: float) -> NetworkError:
        return NetworkError(
            f"The heartbeat run did not finish within {waited:.0f} s.",
            cause="Power Automate may be busy; the run goes on without clmwizard.",
            fix="Check it later with `clmwizard status`, or give more time with --timeout.",
            code="run_timeout",
        )

    return await poll_until(finished, timeout=timeout, tick=tick, poll=poll, timed_out=timed_out)


def count_of(body: Any) -> int | None:
    """How many items a CLM list answer holds (its Total, else its Items)."""
    if not isinstance(body, dict):
        return None
    total = body.get("Total")
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    items = body.get("Items")
    return len(items) if isinstance(items, list) else None


def describe_result(
    run: FlowRun, actions: list[ActionResult], target: HeartbeatTarget, profile: str
) -> str:
    """What CLM answered ("12 attribute groups"), or the failing action's error in words."""
    action = actions[0] if actions else None
    if run.status == "Succeeded":
        count = count_of(action.body) if action else None
        if count is None:
            return "CLM answered"
        return f"{count} attribute group" + ("" if count == 1 else "s")
    code = (action.error_code if action else "") or run.error_code
    message = (action.error_message if action else "") or run.error_message
    status = action.status_code if action else None
    said = f"{code}: {message}".strip(": ") or f"run {run.status}"
    name = target.connector.display_name
    lowered = said.lower()
    if "invalid_client" in lowered or "unauthorized_client" in lowered:
        return (
            f"DocuSign refused {name}'s client secret ({said}): give the connectors the "
            f"current secret with `clmwizard publish --profile {profile}`, then run "
            f"`clmwizard connect --profile {profile}` if the connection stays in error"
        )
    if status == 401 or "invalid_grant" in lowered or "unauthorized" in lowered:
        return (
            f"DocuSign refused the connection's sign-in ({said}); it was revoked or went unused "
            f"too long: run `clmwizard connect --profile {profile}` to sign in again"
        )
    if status == 403:
        return (
            f"CLM refused the call (HTTP 403: {said}): the signed-in DocuSign user needs CLM "
            "access and the spring_read scope"
        )
    where = f" (HTTP {status})" if status else ""
    return f"the call through {name} failed{where}: {said}"


def record_of(outcome: HeartbeatOutcome, target: HeartbeatTarget) -> HeartbeatRecord:
    """What the profile keeps of `outcome`; without a run, what the last run said stays."""
    record = HeartbeatRecord(
        flow_id=outcome.flow_id,
        connector_key=target.connector.key,
        state="on" if outcome.on else "off",
        every=outcome.schedule.text,
        last_run_status=outcome.run.status if outcome.run else None,
        last_run_at=(outcome.run.start or datetime.now(UTC)) if outcome.run else None,
        last_result=outcome.result or None,
    )
    old = target.record.heartbeat
    if outcome.run is None and old is not None:
        record.last_run_status, record.last_run_at = old.last_run_status, old.last_run_at
        record.last_result = old.last_result
    return record


async def remember_outcome(
    profiles: ProfileStore,
    name: str,
    target: HeartbeatTarget,
    outcome: HeartbeatOutcome,
    flow_url: str,
) -> None:
    """Write `outcome` into profile `name` (before the run too: a rerun then updates this flow
    and never makes another)."""
    change = remember_heartbeat(target.environment_id, record_of(outcome, target), flow_url)
    await asyncio.to_thread(profiles.update, name, change)


async def set_up(
    flows: FlowApi,
    profiles: ProfileStore,
    profile: Profile,
    target: HeartbeatTarget,
    schedule: Schedule,
    *,
    on: bool,
    flow_url: str,
) -> HeartbeatOutcome:
    """Create or update the heartbeat flow, turned on or off, and write it into the profile."""
    flow_id, created = await upsert_flow(flows, profile, target, schedule, on=on)
    outcome = HeartbeatOutcome(flow_id, created, on, schedule)
    await remember_outcome(profiles, profile.name, target, outcome, flow_url)
    return outcome


async def run_once(
    flows: FlowApi,
    profiles: ProfileStore,
    target: HeartbeatTarget,
    outcome: HeartbeatOutcome,
    *,
    profile_name: str,
    flow_url: str,
    timeout: float,
    poll: float,
    tick: Tick,
) -> FlowRun:
    """Run the flow once now, wait until it finished, and write its result (in `outcome`, and
    into the profile)."""
    run, actions = await run_and_wait(
        flows, target.environment_id, outcome.flow_id, timeout=timeout, poll=poll, tick=tick
    )
    outcome.run, outcome.actions = run, actions
    outcome.result = describe_result(run, actions, target, profile_name)
    await remember_outcome(profiles, profile_name, target, outcome, flow_url)
    return run
