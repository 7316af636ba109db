"""The wizard's demo tour through the Power Platform steps, for the Pilot tests of Publish,
Connect, Heartbeat and rotation: `publish_context` (the demo context with the emulator's
Microsoft settings; the screens conftest provides it), the tour to the written bundle, publishing,
connecting, rotating with the demo's spare secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext, demo_microsoft
from clmwizard.emulator import Emulator
from clmwizard.screens.connect import ConnectScreen
from clmwizard.screens.consent import ConsentScreen
from clmwizard.screens.dialogs import ConfirmDialog, SecretPrompt
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.heartbeat import HeartbeatScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.publish import PublishScreen
from clmwizard.screens.rotation import RotationChecklist
from clmwizard.screens.start import StartScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import TextRadioButton
from tests.support.pilot import (
    consent_in_browser,
    make_app,
    message,
    tokens_done,
    until,
    until_workers_done,
)

SIZE = (120, 40)


async def to_key_screen(pilot: Pilot[None], app: ClmWizardApp) -> KeyScreen:
    """From the start screen to a new profile's Integration key step."""
    await until(pilot, lambda: isinstance(app.screen, StartScreen))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, KeyScreen))
    screen = app.screen
    assert isinstance(screen, KeyScreen)
    return screen


async def key_to_consent(pilot: Pilot[None], app: ClmWizardApp) -> ConsentScreen:
    """Accept the Integration key and Scopes steps as they are; arrive on Consent."""
    await pilot.press("enter", "enter")
    await until(pilot, lambda: isinstance(app.screen, ConsentScreen))
    screen = app.screen
    assert isinstance(screen, ConsentScreen)
    return screen


async def to_consent(pilot: Pilot[None], app: ClmWizardApp) -> ConsentScreen:
    """From the start screen to a new profile's Consent step."""
    await to_key_screen(pilot, app)
    return await key_to_consent(pilot, app)


async def complete_demo_sign_in(pilot: Pilot[None], app: ClmWizardApp) -> None:
    """The demo sign-in (the demo user approves with `a`) up to the Discovery step."""
    screen = await to_consent(pilot, app)
    await until(pilot, lambda: screen.state == "listening")
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))


@pytest.fixture
def publish_context(demo_context: WizardContext, emu: Emulator, tmp_path: Path) -> WizardContext:
    ca = tmp_path / "emulator-ca.pem"
    ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
    # The demo user approves each device code as Entra issues it (before MSAL's first poll, which
    # would otherwise wait a second); a test about the code on screen turns this off.
    emu.power_platform.set_policies(device_code_interval=0, auto_approve_device_codes=True)
    settings = demo_microsoft(emu, str(ca))
    demo_context.microsoft = lambda: settings
    return demo_context


@pytest.fixture
def codes_wait(publish_context: WizardContext, emu: Emulator) -> None:
    """The demo user enters each device code only after it shows (publish_context's approves
    it at once): for the tests about the code on screen, and the demo tour's `a`."""
    emu.power_platform.set_policies(auto_approve_device_codes=False)


def screen_text(app: ClmWizardApp) -> str:
    """Everything the current screen shows, as plain text."""
    from textual.widgets import Static

    parts = []
    for widget in app.screen.query(Static):
        if isinstance(widget, FieldMessage):
            parts.append(widget.text)
            continue
        content = widget.content
        parts.append(Text.from_markup(content).plain if isinstance(content, str) else str(content))
    return "\n".join(parts)


async def to_export(pilot: Pilot[None], app: ClmWizardApp, layout: str = "single") -> None:
    """The README's demo tour up to the written bundle."""
    await to_key_screen(pilot, app)
    await pilot.press("enter")
    await consent_in_browser(pilot, app, key="a")
    await tokens_done(pilot, app)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
    await until(pilot, lambda: "found" in message(app, "#discovery-message"))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ExportScreen))
    if layout == "three":
        app.screen.query_one("#layout").choose("three")  # type: ignore[attr-defined]
    await pilot.press("enter")
    await until(pilot, lambda: "Wrote" in screen_text(app))


