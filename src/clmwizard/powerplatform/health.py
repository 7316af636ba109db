"""Does it still work? One profile's health: the DocuSign grant, the published connectors, their
connections, the heartbeat flow and its last runs, each finding with what to do, and a verdict
(`ok`, `attention`, `broken`) that `clmwizard status` turns into its exit code.

`assess` reads the Power Platform only through the APIs it is given (None: not signed in to
Microsoft, so only what the profile remembers is judged). Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from clmwizard.errors import ClmWizardError
from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.connect import ConnectTarget, failure
from clmwizard.powerplatform.connections import get_connection
from clmwizard.powerplatform.flows import FlowApi, FlowRun
from clmwizard.powerplatform.heartbeat import HEARTBEAT_KEYS
from clmwizard.powerplatform.records import secret_fingerprint
from clmwizard.powerplatform.rotation_proof import (
    delete_old_secret,
    local_time,
    proof_due,
    proving_run,
)
from clmwizard.store.profile import Profile, PublishRecord

Verdict = Literal["ok", "attention", "broken"]
_RANK: dict[Verdict, int] = {"ok": 0, "attention": 1, "broken": 2}
SOON = timedelta(days=7)


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=lambda v: _RANK[v], default="ok")


@dataclass
class Finding:
    level: Verdict
    what: str
    todo: str = ""


@dataclass
class ConnectorHealth:
    key: str
    connector_id: str
    display_name: str
    environment_id: str
    secret_current: bool | None  # None: no secret in the keyring to compare with
    redirect_url: str | None
    exists: bool | None = None  # None: not checked (no Microsoft sign-in)
    connection_name: str | None = None
    connection_status: str = "none"  # "Connected", "Error", "none" (no connection), "unknown"
    connection_error: str = ""
    kept_alive: bool = False


@dataclass
class HeartbeatHealth:
    state: str = "none"  # "on", "off", "none" (no flow), "missing" (deleted), "unknown"
    flow_id: str | None = None
    every: str | None = None
    runs: list[FlowRun] = field(default_factory=list)
    last_result: str | None = None


@dataclass
class RotationHealth:
    """A secret rotation of one environment's connectors and whether a run proved it."""

    environment_id: str
    rotated_at: datetime
    proof_after: datetime  # a succeeded run after this went through the new secret
    proven_at: datetime | None  # the start of that run
    newly_proven: bool = False  # seen now, not yet in the profile

    @property
    def state(self) -> Literal["pending", "proven"]:
        return "pending" if self.proven_at is None else "proven"


@dataclass
class Health:
    profile: str
    checked_at: datetime
    grant_last_refresh: datetime | None
    grant_dies_at: datetime | None
    connectors: list[ConnectorHealth] = field(default_factory=list)
    heartbeat: HeartbeatHealth = field(default_factory=HeartbeatHealth)
    findings: list[Finding] = field(default_factory=list)
    remote_checked: bool = False
    rotations: list[RotationHealth] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return worst([f.level for f in self.findings])

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None

        return {
            "profile": self.profile,
            "verdict": self.verdict,
            "checked_at": when(self.checked_at),
            "remote_checked": self.remote_checked,
            "grant": {
                "last_refresh": when(self.grant_last_refresh),
                "dies_unused_at": when(self.grant_dies_at),
            },
            "connectors": [
                {
                    "connector": c.key,
                    "connector_id": c.connector_id,
                    "display_name": c.display_name,
                    "environment": c.environment_id,
                    "exists": c.exists,
                    "secret_current": c.secret_current,
                    "redirect_url": c.redirect_url,
                }
                for c in self.connectors
            ],
            "connections": [
                {
                    "connector": c.key,
                    "connector_id": c.connector_id,
                    "connection": c.connection_name,
                    "status": c.connection_status,
                    "error": c.connection_error or None,
                    "kept_alive_by_heartbeat": c.kept_alive,
                }
                for c in self.connectors
            ],
            "heartbeat": {
                "state": self.heartbeat.state,
                "flow_id": self.heartbeat.flow_id,
                "every": self.heartbeat.every,
                "last_result": self.heartbeat.last_result,
                "runs": [
                    {
                        "status": run.status,
                        "start": when(run.start),
                        "end": when(run.end),
                        "error": (f"{run.error_code}: {run.error_message}".strip(": ") or None),
                    }
                    for run in self.heartbeat.runs
                ],
            },
            "rotations": [
                {
                    "environment": r.environment_id,
                    "state": r.state,
                    "rotated_at": when(r.rotated_at),
                    "old_secret_needed_until_a_run_after": when(r.proof_after),
                    "proven_by_run_at": when(r.proven_at),
                }
                for r in self.rotations
            ],
            "findings": [{"level": f.level, "what": f.what, "todo": f.todo} for f in self.findings],
        }


