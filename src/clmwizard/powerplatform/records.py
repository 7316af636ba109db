"""What a profile remembers about its published connectors, and which secret each carries."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from clmwizard.store.profile import Profile, PublishedConnector, PublishRecord

FINGERPRINT_CHARS = 16


def secret_fingerprint(integration_key: str, secret: str) -> str:
    """Tells secret keys apart without revealing them: a salted SHA-256, truncated to 64 bits
    (a secret key is a random GUID: 122 bits no one can search through)."""
    digest = hashlib.sha256(f"clmwizard-connector-secret\0{integration_key}\0{secret}".encode())
    return digest.hexdigest()[:FINGERPRINT_CHARS]


def find_record(profile: Profile, environment_id: str) -> PublishRecord | None:
    for record in profile.publications:
        if record.environment_id == environment_id:
            return record
    return None


def stale_connectors(
    profile: Profile, fingerprint: str
) -> list[tuple[PublishRecord, PublishedConnector]]:
    """Every published connector that does not carry the secret with `fingerprint`."""
    return [
        (record, connector)
        for record in profile.publications
        for connector in record.connectors
        if connector.secret_fingerprint != fingerprint
    ]


def remember_connector(
    template: PublishRecord, connector: PublishedConnector
) -> Callable[[Profile], None]:
    """A profile change (for ProfileStore.update): record `connector` under the environment of
    `template`, replacing an entry with the same key or id."""

    def change(profile: Profile) -> None:
        record = find_record(profile, template.environment_id)
        if record is None:
            record = replace(template, connectors=[], at=None, heartbeat=None)
            profile.publications.append(record)
        if record.layout != template.layout:
            # A layout change: the old connectors stay listed (they still exist) until replaced.
            record.layout = template.layout
        record.power_apps_url = template.power_apps_url
        record.authority, record.tenant = template.authority, template.tenant
        record.client_id = template.client_id
        record.flow_url = template.flow_url or record.flow_url
        for kept in record.connectors:  # a republished connector keeps its connection
            if kept.connector_id != connector.connector_id:
                continue
            if connector.connection_name is None:
                connector.connection_name = kept.connection_name
            if kept.secret_fingerprint != connector.secret_fingerprint:
                # A new secret over an older one: the old one is needed until a run proves it.
                record.secret_rotated_at = connector.updated_at or datetime.now(UTC)
                record.rotation_proven_at = None
        record.connectors = [
            kept
            for kept in record.connectors
            if kept.connector_id != connector.connector_id and kept.key != connector.key
        ] + [connector]
        record.at = datetime.now(UTC)

    return change
