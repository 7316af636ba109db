"""When the old DocuSign secret key may go after a rotation.

A Power Platform connection holds a DocuSign access token and refreshes its grant — the only
moment it sends the connector's client secret — when that token has run out (what OAuth clients
do; when exactly Power Platform refreshes is not documented: unconfirmed). DocuSign's access
tokens live 8 hours (`expires_in: 28800`). So a run right after the connectors got the new
secret may still use a token the old secret obtained and proves nothing about the new one; a run
that succeeds more than 8 hours after the last connector got it went through a grant refreshed
with it (or a sign-in made with it). Until then the old secret must stay at DocuSign.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from clmwizard.store.profile import Profile, PublishRecord

# DocuSign's `expires_in: 28800` (docusign.oauth.DEFAULT_ACCESS_LIFETIME, not imported: httpx)
ACCESS_TOKEN_LIFETIME = timedelta(hours=8)
# Where the user deletes a secret key (the README's and the docusign errors' wording).
DELETE_OLD_SECRET = "Settings → Apps and Keys → your app → Secret Keys"


def proof_due(record: PublishRecord) -> datetime | None:
    """The time after which a succeeded run proves the new secret (None: no rotation here)."""
    if record.secret_rotated_at is None:
        return None
    return record.secret_rotated_at + ACCESS_TOKEN_LIFETIME


def pending(record: PublishRecord) -> bool:
    """The connectors here got a new secret that no late enough run has proven yet."""
    return record.secret_rotated_at is not None and record.rotation_proven_at is None


def proving_run(
    record: PublishRecord, runs: Iterable[tuple[str, datetime | None]]
) -> datetime | None:
    """The start of the first succeeded run (status, start) that proves the pending rotation."""
    due = proof_due(record)
    if due is None or not pending(record):
        return None
    starts = [start for status, start in runs if status == "Succeeded" and start and start > due]
    return min(starts, default=None)


def note_proof(environment_id: str, run_start: datetime) -> Callable[[Profile], None]:
    """A profile change (ProfileStore.update): the run starting at `run_start` proved the
    rotation in `environment_id` (ignored when it no longer does: a newer rotation)."""

    def change(profile: Profile) -> None:
        for record in profile.publications:
            if record.environment_id == environment_id and proving_run(
                record, [("Succeeded", run_start)]
            ):
                record.rotation_proven_at = run_start

    return change


def local_time(value: datetime) -> str:
    """A time in the user's own time zone, e.g. "2026-12-07 17:05 CET"."""
    local = value.astimezone()
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def keep_old_secret(due: datetime) -> str:
    return (
        f"Keep the old secret key at DocuSign until a heartbeat run after {local_time(due)} "
        "succeeds: a run before then may still use an access token the old secret obtained "
        "(they live 8 hours), so it proves nothing about the new one."
    )


def delete_old_secret() -> str:
    return f"The new secret is proven; delete the old one at DocuSign ({DELETE_OLD_SECRET})."


def pending_records(profile: Profile) -> list[PublishRecord]:
    return [record for record in profile.publications if pending(record)]


def latest_due(profile: Profile) -> datetime | None:
    """The latest time after which a run proves every pending rotation of the profile."""
    dues = [proof_due(record) for record in pending_records(profile)]
    return max((due for due in dues if due is not None), default=None)
