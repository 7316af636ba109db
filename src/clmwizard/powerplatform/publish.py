"""Plan and publish a profile's connectors: build each payload from the bundle, create or
update (concurrently), remember what exists as it completes, read back the redirect URLs.

A screen or the CLI calls `plan_publish` and `publish` (one per profile at a time, under the
profile's connector lock) and shows the progress callbacks' words; nothing here prints.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from clmwizard.connector.bundle import Layout, build_bundle
from clmwizard.connector.properties import API_DEFINITION_FILE, API_PROPERTIES_FILE, ICON_FILE
from clmwizard.errors import ClmWizardError, first_few
from clmwizard.powerplatform.api import Finding, PowerAppsApi, RemoteConnector
from clmwizard.powerplatform.records import find_record, remember_connector, secret_fingerprint
from clmwizard.powerplatform.settings import MicrosoftSettings
from clmwizard.redact import register_secret
from clmwizard.store.locking import held_in_thread
from clmwizard.store.profile import Profile, PublishedConnector, PublishRecord
from clmwizard.store.profiles import ProfileStore

Action = Literal["create", "update", "adopt"]
PORTAL_REDIRECT_HINT = (
    "the service did not return it: open make.powerautomate.com → Data → Custom connectors → "
    "this connector → Edit → Security: the Redirect URL is at the bottom"
)


@dataclass(frozen=True)
class ConnectorPayload:
    """One connector of a layout, from the bundle files clmwizard exports."""

    key: str  # the bundle folder: "clm", or "general" / "upload" / "download"
    display_name: str
    swagger: dict[str, Any]
    api_properties: dict[str, Any]
    icon: bytes


@dataclass(frozen=True)
class PlannedConnector:
    payload: ConnectorPayload
    action: Action
    connector_id: str | None  # the one to update or adopt
    reason: str  # in words, for the plan listing

    @property
    def key(self) -> str:
        return self.payload.key


@dataclass(frozen=True)
class PublishPlan:
    profile: str
    environment_id: str
    layout: Layout
    connectors: tuple[PlannedConnector, ...]
    leftover: tuple[PublishedConnector, ...] = ()  # recorded here, not in this layout


@dataclass
class ConnectorOutcome:
    key: str
    display_name: str
    action: Action
    connector_id: str | None = None
    redirect_url: str | None = None
    redirect_hint: str = ""
    error: ClmWizardError | None = None
    skipped: str = ""  # why it was not published (adoption declined)
    findings: list[Finding] = field(default_factory=list)  # the validation's, when any
    uncertain: bool = False  # a create whose answer was unreadable: it may exist

    @property
    def exists(self) -> bool:
        return self.connector_id is not None


@dataclass
class PublishResult:
    environment_id: str
    outcomes: list[ConnectorOutcome] = field(default_factory=list)
    record_error: ClmWizardError | None = None

    @property
    def ok(self) -> bool:
        return self.record_error is None and all(
            o.error is None and not o.skipped for o in self.outcomes
        )


Progress = Callable[[str, str], None]  # (connector key, what is happening now)
AdoptQuestion = Callable[[PlannedConnector], Awaitable[bool]]


def connector_payloads(profile: Profile, layout: Layout) -> list[ConnectorPayload]:
    """The connectors of `layout`, each built from the same files `clmwizard export` writes."""
    files = build_bundle(profile, layout)
    folders = sorted({path.split("/", 1)[0] for path in files if "/" in path})
    payloads = []
    for folder in folders:
        swagger = json.loads(files[f"{folder}/{API_DEFINITION_FILE}"])
        properties = json.loads(files[f"{folder}/{API_PROPERTIES_FILE}"])
        payloads.append(
            ConnectorPayload(
                key=folder,
                display_name=str(swagger["info"]["title"]),
                swagger=swagger,
                api_properties=properties,
                icon=files[f"{folder}/{ICON_FILE}"],
            )
        )
    order = {"clm": 0, "general": 1, "upload": 2, "download": 3}
    return sorted(payloads, key=lambda payload: order.get(payload.key, 9))


def request_body(
    payload: ConnectorPayload,
    environment_id: str,
    client_secret: str,
    icon_uri: str,
    *,
    create: bool,
) -> dict[str, Any]:
    """The create (POST) or update (PATCH) body, as paconn sends it (see the README)."""
    register_secret(client_secret)
    properties: dict[str, Any] = json.loads(json.dumps(payload.api_properties["properties"]))
    token = properties["connectionParameters"]["token"]
    token["oAuthSettings"]["clientSecret"] = client_secret
    swagger = payload.swagger
    scheme = (swagger.get("schemes") or ["https"])[0]
    base_path = swagger.get("basePath", "/")
    properties.update(
        {
            "openApiDefinition": swagger,
            "backendService": {"serviceUrl": f"{scheme}://{swagger['host']}{base_path}"},
            "environment": {"name": environment_id},
            "description": swagger["info"]["description"],
            "iconUri": icon_uri,
            "scriptDefinitionUrl": "",
        }
    )
    if create:
        properties["displayName"] = payload.display_name
    return {"properties": properties}


async def _known(
    api: PowerAppsApi, environment_id: str, record: PublishRecord | None
) -> dict[str, RemoteConnector]:
    """The connectors this profile recorded here that still exist, asked for by id (so a huge
    or odd list never turns an update into a create)."""
    ids = [c.connector_id for c in record.connectors] if record else []
    found = await asyncio.gather(*(api.get_connector(environment_id, i) for i in ids))
    return {i: c for i, c in zip(ids, found, strict=True) if c is not None}


async def plan_publish(
    api: PowerAppsApi, profile: Profile, environment_id: str, layout: Layout
) -> PublishPlan:
    """Update what this profile published here, offer adoption of a same-named connector, and
    create the rest. Reads only; stops (catalogue_incomplete) when the list cannot be read in
    full, before anything is created."""
    payloads = connector_payloads(profile, layout)
    record = find_record(profile, environment_id)
    recorded = {c.key: c for c in record.connectors} if record else {}
    by_id = await _known(api, environment_id, record)
    existing: list[RemoteConnector] = []
    if any(
        recorded.get(p.key) is None or recorded[p.key].connector_id not in by_id for p in payloads
    ):
        existing = await api.list_connectors(environment_id)
        by_id.update({c.connector_id: c for c in existing if c.connector_id not in by_id})
    planned = []
    for payload in payloads:
        mine = recorded.get(payload.key)
        if mine is not None and mine.connector_id in by_id:
            planned.append(
                PlannedConnector(payload, "update", mine.connector_id, "published by this profile")
            )
            continue
        same_name = [c for c in existing if c.display_name == payload.display_name]
        if same_name:
            found = same_name[0].connector_id
            ours = any(c.connector_id == found for c in recorded.values())
            whose = " (this profile's, of its other layout)" if ours else ""
            planned.append(
                PlannedConnector(
                    payload,
                    "adopt",
                    found,
                    f"a connector named {payload.display_name!r} already exists "
                    f"({found}){whose}; it is updated only if you agree",
                )
            )
            continue
        gone = f" (the recorded {mine.connector_id} is gone)" if mine is not None else ""
        planned.append(PlannedConnector(payload, "create", None, f"new{gone}"))
    keys = {payload.key for payload in payloads}
    offered = {item.connector_id for item in planned if item.action == "adopt"}
    leftover = tuple(  # each connector once: one offered for adoption is not also "left as is"
        c
        for c in (record.connectors if record else [])
        if c.key not in keys and c.connector_id in by_id and c.connector_id not in offered
    )
    return PublishPlan(profile.name, environment_id, layout, tuple(planned), leftover)


def _unexpected(error: Exception, doing: str) -> ClmWizardError:
    return ClmWizardError(
        f"The Power Apps API's answer could not be read while trying to {doing}.",
        cause=f"{type(error).__name__}: the answer was garbled or not what the service sends.",
        fix="Run publish again: what exists is found and updated, never duplicated.",
        code="unreadable_answer",
    )


def _validation_error(payload: ConnectorPayload, errors: list[Finding]) -> ClmWizardError:
    return ClmWizardError(
        f"The Power Apps API found errors in the definition of {payload.display_name}.",
        cause=f"Its validation said: {first_few(errors, 10)}",
        fix="This is a bug in clmwizard's connector definition; please report it with the "
        "lines above. Nothing was created or changed for this connector.",
        code="swagger_invalid",
    )


async def _publish_one(
    api: PowerAppsApi,
    plan: PublishPlan,
    item: PlannedConnector,
    client_secret: str,
    adopt: AdoptQuestion,
    progress: Progress,
    remember: Callable[[PublishedConnector], Awaitable[None]],
    fingerprint: str,
) -> ConnectorOutcome:
    payload = item.payload
    outcome = ConnectorOutcome(payload.key, payload.display_name, item.action)
    env = plan.environment_id
    doing = "validate the definition"

    async def record(stored: RemoteConnector | None) -> None:
        assert outcome.connector_id is not None
        await remember(
            PublishedConnector(
                key=payload.key,
                connector_id=outcome.connector_id,
                display_name=payload.display_name,
                secret_fingerprint=fingerprint,
                redirect_url=stored.redirect_url if stored else None,
                updated_at=datetime.now(UTC),
            )
        )

    try:
        if item.action == "adopt":
            progress(payload.key, f"asking whether to adopt {item.connector_id}")
            if not await adopt(item):
                outcome.skipped = (
                    f"a connector named {payload.display_name!r} already exists "
                    f"({item.connector_id}) and was left alone"
                )
                return outcome
        progress(payload.key, "validating the definition")
        # Advice, not a verdict (paconn publishes regardless): errors stop this connector,
        # warnings and findings clmwizard cannot classify are shown and publishing goes on.
        outcome.findings = await api.validate_swagger(payload.swagger)
        errors = [f for f in outcome.findings if f.level == "error"]
        if errors:
            raise _validation_error(payload, errors)
        if outcome.findings:
            progress(payload.key, f"validation: {len(outcome.findings)} finding(s), going on")
        doing = "upload the connector icon"
        progress(payload.key, "uploading the icon")
        sas = await api.generate_storage(env)
        icon_uri = await api.upload_icon(sas, f"{payload.key}-icon.png", payload.icon)
        create = item.action == "create"
        progress(payload.key, "creating" if create else f"updating {item.connector_id}")
        body = request_body(payload, env, client_secret, icon_uri, create=create)
        remote: RemoteConnector | None
        if create:
            doing = "create the connector"
            outcome.uncertain = True  # until its answer is read
            remote = await api.create_connector(env, body)
            outcome.uncertain = False
            outcome.connector_id = remote.connector_id
        else:
            assert item.connector_id is not None
            doing = "update the connector"
            # Any 2xx is success; the answer's body is unconfirmed (connector, empty or 204).
            remote = await api.update_connector(env, item.connector_id, body)
            outcome.connector_id = item.connector_id
        await record(remote)  # it exists: remembered before anything else can fail
        doing = "read the connector back"
        progress(payload.key, "reading back the redirect URL")
        stored: RemoteConnector | None = remote
        try:
            stored = await api.get_connector(env, outcome.connector_id) or remote
        except ClmWizardError:
            stored = remote  # the read-back is a courtesy; the connector exists
        outcome.redirect_url = stored.redirect_url if stored else None
        if outcome.redirect_url is None:
            outcome.redirect_hint = PORTAL_REDIRECT_HINT
        await record(stored)
        progress(payload.key, "done")
    except ClmWizardError as error:
        code = error.code or ""
        if outcome.uncertain and code.startswith("http_"):
            outcome.uncertain = code.startswith("http_5")  # 4xx: refused, not made
        outcome.error = error
        progress(payload.key, f"failed: {error.what}")
    except Exception as error:  # a garbled answer must not lose the record of the others
        outcome.error = _unexpected(error, doing)
        progress(payload.key, f"failed: {outcome.error.what}")
    return outcome


async def _recover_uncertain(
    api: PowerAppsApi,
    plan: PublishPlan,
    outcomes: list[ConnectorOutcome],
    remember: Callable[[PublishedConnector], Awaitable[None]],
    fingerprint: str,
) -> None:
    """A create whose answer was lost may have made the connector: find it by its name (the
    plan found none of that name, and the connector lock keeps other runs of this profile out)
    and record it."""
    uncertain = [o for o in outcomes if o.uncertain and o.connector_id is None]
    if not uncertain:
        return
    try:
        existing = await api.list_connectors(plan.environment_id)
    except Exception:
        return  # the summary says they may exist
    for outcome in uncertain:
        same = [c for c in existing if c.display_name == outcome.display_name]
        if not same:
            outcome.uncertain = False  # the whole list shows it was not made
        if len(same) != 1:
            continue
        outcome.connector_id = same[0].connector_id
        outcome.redirect_url = same[0].redirect_url
        outcome.uncertain = False
        await remember(
            PublishedConnector(
                key=outcome.key,
                connector_id=same[0].connector_id,
                display_name=outcome.display_name,
                secret_fingerprint=fingerprint,
                redirect_url=same[0].redirect_url,
                updated_at=datetime.now(UTC),
            )
        )


async def execute_plan(
    plan: PublishPlan,
    api: PowerAppsApi,
    profile: Profile,
    settings: MicrosoftSettings,
    client_secret: str,
    *,
    save: Callable[[Callable[[Profile], None]], Awaitable[object]],
    adopt: AdoptQuestion,
    progress: Progress = lambda key, what: None,
) -> PublishResult:
    """Publish every planned connector concurrently. `save(change)` applies a profile change
    durably (ProfileStore.update in a thread); each connector is remembered as soon as it
    exists, so a crash or a failure never loses track of one."""
    fingerprint = secret_fingerprint(profile.integration_key, client_secret)
    template = PublishRecord(
        environment_id=plan.environment_id,
        layout=plan.layout,
        power_apps_url=settings.power_apps_url,
        authority=settings.authority,
        tenant=settings.tenant,
        client_id=settings.client_id,
        flow_url=settings.flow_url,
    )
    result = PublishResult(plan.environment_id)
    lock = asyncio.Lock()

    async def remember(connector: PublishedConnector) -> None:
        async with lock:  # one profile write at a time
            try:
                await save(remember_connector(template, connector))
            except ClmWizardError as error:
                result.record_error = error

    outcomes = await asyncio.gather(
        *(
            _publish_one(api, plan, item, client_secret, adopt, progress, remember, fingerprint)
            for item in plan.connectors
        )
    )
    result.outcomes = list(outcomes)
    await _recover_uncertain(api, plan, result.outcomes, remember, fingerprint)
    return result


def _replanned(plan: PublishPlan, profile: Profile) -> PublishPlan:
    """The plan with what another run of this profile recorded meanwhile: a connector planned
    as a create (or adoption) that the profile now records is updated instead."""
    record = find_record(profile, plan.environment_id)
    recorded = {c.key: c for c in record.connectors} if record else {}
    items = []
    for item in plan.connectors:
        mine = recorded.get(item.key)
        if item.action != "update" and mine is not None:
            item = PlannedConnector(
                item.payload, "update", mine.connector_id, "published meanwhile by this profile"
            )
        items.append(item)
    return PublishPlan(plan.profile, plan.environment_id, plan.layout, tuple(items), plan.leftover)


async def publish(
    plan: PublishPlan,
    api: PowerAppsApi,
    profiles: ProfileStore,
    settings: MicrosoftSettings,
    client_secret: str,
    *,
    adopt: AdoptQuestion,
    progress: Progress = lambda key, what: None,
) -> PublishResult:
    """`execute_plan` under the profile's connector lock (one publish or rotation per profile at
    a time, naming the holder to whoever waits), with the plan brought up to date with what
    the profile records once the lock is held: two runs never create the same connector."""
    name = plan.profile
    lock = profiles.connector_lock(name, f"clmwizard publish --profile {name}")
    async with held_in_thread(lock):
        profile = await asyncio.to_thread(profiles.load, name)

        async def save(change: Callable[[Profile], None]) -> object:
            return await asyncio.to_thread(profiles.update, name, change)

        return await execute_plan(
            _replanned(plan, profile),
            api,
            profile,
            settings,
            client_secret,
            save=save,
            adopt=adopt,
            progress=progress,
        )


def describe_plan(plan: PublishPlan) -> list[str]:
    lines = [f"Environment {plan.environment_id}, layout {plan.layout}:"]
    for item in plan.connectors:
        verb = {"create": "create", "update": f"update {item.connector_id}", "adopt": "adopt?"}[
            item.action
        ]
        lines.append(f"  {item.payload.display_name} ({item.key}): {verb} — {item.reason}")
    for connector in plan.leftover:
        lines.append(
            f"  {connector.display_name} ({connector.connector_id}): left as is — published "
            "earlier in another layout; delete it in the portal when no flow uses it"
        )
    return lines


def summarise(result: PublishResult) -> list[str]:
    """Which connectors exist now, and what failed: nothing half-published goes unreported."""
    lines = []
    for outcome in result.outcomes:
        name = f"{outcome.display_name} ({outcome.key})"
        if outcome.error is not None and outcome.exists:
            lines.append(f"✗ {name}: exists ({outcome.connector_id}), but: {outcome.error.what}")
        elif outcome.error is not None and outcome.uncertain:
            lines.append(
                f"? {name}: MAY exist (its answer was lost): {outcome.error.what} The next "
                "publish finds it by name and offers to adopt it."
            )
        elif outcome.error is not None:
            lines.append(f"✗ {name}: NOT published: {outcome.error.what}")
        elif outcome.skipped:
            lines.append(f"- {name}: not published: {outcome.skipped}")
        else:
            lines.append(f"✓ {name}: {outcome.connector_id}")
        errors = outcome.error is not None and outcome.error.code == "swagger_invalid"
        for finding in outcome.findings:
            if finding.level != "error" or errors:
                lines.append(f"    validation {finding.level}: {finding.text}")
    return lines
