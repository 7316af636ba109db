"""After a proven rotation: give every connector this profile published the new secret key.

Called after `clmwizard.docusign.session.rotate_secret` succeeded (and again by any rerun):
each connector that does not carry the stored secret (its fingerprint differs) is updated
with a PATCH, one after the other, and recorded as soon as it carries the new one, so a crash
or a failure between connectors leaves a state the next `rotate` or `publish` finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from clmwizard.connector.bundle import Layout
from clmwizard.connector.readme import SINGLE_FOLDER as SINGLE_KEY
from clmwizard.errors import ClmWizardError
from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.flows import FlowApi
from clmwizard.powerplatform.publish import connector_payloads, request_body
from clmwizard.powerplatform.records import remember_connector, secret_fingerprint, stale_connectors
from clmwizard.store.locking import held_in_thread
from clmwizard.store.profile import Profile, PublishedConnector, PublishRecord
from clmwizard.store.profiles import ProfileStore

ApiFor = Callable[[PublishRecord], Awaitable[PowerAppsApi | None]]


@dataclass
class ConnectorToUpdate:
    record: PublishRecord
    connector: PublishedConnector
    error: ClmWizardError | None = None

    def manual_steps(self, profile: str) -> list[str]:
        c, r = self.connector, self.record
        return [
            f"{c.display_name} ({c.connector_id}, environment {r.environment_id}):",
            "  in the portal: make.powerautomate.com → Data → Custom connectors → "
            f"{c.display_name} → Edit → Security → Client secret: paste the new secret key "
            "→ Update connector;",
            f"  or: {publish_command(profile, r)}  (signs in and updates it);",
            f"  or with paconn: paconn update --env {r.environment_id} --cid {c.connector_id} "
            "--api-prop apiProperties.json --api-def apiDefinition.swagger.json --secret "
            '"$SECRET"  (from the exported bundle; paconn shows the secret in the process list)',
        ]


def publish_command(profile: str, record: PublishRecord) -> str:
    """`clmwizard publish` for the record's environment with the Microsoft settings it was
    published with (authority, tenant, client id, Power Apps API), so it signs in the same way."""
    from clmwizard.powerplatform.settings import (
        DEFAULT_AUTHORITY,
        DEFAULT_CLIENT_ID,
        DEFAULT_POWER_APPS_URL,
        DEFAULT_TENANT,
    )

    parts = [
        f"clmwizard publish --profile {profile} --environment {record.environment_id}",
        f"--layout {record.layout}",
    ]
    if record.authority and record.authority.rstrip("/") != DEFAULT_AUTHORITY.rstrip("/"):
        parts.append(f"--authority {record.authority}")
    if record.tenant and record.tenant != DEFAULT_TENANT:
        parts.append(f"--tenant {record.tenant}")
    if record.client_id and record.client_id != DEFAULT_CLIENT_ID:
        # Not the public client: an app registration of the tenant, often a service
        # principal's (its secret then from CLMWIZARD_MS_CLIENT_SECRET, never argv).
        parts.append(f"--client-id {record.client_id}")
        parts.append("[--service-principal]")
    if record.power_apps_url and record.power_apps_url.rstrip("/") != DEFAULT_POWER_APPS_URL:
        parts.append(f"--power-apps-url {record.power_apps_url}")
    return " ".join(parts)


@dataclass
class SecretUpdateReport:
    updated: list[PublishedConnector] = field(default_factory=list)
    remaining: list[ConnectorToUpdate] = field(default_factory=list)  # failed or no sign-in

    @property
    def complete(self) -> bool:
        return not self.remaining


def connectors_to_update(profile: Profile, secret: str) -> list[ConnectorToUpdate]:
    fingerprint = secret_fingerprint(profile.integration_key, secret)
    return [ConnectorToUpdate(r, c) for r, c in stale_connectors(profile, fingerprint)]


async def update_connector_secrets(
    profile_name: str,
    profiles: ProfileStore,
    secret: str,
    api_for: ApiFor,
    *,
    progress: Callable[[str], None] = lambda text: None,
) -> SecretUpdateReport:
    """PATCH the new secret into every connector still on an older one; `api_for(record)`
    signs in for that record's environment (None when no sign-in is possible). Under the
    profile's connector lock: never beside a publish of the same profile."""
    lock = profiles.connector_lock(profile_name, f"clmwizard rotate --profile {profile_name}")
    async with held_in_thread(lock):
        return await _update_secrets(profile_name, profiles, secret, api_for, progress)


async def _update_secrets(
    profile_name: str,
    profiles: ProfileStore,
    secret: str,
    api_for: ApiFor,
    progress: Callable[[str], None],
) -> SecretUpdateReport:
    profile = await asyncio.to_thread(profiles.load, profile_name)
    report = SecretUpdateReport()
    fingerprint = secret_fingerprint(profile.integration_key, secret)
    apis: dict[str, PowerAppsApi | None] = {}
    for todo in connectors_to_update(profile, secret):
        record, connector = todo.record, todo.connector
        if record.environment_id not in apis:
            apis[record.environment_id] = await api_for(record)
        api = apis[record.environment_id]
        if api is None:
            report.remaining.append(todo)
            continue
        try:
            # By the connector's own layout: after a layout change the record still lists the
            # connectors of the old one (they exist until deleted in the portal).
            layout: Layout = "single" if connector.key == SINGLE_KEY else "three"
            payload = {p.key: p for p in connector_payloads(profile, layout)}.get(connector.key)
            if payload is None:
                raise ClmWizardError(
                    f"clmwizard no longer builds the connector {connector.key}.",
                    fix="Update it in the portal as below.",
                    code="unknown_connector_key",
                )
            progress(f"updating {connector.display_name} ({connector.connector_id})")
            env = record.environment_id
            sas = await api.generate_storage(env)
            icon_uri = await api.upload_icon(sas, f"{payload.key}-icon.png", payload.icon)
            body = request_body(payload, env, secret, icon_uri, create=False)
            await api.update_connector(env, connector.connector_id, body)
            done = replace(connector, secret_fingerprint=fingerprint, updated_at=datetime.now(UTC))
            await asyncio.to_thread(profiles.update, profile_name, remember_connector(record, done))
            report.updated.append(done)
            progress(f"updated {connector.display_name}")
        except ClmWizardError as error:
            todo.error = error
            report.remaining.append(todo)
    return report


@dataclass(frozen=True)
class HeartbeatProof:
    environment_id: str
    succeeded: bool
    result: str  # what CLM answered, or why the run failed, in words


async def prove_with_heartbeat(
    api: FlowApi, profile: Profile, record: PublishRecord, *, poll: float, timeout: float = 300.0
) -> HeartbeatProof:
    """Run the record's heartbeat flow once, right after its connectors got the new secret.

    A success shows the connection and the updated connectors still work. It does NOT prove the
    new secret: the connection refreshes its DocuSign grant (sending the connector's client
    secret) only when its access token has run out, and one obtained with the old secret lives
    up to 8 hours. Only a run that succeeds after `rotation_proof.proof_due(record)` proves it;
    until then the old secret must stay at DocuSign (`clmwizard status` watches for that run)."""
    from clmwizard.powerplatform.heartbeat import describe_result, heartbeat_target, run_and_wait

    assert record.heartbeat is not None
    target = heartbeat_target(profile, record.environment_id)
    run, actions = await run_and_wait(
        api, record.environment_id, record.heartbeat.flow_id, timeout=timeout, poll=poll
    )
    words = describe_result(run, actions, target, profile.name)
    return HeartbeatProof(record.environment_id, run.status == "Succeeded", words)
