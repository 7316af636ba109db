"""Driving the wizard with Pilot: waiting for a state, what a screen shows as plain text, and a
real (non-demo) sign-in against the emulator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, RadioButton

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import follow_consent
from clmwizard.screens.consent import ConsentScreen
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.scopes import ScopesScreen
from clmwizard.screens.start import StartScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.widgets.field_message import FieldMessage

SIZE = (100, 32)


def type_burst(pilot: Pilot[None], text: str) -> None:
    """Queue a key event per character at once, as a terminal sends a paste without bracketed
    paste (`pilot.press` waits for the app to go idle after every key: ~0.2 s a key)."""
    from textual import events
    from textual.keys import _character_to_key

    driver = pilot.app._driver
    assert driver is not None
    for char in text:
        event = events.Key(char if char.isalnum() else _character_to_key(char), char)
        event.set_sender(pilot.app)
        driver.send_message(event)


async def press_until(
    pilot: Pilot[None], key: str, condition: Callable[[], object], timeout: float = 10.0
) -> None:
    """Send one key as a terminal does and let the app run only until `condition()` holds.

    `pilot.press` then waits for the whole app to go idle (twice ≥ 20 ms of no CPU, ~0.1 s a
    key): for a test that presses hundreds of keys and can say what each one does."""
    from textual import events
    from textual.keys import _character_to_key

    driver = pilot.app._driver
    assert driver is not None
    name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
    event = events.Key(name, key if len(key) == 1 else None)
    event.set_sender(pilot.app)
    driver.send_message(event)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{key!r} timed out on {type(pilot.app.screen).__name__}: {shown(pilot.app)}"  # type: ignore[arg-type]
            )
        await asyncio.sleep(0.002)


def make_app(context: WizardContext) -> ClmWizardApp:
    return ClmWizardApp(context)


class ScreenApp(App[None]):
    """An app that shows one screen, for tests of a screen or widget outside the wizard."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)


def plain_screen(app: App[object]) -> str:
    """The screen as a monochrome terminal shows it: text only, no styles."""
    lines = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in lines)


def shown(app: ClmWizardApp) -> str:
    return "\n".join(
        message.text for message in app.screen.query(FieldMessage) if message.has_class("-shown")
    )


async def until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail with the current screen and the messages
    it shows otherwise. The one way Pilot tests wait: no fixed `pilot.pause(seconds)`."""
    for _ in range(int(timeout / 0.02)):
        if condition():
            # A screen pushed during the last pause is on top but may not be mounted yet:
            # let it settle, so the test can query what it shows.
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out on {type(pilot.app.screen).__name__}: {shown(pilot.app)}")  # type: ignore[arg-type]


async def until_workers_done(pilot: Pilot[None], group: str, timeout: float = 10.0) -> None:
    """Let pending messages run, then the app until no worker of `group` is left unfinished
    (e.g. "profiles": the start screen's profile list, loaded again when the screen resumes)."""
    await pilot.pause()
    await until(
        pilot,
        lambda: not any(w.group == group and not w.is_finished for w in pilot.app.workers),
        timeout,
    )


def browser_stand_in(opened: list[str]) -> Callable[[str], bool]:
    """A WizardContext.open_browser that accepts the consent like a person at a browser."""

    def open_browser(url: str) -> bool:
        opened.append(url)
        threading.Thread(target=follow_consent, args=(url, "accept"), daemon=True).start()
        return True

    return open_browser


def message(app: ClmWizardApp, selector: str) -> str:
    return app.screen.query_one(selector, FieldMessage).text


async def fill_key_screen(
    pilot: Pilot[None],
    app: ClmWizardApp,
    emu: Emulator,
    secret: str,
    *,
    name: str = "acme",
    rsa_file: Path | None = None,
) -> None:
    """From the start screen (or the Key step, once there), a new profile with the emulator as
    a custom environment."""
    if not isinstance(app.screen, KeyScreen):
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
    key = app.screen
    key.query_one("#profile-name", Input).value = name
    for button in key.query(RadioButton):
        if button.name == "custom":
            button.value = True
    await pilot.pause()
    key.query_one("#auth-server", Input).value = emu.auth_server
    key.query_one("#clm-auth-server", Input).value = emu.clm_auth_server
    key.query_one("#integration-key", Input).value = emu.integration_key
    key.query_one("#secret-key", Input).value = secret
    key.query_one("#redirect-uri", Input).value = emu.redirect_uris[-1]
    if rsa_file is not None:
        key.query_one("#rsa-key-file", Input).value = str(rsa_file)
    await pilot.pause()


async def consent_in_browser(
    pilot: Pilot[None],
    app: ClmWizardApp,
    key: str = "o",
    listening: Callable[[], object] | None = None,
) -> ConsentScreen:
    """Scopes as proposed, then consent through the browser stand-in ('o'; the demo's own
    approval is 'a'); `listening()` is called on the Consent screen once its listener is up."""
    await until(pilot, lambda: isinstance(app.screen, ScopesScreen))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConsentScreen))
    screen = app.screen
    assert isinstance(screen, ConsentScreen)
    await until(pilot, lambda: screen.state == "listening")
    if listening is not None:
        listening()
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, TokensScreen))
    return screen


async def tokens_done(pilot: Pilot[None], app: ClmWizardApp) -> TokensScreen:
    """The Tokens screen once it shows, and once its exchange is done."""
    await until(pilot, lambda: isinstance(app.screen, TokensScreen))
    tokens = app.screen
    assert isinstance(tokens, TokensScreen)
    await until(pilot, lambda: tokens.done)
    return tokens


async def sign_in_to_discovery(
    pilot: Pilot[None], app: ClmWizardApp, emu: Emulator, *, name: str = "acme"
) -> None:
    """A whole new sign-in, up to the discovery screen with the hosts found."""
    await fill_key_screen(pilot, app, emu, emu.secret_key, name=name)
    await pilot.press("ctrl+n")
    await consent_in_browser(pilot, app)
    await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
    await until(pilot, lambda: "found" in message(app, "#discovery-message"))
