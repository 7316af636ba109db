"""Plan and publish a profile's connectors: build each payload from the bundle, create or
update (concurrently), remember what exists, read back the redirect URLs.

A screen or the CLI calls `connector_payloads`, `plan_publish`, `execute_plan` and shows the
progress callbacks' words; nothing here prints.
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
from clmwizard.errors import ClmWizardError
from clmwizard.powerplatform.api import PowerAppsApi, RemoteConnector
from clmwizard.powerplatform.records import find_record, remember_connector, secret_fingerprint
from clmwizard.powerplatform.settings import MicrosoftSettings
from clmwizard.redact import register_secret
from clmwizard.store.profile import Profile, PublishedConnector, PublishRecord

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


async def plan_publish(
    api: PowerAppsApi, profile: Profile, environment_id: str, layout: Layout
) -> PublishPlan:
    """Update what this profile published here, offer adoption of a same-named connector, and
    create the rest. Reads only."""
    payloads = connector_payloads(profile, layout)
    existing = await api.list_connectors(environment_id)
    by_id = {connector.connector_id: connector for connector in existing}
    record = find_record(profile, environment_id)
    recorded = {c.key: c for c in record.connectors} if record else {}
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
        problems = await api.validate_swagger(payload.swagger)
        if problems:
            listing = "; ".join(problems[:10])
            raise ClmWizardError(
                f"The Power Apps API rejected the definition of {payload.display_name}.",
                cause=f"Its validation said: {listing}"
                + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""),
                fix="This is a bug in clmwizard's connector definition; please report it with "
                "the lines above. Nothing was created for this connector.",
                code="swagger_invalid",
            )
        progress(payload.key, "uploading the icon")
        sas = await api.generate_storage(env)
        icon_uri = await api.upload_icon(sas, f"{payload.key}-icon.png", payload.icon)
        create = item.action == "create"
        progress(payload.key, "creating" if create else f"updating {item.connector_id}")
        body = request_body(payload, env, client_secret, icon_uri, create=create)
        if create:
            remote = await api.create_connector(env, body)
        else:
            assert item.connector_id is not None
            remote = await api.update_connector(env, item.connector_id, body)
        outcome.connector_id = remote.connector_id
        progress(payload.key, "reading back the redirect URL")
        stored: RemoteConnector | None = remote
        try:
            stored = await api.get_connector(env, remote.connector_id) or remote
        except ClmWizardError:
            stored = remote  # the read-back is a courtesy; the connector exists
        outcome.redirect_url = stored.redirect_url
        if stored.redirect_url is None:
            outcome.redirect_hint = PORTAL_REDIRECT_HINT
        await remember(
            PublishedConnector(
                key=payload.key,
                connector_id=remote.connector_id,
                display_name=payload.display_name,
                secret_fingerprint=fingerprint,
                redirect_url=stored.redirect_url,
                updated_at=datetime.now(UTC),
            )
        )
        progress(payload.key, "done")
    except ClmWizardError as error:
        outcome.error = error
        progress(payload.key, f"failed: {error.what}")
    return outcome


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
    return result


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
        if outcome.error is not None:
            state = "NOT published" if not outcome.exists else "exists, but"
            lines.append(f"✗ {outcome.display_name} ({outcome.key}): {state}: {outcome.error.what}")
        elif outcome.skipped:
            lines.append(
                f"- {outcome.display_name} ({outcome.key}): not published: {outcome.skipped}"
            )
        else:
            lines.append(f"✓ {outcome.display_name} ({outcome.key}): {outcome.connector_id}")
    return lines
