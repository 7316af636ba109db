"""Which heartbeat run proves a secret rotation: one that succeeded after the 8 hours an
access token the old secret obtained may still be used (DocuSign's `expires_in: 28800`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clmwizard.powerplatform.records import remember_connector
from clmwizard.powerplatform.rotation_proof import (
    keep_old_secret,
    note_proof,
    pending,
    proof_due,
    proving_run,
)
from clmwizard.store.profile import PublishedConnector, PublishRecord
from tests.support.records import PUBLIC_CLIENT, publish_record
from tests.support.store_fixtures import make_profile

T = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def record(**changes: object) -> PublishRecord:
    connector = PublishedConnector("clm", "shared_x", "DocuSign CLM work", "old" * 5 + "x")
    return publish_record(connector, environment_id="env-1", **PUBLIC_CLIENT, **changes)


def test_a_new_secret_over_an_older_one_starts_a_pending_rotation() -> None:
    profile = make_profile("work", publications=[record()])
    first = profile.publications[0]
    assert not pending(first) and proof_due(first) is None
    same = PublishedConnector("clm", "shared_x", "DocuSign CLM work", "old" * 5 + "x")
    remember_connector(first, same)(profile)  # a republish with the same secret: no rotation
    assert profile.publications[0].secret_rotated_at is None
    new = PublishedConnector("clm", "shared_x", "DocuSign CLM work", "new" * 5 + "x", updated_at=T)
    remember_connector(first, new)(profile)
    rotated = profile.publications[0]
    assert rotated.secret_rotated_at == T and pending(rotated)
    assert proof_due(rotated) == T + timedelta(hours=8)


def test_only_a_succeeded_run_after_the_8_hours_proves_it() -> None:
    rotated = record(secret_rotated_at=T)
    due = T + timedelta(hours=8)
    assert proving_run(rotated, [("Succeeded", T + timedelta(minutes=1))]) is None
    assert proving_run(rotated, [("Succeeded", due)]) is None
    assert proving_run(rotated, [("Failed", due + timedelta(hours=1))]) is None
    assert proving_run(rotated, [("Succeeded", None)]) is None
    later = due + timedelta(minutes=1)
    runs = [("Succeeded", later + timedelta(days=1)), ("Succeeded", later)]
    assert proving_run(rotated, runs) == later  # the first one


def test_a_proof_is_kept_and_a_newer_rotation_needs_its_own() -> None:
    profile = make_profile("work", publications=[record(secret_rotated_at=T)])
    proof = T + timedelta(hours=9)
    note_proof("env-1", proof)(profile)
    assert profile.publications[0].rotation_proven_at == proof
    assert not pending(profile.publications[0])
    again = PublishedConnector("clm", "shared_x", "DocuSign CLM work", "3rd" * 5 + "x")
    again.updated_at = T + timedelta(days=2)
    remember_connector(profile.publications[0], again)(profile)
    assert pending(profile.publications[0])
    note_proof("env-1", proof)(profile)  # the old run proves nothing about the newer secret
    assert profile.publications[0].rotation_proven_at is None


def test_the_advice_names_the_time_in_local_time() -> None:
    text = keep_old_secret(T + timedelta(hours=8))
    local = (T + timedelta(hours=8)).astimezone()
    assert f"a heartbeat run after {local:%Y-%m-%d %H:%M}" in text
