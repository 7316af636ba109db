"""The start screen's line: a profile's last known health from what it remembers (no network),
with the age of that knowledge; the grant has its own column and is left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clmwizard.powerplatform.last_known import age, last_known
from clmwizard.store.profile import HeartbeatRecord
from tests.powerplatform.fake_flows import record
from tests.support.connector_profiles import make_profile

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def profile_with(heartbeat: HeartbeatRecord | None, *, connection: str | None = "conn1"):  # type: ignore[no-untyped-def]
    rec = record("single", connection_name=connection)
    rec.at = NOW - timedelta(days=2)
    rec.heartbeat = heartbeat
    return make_profile(
        publications=[rec],
        refresh_token_expires_at=NOW - timedelta(days=1),  # grant dead
    )


async def test_a_succeeded_run_is_ok_with_what_clm_answered_and_its_age() -> None:
    beat = HeartbeatRecord(
        "flow1", "clm", "on", "1d", "Succeeded", NOW - timedelta(hours=3), "12 attribute groups"
    )
    known = await last_known(profile_with(beat), NOW)
    assert known is not None
    assert known.verdict == "ok"  # the dead clmwizard grant is the grant column's business
    assert known.what == "heartbeat run succeeded: 12 attribute groups"
    assert age(known.at, NOW) == "3 h ago"


async def test_a_failed_run_is_broken_with_its_words() -> None:
    beat = HeartbeatRecord(
        "flow1", "clm", "on", "1d", "Failed", NOW - timedelta(days=3), "DocuSign refused it"
    )
    known = await last_known(profile_with(beat), NOW)
    assert known is not None and known.verdict == "broken"
    assert "failed" in known.what and "DocuSign refused it" in known.what
    assert "clmwizard heartbeat" in known.todo
    assert age(known.at, NOW) == "3 d ago"


async def test_no_connection_yet_says_what_to_do_aged_from_the_publication() -> None:
    known = await last_known(profile_with(None, connection=None), NOW)
    assert known is not None and known.verdict == "attention"
    assert "has no connection" in known.what and "clmwizard connect" in known.todo
    assert age(known.at, NOW) == "2 d ago"


async def test_a_profile_without_connectors_has_no_line() -> None:
    assert await last_known(make_profile(), NOW) is None


def test_ages() -> None:
    assert age(None, NOW) == "age unknown"
    assert age(NOW - timedelta(seconds=5), NOW) == "just now"
    assert age(NOW - timedelta(minutes=7), NOW) == "7 min ago"
    assert age(NOW + timedelta(minutes=7), NOW) == "just now"  # a clock ahead