@asynccontextmanager
async def on_publish(
    context: WizardContext, layout: str = "single"
) -> AsyncIterator[tuple[ClmWizardApp, Pilot[None]]]:
    """The demo tour to the written bundle, then ctrl+p: the app and its pilot."""
    app = make_app(context)
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app, layout)
        await pilot.press("ctrl+p")
        yield app, pilot


async def at_the_environments(pilot: Pilot[None], app: ClmWizardApp) -> PublishScreen:
    """On the Publish screen: approve the device code (the demo user) if one is shown; the
    screen once it offers the environments."""
    await until(pilot, lambda: isinstance(app.screen, PublishScreen))
    screen = app.screen
    assert isinstance(screen, PublishScreen)
    await until(pilot, lambda: screen.code is not None or screen.phase != "signing_in")
    if screen.code is not None:
        await pilot.press("a")
    await until(pilot, lambda: screen.phase == "environment", timeout=20)
    return screen


async def publish(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> PublishScreen:
    """On the Publish screen: approve the device code (the demo user), choose the default
    environment, publish; the screen once published."""
    screen = await at_the_environments(pilot, app)
    chosen = [b for b in screen.query(TextRadioButton) if b.value]
    assert [b.name for b in chosen] == [emu.power_platform.default_environment]
    await pilot.press("enter")
    await until(pilot, lambda: screen.phase == "planned", timeout=20)
    await pilot.press("enter")
    await until(
        pilot,
        lambda: screen.phase == "published" or isinstance(app.screen, ConfirmDialog),
        timeout=30,
    )
    return screen


async def finish_after_publish(pilot: Pilot[None], app: ClmWizardApp) -> None:
    """enter on to Connect (optional), f finishes there: back to the start screen."""
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConnectScreen))
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, StartScreen))


async def to_connect(
    pilot: Pilot[None], app: ClmWizardApp, emu: Emulator, layout: str, *, register: bool = True
) -> ConnectScreen:
    """The tour to the Connect step (the redirect URLs registered with the demo's g)."""
    await to_export(pilot, app, layout)
    await pilot.press("ctrl+p")
    screen = await publish(pilot, app, emu)
    assert screen.phase == "published"
    if register:
        await pilot.press("g")
        await until(pilot, lambda: "NOT registered" not in screen_text(app))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConnectScreen))
    assert isinstance(app.screen, ConnectScreen)
    return app.screen


async def connect(pilot: Pilot[None], app: ClmWizardApp, screen: ConnectScreen) -> None:
    """Accept each consent link as the demo user until every connection reads Connected."""
    for _ in range(4):
        await until(pilot, lambda: screen.phase in ("waiting", "done"), timeout=20)
        if screen.phase == "done":
            return
        link = screen.link
        assert link is not None and link in screen_text(app)
        await pilot.press("a")
        await until(
            pilot, lambda old=link: screen.link != old or screen.phase == "done", timeout=20
        )
    await until(pilot, lambda: screen.phase == "done", timeout=20)


def connector_secrets(emu: Emulator) -> list[str]:
    pp = emu.power_platform
    return [c["clientSecrets"]["token"] for c in pp.connectors(pp.default_environment)]


async def rotate_with_demo_spare(pilot: Pilot[None], app: ClmWizardApp) -> RotationChecklist:
    """s on the start screen: the demo prefills the emulator's spare secret; enter proves it."""
    await until(pilot, lambda: isinstance(app.screen, StartScreen))
    await until_workers_done(pilot, "profiles")
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
    assert "spare secret key" in screen_text(app)
    assert app.screen.query_one("#secret", Input).value  # prefilled (a demo test value)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RotationChecklist), timeout=20)
    checklist = app.screen
    assert isinstance(checklist, RotationChecklist)
    return checklist


async def heartbeat(pilot: Pilot[None], app: ClmWizardApp) -> HeartbeatScreen:
    """enter on to Heartbeat: the screen once its test run has succeeded or failed."""
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HeartbeatScreen))
    screen = app.screen
    assert isinstance(screen, HeartbeatScreen)
    await until(pilot, lambda: screen.phase in ("done", "failed"), timeout=30)
    return screen
