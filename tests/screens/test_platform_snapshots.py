"""SVG snapshots of the Connect and Heartbeat steps at 120×36 and 80×24: waiting for the DocuSign
sign-in (the consent link on a line of its own), connected, the heartbeat's test run with what CLM
answered, and one failure each.

The states are reached as a user reaches them: the demo tour against the emulator over real
sockets. What is live there (the emulator's ports, ids, random link parameters) is masked on the
screen before the picture, in order of appearance, and the wait line's spinner and clock are
fixed, so the pictures change only when the screens do. Update with
`scripts/test tests/screens/test_platform_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.screens import platform_step
from clmwizard.screens.heartbeat import HeartbeatScreen
from clmwizard.wait_clock import clock
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.url_line import UrlLine
from tests.support.demo_tour import connect, to_connect
from tests.support.pilot import until

SIZES = pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
HOURS_9 = 9 * 3600

PORT = re.compile(r"(?<=127\.0\.0\.1:)\d{2,5}|(?<=localhost:)\d{2,5}")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HEX = re.compile(r"(?<![0-9A-Za-z])(?!5f)[0-9a-f]{16,}(?![0-9A-Za-z])")
SUFFIX = re.compile(r"(?<=-5f)[0-9a-f]{18}")  # the tail of a connector id (random per publish)
TOKEN = re.compile(r"(?<=[=])(?!00000000-0000-4000-8000-)[A-Za-z0-9_\-~.%]{16,}(?=&|$|\s)")


class Masker:
    """Live values to fixed stand-ins, the same stand-in for the same value on one screen."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def _stand_in(self, kind: str, value: str, make: Callable[[int], str]) -> str:
        key = f"{kind}:{value}"
        if key not in self.seen:
            self.seen[key] = make(sum(1 for k in self.seen if k.startswith(kind + ":")) + 1)
        return self.seen[key]

    def __call__(self, text: str) -> str:
        text = PORT.sub(
            lambda m: self._stand_in("port", m.group(0), lambda n: str(40000 + n)), text
        )
        text = GUID.sub(
            lambda m: self._stand_in(
                "guid", m.group(0), lambda n: f"00000000-0000-4000-8000-{n:012d}"
            ),
            text,
        )
        text = SUFFIX.sub(lambda m: "0" * len(m.group(0)), text)
        text = HEX.sub(lambda m: "0" * len(m.group(0)), text)
        return TOKEN.sub(lambda m: "x" * len(m.group(0)), text)


def mask(app: ClmWizardApp) -> None:
    """Every live value the screen shows, masked where it is shown (never in what a key copies)."""
    masked = Masker()
    for line in app.screen.query(UrlLine):
        line.show(masked(line.url))
    for widget in app.screen.query(Static):
        if isinstance(widget, FieldMessage):
            if widget.text:
                kind = next((k for k in ("-error", "-warning", "-ok") if widget.has_class(k)), "")
                widget._show(masked(widget.text), kind)
        elif isinstance(widget.content, str) and widget.content:
            widget.update(masked(widget.content))


@pytest.fixture
def fixed_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wait line's spinner and clock as in the first second of every wait."""
    monkeypatch.setattr(platform_step, "SPINNER", "⠿")
    monkeypatch.setattr(platform_step, "clock", lambda seconds: clock(seconds // 30 * 30))


Before = Callable[[Pilot[None], ClmWizardApp, Emulator], Awaitable[None]]


def snapshot(
    snap_compare: Any, context: WizardContext, emu: Emulator, size: tuple[int, int], to: Before
) -> bool:
    app = ClmWizardApp(context)

    async def run_before(pilot: Pilot[None]) -> None:
        await to(pilot, app, emu)
        app.clear_notifications()  # an earlier step's toast lasts seconds: when it ends varies
        await pilot.pause()
        mask(app)
        await pilot.pause()

    return bool(snap_compare(app, terminal_size=size, run_before=run_before))


async def waiting(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> None:
    screen = await to_connect(pilot, app, emu, "single")
    await until(pilot, lambda: screen.phase == "waiting", timeout=20)


async def connected(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> None:
    screen = await to_connect(pilot, app, emu, "single")
    await connect(pilot, app, screen)


async def secret_refused(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> None:
    screen = await to_connect(pilot, app, emu, "single")
    await until(pilot, lambda: screen.phase == "waiting", timeout=20)
    emu.revoke_secret("secret_key")  # deleted at DocuSign; the connector still carries it
    await pilot.press("a")
    await until(pilot, lambda: screen.phase == "failed", timeout=20)


async def heartbeat_done(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> None:
    await connected(pilot, app, emu)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HeartbeatScreen))
    beat = app.screen
    assert isinstance(beat, HeartbeatScreen)
    await until(pilot, lambda: beat.phase == "done", timeout=30)
    assert beat.succeeded


async def grant_revoked(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> None:
    await heartbeat_done(pilot, app, emu)
    beat = app.screen
    assert isinstance(beat, HeartbeatScreen)
    emu.revoke_consent()
    emu.advance_clock(HOURS_9)  # the connection's access token ran out: the run refreshes it
    await pilot.press("r")
    await until(pilot, lambda: beat.phase == "done" and not beat.succeeded, timeout=30)


STATES = {
    "connect_waiting_for_the_sign_in": waiting,
    "connect_connected": connected,
    "connect_secret_refused": secret_refused,
    "heartbeat_succeeded": heartbeat_done,
    "heartbeat_run_failed_on_a_revoked_grant": grant_revoked,
}


@SIZES
@pytest.mark.parametrize("state", list(STATES))
def test_the_step_as_it_shows(
    snap_compare: Any,
    publish_context: WizardContext,
    emu: Emulator,
    fixed_wait: None,
    state: str,
    size: tuple[int, int],
) -> None:
    assert snapshot(snap_compare, publish_context, emu, size, STATES[state])


def test_the_masks_hide_what_changes_between_runs() -> None:
    masked = Masker()
    link = (
        "https://127.0.0.1:51234/consent?connection=3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"
        "&state=AbC_dEf-123456789012345&redirect=https://127.0.0.1:40999/return"
    )
    assert masked(link) == (
        "https://127.0.0.1:40001/consent?connection=00000000-0000-4000-8000-000000000001"
        "&state=xxxxxxxxxxxxxxxxxxxxxxx&redirect=https://127.0.0.1:40002/return"
    )
    assert masked("127.0.0.1:51234") == "127.0.0.1:40001"  # the same value, the same stand-in
    assert masked("shared_docusign-20clm-5f0123456789abcdef01") == (
        "shared_docusign-20clm-5f000000000000000000"
    )
    assert masked("CLM answered 12 attribute groups.") == "CLM answered 12 attribute groups."


def test_every_stored_snapshot_belongs_to_a_test_here() -> None:
    stored = Path(__file__).parent / "__snapshots__" / Path(__file__).stem
    tests = {name for name in globals() if name.startswith("test_")}
    orphans = [svg.name for svg in stored.glob("*.svg") if svg.stem.split("[")[0] not in tests]
    assert orphans == []