def _grant_findings(health: Health, profile: Profile, now: datetime) -> None:
    dies = health.grant_dies_at
    # With connectors, clmwizard's own grant is a convenience (credentials, rotate); the
    # connections hold their own. Without, it is the product (another platform uses it).
    dead_level: Verdict = "attention" if profile.publications else "broken"
    again = f"clmwizard login --profile {profile.name} --integration-key {profile.integration_key}"
    if dies is None:
        health.findings.append(
            Finding("attention", "clmwizard holds no DocuSign grant for this profile.", again)
        )
    elif dies <= now:
        health.findings.append(
            Finding(
                dead_level,
                f"clmwizard's DocuSign grant died unused on {dies:%Y-%m-%d}.",
                f"Sign in again: {again}",
            )
        )
    elif dies - now <= SOON:
        health.findings.append(
            Finding(
                "attention",
                f"clmwizard's DocuSign grant dies unused on {dies:%Y-%m-%d}.",
                f"Refresh it now: clmwizard refresh --profile {profile.name}",
            )
        )


async def assess(
    profile: Profile,
    *,
    stored_secret: str | None,
    apis: dict[str, tuple[PowerAppsApi, FlowApi | None]] | None,
    now: datetime | None = None,
) -> Health:
    """The health of `profile`. `apis` maps an environment id to its (Power Apps, Flow) API;
    None when there is no Microsoft sign-in (the remote side is then reported unchecked)."""
    now = now or datetime.now(UTC)
    health = Health(
        profile.name,
        now,
        grant_last_refresh=profile.last_refresh_at or profile.consented_at,
        grant_dies_at=profile.refresh_token_expires_at,
        remote_checked=apis is not None,
    )
    _grant_findings(health, profile, now)
    if not profile.publications:
        health.findings.append(
            Finding(
                "ok",
                "No connector published by clmwizard (the grant is all there is to check).",
                "",
            )
        )
        return health
    fingerprint = (
        secret_fingerprint(profile.integration_key, stored_secret) if stored_secret else None
    )
    if apis is None:
        health.findings.append(
            Finding(
                "attention",
                "Power Automate was not checked: no Microsoft sign-in is cached for this profile.",
                f"Sign in once: clmwizard connect --profile {profile.name} (the sign-in is then "
                "reused silently, also from cron).",
            )
        )
    for record in profile.publications:
        pair = apis.get(record.environment_id) if apis is not None else None
        await _record_health(health, profile, record, fingerprint, pair)
    return health


