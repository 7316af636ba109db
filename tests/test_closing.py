"""The closing summary: what exists and the steps left by hand; printed once the wizard ends."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clmwizard.closing import closing_summary
from clmwizard.store.profile import (
    ExportRecord,
    HeartbeatRecord,
    Profile,
    PublishedConnector,
)
from tests.support.records import publish_record
from tests.support.store_fixtures import make_profile
from tests.support.terminal import PtyProcess

pytestmark = pytest.mark.timeout(300)
REDIRECT = "https://global.consent.azure-apim.net/redirect/docusign-clm-5f1e"


def published_profile() -> Profile:
    profile = make_profile("acme")
    profile.exports.append(ExportRecord("/tmp/bundle", "single", datetime(2026, 12, 7, tzinfo=UTC)))
    profile.publications.append(
        publish_record(
            PublishedConnector("clm", "shared_docusign-clm-5f1e", "DocuSign CLM", "fp", REDIRECT)
        )
    )
    return profile


def test_a_published_profile_lists_its_connector_and_the_redirect_url_on_its_own_line() -> None:
    profile = published_profile()
    text = closing_summary(profile)
    assert "Bundle       /tmp/bundle (single layout, 2026-12-07 00:00 UTC)" in text
    assert "id shared_docusign-clm-5f1e" in text
    assert f"\n{REDIRECT}\n" in text  # unwrapped, selectable whole
    assert "DocuSign: not asked in this run" in text
    assert "1. Register this redirect URL, unless done already — DocuSign: Settings → Apps" in text
    refused = closing_summary(profile, {REDIRECT: "✗ DocuSign says it is NOT registered"})
    assert "DocuSign: ✗ DocuSign says it is NOT registered" in refused
    assert "1. Register this redirect URL (DocuSign says it is not registered)" in refused
    assert "2. Create the connection — this terminal: `clmwizard connect --profile acme`" in refused
    assert (
        "3. Test it and keep it alive — this terminal: `clmwizard heartbeat --profile acme`"
        in refused
    )
    assert "4. Check it at any time (or from cron) — this terminal: `clmwizard status" in refused


def test_a_connected_profile_with_its_heartbeat_on_is_left_only_the_checks() -> None:
    profile = published_profile()
    profile.publications[0].connectors[0].connection_name = "a0b19e2b"
    text = closing_summary(profile)
    assert "clmwizard connect" not in text
    assert "2. Test it and keep it alive — this terminal: `clmwizard heartbeat" in text
    profile.publications[0].heartbeat = HeartbeatRecord("flow-1", "clm", "on", "1d")
    text = closing_summary(profile)
    assert "clmwizard heartbeat" not in text
    assert "2. Check it at any time (or from cron) — this terminal: `clmwizard status" in text


def test_connected_and_a_succeeded_heartbeat_leave_nothing_by_hand() -> None:
    profile = published_profile()
    record = profile.publications[0]
    record.connectors[0].connection_name = "conn-1"
    text = closing_summary(profile)
    assert "connection conn-1" in text
    assert "clmwizard connect" not in text  # connected
    assert "Test it and keep it alive — this terminal: `clmwizard heartbeat" in text
    when = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    record.heartbeat = HeartbeatRecord(
        "flow-1", "clm", "on", "1d", "Succeeded", when, "2 attribute groups"
    )
    text = closing_summary(profile)
    assert (
        "Heartbeat    flow flow-1, on, every 1d; last run succeeded: 2 attribute groups "
        "(2026-12-07 09:30 UTC)" in text
    )
    assert "Register this redirect URL" not in text  # the run came through it
    assert "Create the connection" not in text and "keep it alive" not in text
    assert "1. Check it at any time (or from cron) — this terminal: `clmwizard status" in text
    record.heartbeat.last_run_status = "Failed"  # status says what failed
    text = closing_summary(profile)
    assert "1. Register this redirect URL, unless done already" in text
    assert "2. Check it at any time" in text


def test_a_proven_redirect_url_no_longer_shows_the_pre_sign_in_verdict() -> None:
    """Before a sign-in DocuSign can only tell a URL is NOT registered; once a connection's
    sign-in or a heartbeat run came back through it, the summary says proven."""
    from clmwizard.closing import PROVEN_BY_CONNECT
    from clmwizard.powerplatform.redirect import UNKNOWN_LINE

    profile = published_profile()
    record = profile.publications[0]
    unknown = {REDIRECT: f"? {UNKNOWN_LINE}"}
    assert "could not tell before sign-in" in closing_summary(profile, unknown)
    connected = closing_summary(profile, {REDIRECT: PROVEN_BY_CONNECT})
    assert "DocuSign: ✓ proven: the connection's DocuSign sign-in came back to it" in connected
    assert "Register this redirect URL" not in connected
    record.connectors[0].connection_name = "conn-1"
    when = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    record.heartbeat = HeartbeatRecord("flow-1", "clm", "on", "1d", "Succeeded", when, "2 groups")
    beat = closing_summary(profile, unknown)
    assert (
        "DocuSign: ✓ proven: the heartbeat run signed in to DocuSign through it "
        "(2026-12-07 09:30 UTC)" in beat
    )
    assert "could not tell" not in beat and "Register this redirect URL" not in beat


def test_nothing_published_says_how_to_publish() -> None:
    text = closing_summary(make_profile("acme"))
    assert "Connectors   none published" in text
    assert "1. Create the connector — this terminal: `clmwizard publish --profile acme`" in text


def test_the_wizard_prints_the_summary_after_its_screen_is_gone(tmp_path: Path) -> None:
    """The demo in a pseudo-terminal: sign in, save, ctrl+q; the summary follows the screen."""
    env = {**os.environ, "CLMWIZARD_CONFIG_DIR": str(tmp_path / "c")}
    env.pop("CLMWIZARD_SECRET_KEY", None)
    with PtyProcess([sys.executable, "-m", "clmwizard", "--demo"], env=env, cwd=tmp_path) as child:
        for marker, keys in [
            ("quit", "\r"),  # start: a new demo profile
            ("Integration key", "\r"),
            ("Scopes", "\r"),
            ("listening on", "a"),  # approve as the demo user
            ("Tokens received", "\r"),
            ("CLM answered", "\r"),  # save the profile
            ("copy", "\x11"),  # Fields: ctrl+q
        ]:
            child.wait_for_text(marker, timeout=60)
            time.sleep(0.7)  # the screen settles; keys during a screen change may be dropped
            child.press(keys)
        assert child.finish() == 0
    text = child.text()
    gone = text.rfind("\x1b[?1049l")  # the wizard's screen is gone (alternate screen left)
    assert gone > 0
    summary = text[gone:]
    assert "clmwizard: where profile demo stands" in summary
    assert "Connectors   none published" in summary
    assert "Left to do by hand" in summary and "1. Create the connector" in summary
    assert "secret" not in summary.lower().replace("secrets      in memory", "")
