"""The wizard's Publish step against the emulator's Power Platform over TLS (real sockets)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext, demo_microsoft
from clmwizard.emulator import Emulator
from clmwizard.powerplatform.redirect import UNKNOWN_LINE
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.publish import PublishScreen
from clmwizard.screens.start import StartScreen
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


@pytest.fixture
def publish_context(demo_context: WizardContext, emu: Emulator, tmp_path: Path) -> WizardContext:
    ca = tmp_path / "emulator-ca.pem"
    ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
    emu.power_platform.set_policies(device_code_interval=0)
    settings = demo_microsoft(emu, str(ca))
    demo_context.microsoft = lambda: settings
    return demo_context


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
    await until(pilot, lambda: isinstance(app.screen, StartScreen))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, KeyScreen))
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
    from clmwizard.screens.connect import ConnectScreen

    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConnectScreen))
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, StartScreen))


@pytest.mark.parametrize("layout", ["single", "three"])
async def test_publish_creates_then_updates_without_duplicates(
    publish_context: WizardContext, emu: Emulator, layout: str
) -> None:
    app = make_app(publish_context)
    env = emu.power_platform.default_environment
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app, layout)
        await pilot.press("ctrl+p")
        screen = await publish(pilot, app, emu)
        assert screen.phase == "published"
        want = 1 if layout == "single" else 3
        assert len(emu.power_platform.connectors(env)) == want
        text = screen_text(app)
        assert "Connectors in" in text and "at DocuSign:" in text
        for outcome in screen._published():
            assert outcome.connector_id in text
            assert outcome.redirect_url and outcome.redirect_url in text
        # The emulator's DocuSign knows none of these redirect URLs yet.
        assert "NOT registered" in text
        # Register them, then one key asks DocuSign again.
        demo = publish_context.demo
        assert demo is not None and demo.register_redirect_uri is not None
        if layout == "single":  # registered in DocuSign by hand, then r asks again
            for outcome in screen._published():
                demo.register_redirect_uri(outcome.redirect_url)
            await pilot.press("r")
        else:  # the demo's g registers them on the emulator's key and asks again
            await pilot.press("g")
        await until(pilot, lambda: "NOT registered" not in screen_text(app))
        assert UNKNOWN_LINE in screen_text(app)  # a sign-in page proves nothing
        await finish_after_publish(pilot, app)
        await until_workers_done(pilot, "profiles")
        await pilot.press("p")  # publish again, from the start screen
        screen = await publish(pilot, app, emu)
        assert screen.plan is not None
        assert {item.action for item in screen.plan.connectors} == {"update"}
        assert len(emu.power_platform.connectors(env)) == want  # no duplicates
    profile = publish_context.profiles.load("demo")
    assert len(profile.publications) == 1
    assert len(profile.publications[0].connectors) == want


async def test_adoption_asks_and_no_leaves_it_alone(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    env = emu.power_platform.default_environment
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app)
        await pilot.press("ctrl+p")
        await publish(pilot, app, emu)
        # Forget what was published: the same-named connector must be offered for adoption.
        publish_context.profiles.update("demo", lambda profile: profile.publications.clear())
        await finish_after_publish(pilot, app)
        await until_workers_done(pilot, "profiles")
        await pilot.press("p")
        await publish(pilot, app, emu)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Adopt" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("escape")  # no
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        await until(pilot, lambda: screen.phase == "published")
        assert "left alone" in screen_text(app)
        assert len(emu.power_platform.connectors(env)) == 1


async def test_no_maker_role_is_shown_beside_its_cause(
    publish_context: WizardContext, emu: Emulator
) -> None:
    pp = emu.power_platform
    pp.set_maker(pp.default_environment, False)
    async with on_publish(publish_context) as (app, pilot):
        screen = await at_the_environments(pilot, app)
        await pilot.press("enter")
        env_message = screen.query_one("#env-message", FieldMessage)
        await until(pilot, lambda: "Environment Maker" in env_message.text)
        # beside the environment choice, which stays open for another choice
        assert "403" in env_message.text and "choose another environment above" in env_message.text
        assert "EnvironmentAccess" in env_message.text
        assert screen.phase == "environment"
        assert pp.connectors(pp.default_environment) == []


async def test_keys_answer_while_publishing_with_latency(
    publish_context: WizardContext, emu: Emulator
) -> None:
    async with on_publish(publish_context) as (app, pilot):
        screen = await at_the_environments(pilot, app)
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "planned", timeout=20)
        emu.inject_fault("powerapps", "/providers", latency=0.5, count=100)
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "publishing")
        worst = 0.0
        for _ in range(5):
            started = time.perf_counter()
            await pilot.press("tab")
            await pilot.pause()
            worst = max(worst, time.perf_counter() - started)
            if app.screen is not screen:
                await pilot.press("escape")
        assert screen.phase == "publishing"  # still at it, and keys were answered meanwhile
        assert worst < 0.4, worst
        await until(pilot, lambda: screen.phase == "published", timeout=60)


async def test_a_declined_device_code_is_said_beside_the_sign_in_and_enter_retries(
    publish_context: WizardContext, emu: Emulator
) -> None:
    async with on_publish(publish_context) as (app, pilot):
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        await until(pilot, lambda: screen.code is not None)
        code = screen.code
        assert code is not None and code.user_code in screen_text(app)
        emu.power_platform.decline_device_code(code.user_code)
        signin_message = screen.query_one("#signin-message", FieldMessage)
        await until(pilot, lambda: "declined" in signin_message.text, timeout=20)
        assert screen.phase == "signing_in" and screen.signin_failed
        await pilot.press("enter")  # try again: a new code
        await until(pilot, lambda: screen.code is not None and screen.code != code)
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "environment", timeout=20)


# Each of Entra's answers with its own words and its own fix, as the CLI says them.
@pytest.mark.parametrize(
    ("trouble", "words", "fix"),
    [
        ("expired", "The sign-in code expired", "within 15 minutes"),
        ("unknown code", "did not recognise the sign-in code", "newest code"),
        ("public client flows off", "does not allow public client flows", "Allow public client"),
    ],
)
async def test_sign_in_failures_are_said_beside_the_sign_in(
    publish_context: WizardContext, emu: Emulator, trouble: str, words: str, fix: str
) -> None:
    pp = emu.power_platform
    if trouble == "public client flows off":
        settings = dataclasses.replace(publish_context.microsoft(), client_id=pp.client_id)
        publish_context.microsoft = lambda: settings
    async with on_publish(publish_context) as (app, pilot):
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        if trouble != "public client flows off":
            await until(pilot, lambda: screen.code is not None)
            assert screen.code is not None
            if trouble == "expired":
                emu.advance_clock(901)
            else:
                pp.forget_device_code(screen.code.user_code)
        message = screen.query_one("#signin-message", FieldMessage)
        await until(pilot, lambda: words in message.text, timeout=20)
        assert fix in message.text and screen.signin_failed
        assert pp.connectors(pp.default_environment) == []


async def test_a_revoked_cached_token_is_dropped_and_the_sign_in_asked_once_more(
    publish_context: WizardContext, emu: Emulator
) -> None:
    async with on_publish(publish_context) as (app, pilot):
        await publish(pilot, app, emu)
        await finish_after_publish(pilot, app)
        emu.power_platform.revoke_access_tokens()
        await until_workers_done(pilot, "profiles")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        # the cached sign-in is refused (401): a new device code, not an error
        await until(pilot, lambda: screen.code is not None, timeout=20)
        assert "refused the cached sign-in" in screen.query_one("#env-message", FieldMessage).text
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "environment", timeout=20)


async def test_ctrl_c_after_publishing_quits_without_asking(
    publish_context: WizardContext, emu: Emulator
) -> None:
    """Everything is stored once published: ctrl+c must not ask "Quit without saving?"."""
    async with on_publish(publish_context) as (app, pilot):
        screen = await publish(pilot, app, emu)
        assert screen.phase == "published"
        assert not app.has_unsaved_input(), _draft_difference(app)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
    assert app.return_code == 0


def _draft_difference(app: ClmWizardApp) -> str:
    before, now = app._draft_as_shown, app._draft
    if before is None or now is None:
        return f"draft as shown {before!r}, draft {now!r}"
    return ", ".join(
        name for name in vars(now) if getattr(now, name) != getattr(before, name, None)
    )