async def _record_health(
    health: Health,
    profile: Profile,
    record: PublishRecord,
    fingerprint: str | None,
    pair: tuple[PowerAppsApi, FlowApi | None] | None,
) -> None:
    name = profile.name
    beat = record.heartbeat
    keeper = next(
        (c for key in HEARTBEAT_KEYS for c in record.connectors if c.key == key),
        None,
    )
    for connector in record.connectors:
        item = ConnectorHealth(
            key=connector.key,
            connector_id=connector.connector_id,
            display_name=connector.display_name,
            environment_id=record.environment_id,
            secret_current=None
            if fingerprint is None
            else connector.secret_fingerprint == fingerprint,
            redirect_url=connector.redirect_url,
            connection_name=connector.connection_name,
            connection_status="unknown" if connector.connection_name else "none",
            kept_alive=beat is not None and beat.state == "on" and connector is keeper,
        )
        health.connectors.append(item)
        label = f"{connector.display_name} ({record.environment_id})"
        if item.secret_current is False:
            health.findings.append(
                Finding(
                    "attention",
                    f"{label} carries an older secret key than the one stored.",
                    f"Finish the rotation: clmwizard rotate --profile {name} (or clmwizard "
                    f"publish --profile {name}); keep the old secret at DocuSign until then.",
                )
            )
        if connector.redirect_url is None:
            health.findings.append(
                Finding(
                    "attention",
                    f"{label}: its redirect URL is unknown.",
                    f"Run clmwizard publish --profile {name} to read it back.",
                )
            )
        if pair is not None:
            await _check_connection(health, item, record, connector, pair[0], name)
        if item.connection_status == "none":
            health.findings.append(
                Finding(
                    "attention",
                    f"{label} has no connection: no flow can use it yet.",
                    f"clmwizard connect --profile {name} --environment {record.environment_id}",
                )
            )
        elif (
            item.connection_status == "Connected"
            and not item.kept_alive
            and connector is not keeper
            and beat is not None
            and beat.state == "on"
        ):  # three connectors: the heartbeat reads through `general` only
            health.findings.append(
                Finding(
                    "ok",
                    f"The connection to {label} is not kept alive by the heartbeat (it reads "
                    "through the general connector): its DocuSign sign-in dies after 30 days "
                    "unused.",
                    "Use it in a flow every few weeks, or run clmwizard connect again when "
                    "status reports it failed.",
                )
            )
    await _heartbeat_health(health, profile, record, pair[1] if pair else None)
    _rotation_health(health, profile, record)


def _rotation_health(health: Health, profile: Profile, record: PublishRecord) -> None:
    """A pending rotation needs attention until a succeeded run after its due time is seen
    (in the runs just read, or the last run clmwizard recorded); then: delete the old one."""
    due = proof_due(record)
    if due is None or record.secret_rotated_at is None:
        return
    env, name = record.environment_id, profile.name
    beat = record.heartbeat
    runs = health.heartbeat.runs if beat and health.heartbeat.flow_id == beat.flow_id else []
    seen = [(run.status, run.start) for run in runs]
    if beat is not None and beat.last_run_status is not None:
        seen.append((beat.last_run_status, beat.last_run_at))
    proven = record.rotation_proven_at
    newly = proven is None and (proven := proving_run(record, seen)) is not None
    item = RotationHealth(env, record.secret_rotated_at, due, proven, newly_proven=newly)
    health.rotations.append(item)
    if proven is not None:
        if health.checked_at - proven <= SOON:
            health.findings.append(
                Finding(
                    "ok",
                    f"The secret rotation in {env}: a heartbeat run at {local_time(proven)} "
                    "went through the new secret key.",
                    delete_old_secret(),
                )
            )
        return
    if beat is not None and beat.state == "on" and health.heartbeat.state in ("on", "unknown"):
        todo = (
            f"Keep the old secret key at DocuSign until then; the heartbeat runs every "
            f"{beat.every}, and `clmwizard status --profile {name}` says when a run proved the "
            "new one."
        )
    else:
        todo = (
            f"Keep the old secret key at DocuSign until then. Turn the heartbeat on: "
            f"clmwizard heartbeat --profile {name} --environment {env} (or run a flow through "
            "the connection after that time)."
        )
    health.findings.append(
        Finding(
            "attention",
            f"The secret rotation in {env} ({local_time(record.secret_rotated_at)}): the old "
            f"secret is still needed until a heartbeat run after {local_time(due)} succeeds.",
            todo,
        )
    )


async def _check_connection(
    health: Health,
    item: ConnectorHealth,
    record: PublishRecord,
    connector: Any,
    api: PowerAppsApi,
    name: str,
) -> None:
    label = f"{connector.display_name} ({record.environment_id})"
    try:
        remote = await api.get_connector(record.environment_id, connector.connector_id)
    except ClmWizardError as error:
        health.findings.append(Finding("attention", f"{label}: not checked: {error.what}"))
        return
    item.exists = remote is not None
    if remote is None:
        item.connection_status = "none" if not connector.connection_name else "unknown"
        health.findings.append(
            Finding(
                "broken",
                f"{label} no longer exists in Power Automate.",
                f"Publish it again: clmwizard publish --profile {name} --environment "
                f"{record.environment_id}, then clmwizard connect --profile {name}",
            )
        )
        return
    if not connector.connection_name:
        return
    try:
        connection = await get_connection(
            api, record.environment_id, connector.connector_id, connector.connection_name
        )
    except ClmWizardError as error:
        health.findings.append(
            Finding("attention", f"{label}: connection not checked: {error.what}")
        )
        return
    if connection is None:
        item.connection_status = "none"
        return
    item.connection_status = connection.status
    if connection.connected:
        return
    problem = failure(connection, ConnectTarget(record, connector), name)
    item.connection_error = problem.what
    health.findings.append(
        Finding(
            "broken",
            f"The connection to {label} is {connection.status}: {problem.what} {problem.cause}",
            problem.fix,
        )
    )


async def _heartbeat_health(
    health: Health, profile: Profile, record: PublishRecord, flows: FlowApi | None
) -> None:
    beat = record.heartbeat
    name, env = profile.name, record.environment_id
    again = f"clmwizard heartbeat --profile {name} --environment {env}"
    hb = health.heartbeat
    if beat is None:
        if any(c.connection_name for c in record.connectors):
            health.findings.append(
                Finding(
                    "attention",
                    f"No heartbeat flow in {env}: the connection dies after 30 days unused.",
                    again,
                )
            )
        return
    hb.flow_id, hb.state, hb.every, hb.last_result = (
        beat.flow_id,
        beat.state,
        beat.every,
        beat.last_result,
    )
    if flows is not None:
        try:
            remote = await flows.get_flow(env, beat.flow_id)
            if remote is None:
                hb.state = "missing"
            else:
                hb.state = "on" if remote.state == "Started" else "off"
                hb.every = remote.schedule.text if remote.schedule else hb.every
                hb.runs = await flows.runs(env, beat.flow_id, limit=5)
        except ClmWizardError as error:
            health.findings.append(Finding("attention", f"Heartbeat not checked: {error.what}"))
    if hb.state == "missing":
        health.findings.append(
            Finding("broken", f"The heartbeat flow {beat.flow_id} was deleted.", again)
        )
        return
    if hb.state == "off":
        health.findings.append(
            Finding(
                "attention",
                "The heartbeat flow is off: the connection dies after 30 days unused.",
                again,
            )
        )
    finished = [run for run in hb.runs if run.finished]
    if finished and finished[0].status != "Succeeded":
        run = finished[0]
        said = f"{run.error_code}: {run.error_message}".strip(": ")
        if flows is not None:
            said = await _why(flows, profile, env, beat.flow_id, run) or said
        health.findings.append(
            Finding(
                "broken",
                f"The last heartbeat run ({run.start:%Y-%m-%d %H:%M} UTC) {run.status.lower()}"
                + (f": {said}" if said else "")
                if run.start
                else f"The last heartbeat run {run.status.lower()}",
                f"See why and retry: {again}",
            )
        )
    elif not finished and beat.last_run_status not in (None, "Succeeded") and flows is None:
        health.findings.append(
            Finding(
                "broken",
                f"The last heartbeat run clmwizard saw {beat.last_run_status.lower()}: "
                f"{beat.last_result or ''}".rstrip(": "),
                again,
            )
        )
    elif hb.state == "on":
        health.findings.append(Finding("ok", "The heartbeat flow is on.", ""))


async def _why(flows: FlowApi, profile: Profile, env: str, flow_id: str, run: FlowRun) -> str:
    """The failing action's error in words (the run's own error only says an action failed)."""
    from clmwizard.powerplatform.heartbeat import describe_result, heartbeat_target

    try:
        target = heartbeat_target(profile, env)
        actions = await flows.run_actions(env, flow_id, run.run_id)
    except ClmWizardError:
        return ""
    return describe_result(run, actions, target, profile.name)
