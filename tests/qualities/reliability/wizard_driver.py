"""Drives one fault-matrix cell through the Textual wizard with Pilot.

Sign-in cells start at the consent step with the draft filled in (the key and scope screens do
no network) and carry on through tokens and discovery to the saved profile, pressing what a
person would press. Refresh and rotate cells start from the start screen of a profile signed in
with the command line. The stores are the ones the CLI uses: `ProfileStore()` and the keyring
(the in-memory test backend), so the same snapshots apply.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from textual.pilot import Pilot
from textual.widgets import Input

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.docusign.environments import resolve_environment
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import ConsentError
from clmwizard.screens.consent import ConsentScreen
from clmwizard.screens.dialogs import SecretPrompt
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.start import StartScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.store.profile import REFRESH_TOKEN
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import open_secret_store
from clmwizard.widgets.field_message import FieldMessage
from tests.qualities.reliability import browser
from tests.qualities.reliability.cli_driver import CODE_LIFETIME, PROFILE, CliDriver
from tests.qualities.reliability.harness import (
    CONSENT_TIMEOUT,
    Snapshot,
    inject,
    requests_to,
    settle,
    short_client,
)
from tests.support.pilot import shown, until

SIZE = (100, 32)
WAIT = 10.0


@dataclass(frozen=True)
class Seen:
    ok: bool
    text: str  # every message shown on the screen where the flow ended
    requests: int
    before: Snapshot
    after: Snapshot


class Person:
    """The context's `open_browser`: a person in a browser who reloads a failed page.

    A real browser opens fine and shows DocuSign's error page, which the wizard cannot see, so
    this returns True whatever the page said.
    """

    def __init__(self, reloads: int, linger: float) -> None:
        self.reloads = reloads
        self.linger = linger
        self.done = threading.Event()

    def __call__(self, url: str) -> bool:
        try:
            browser.approve(url, reloads=self.reloads, linger=self.linger)
        except ConsentError:
            pass
        finally:
            self.done.set()
        return True


class WizardDriver:
    def __init__(self, cli: CliDriver) -> None:
        self.cli = cli
        self.emu: Emulator = cli.emu

    def context(self, **options: object) -> WizardContext:
        return WizardContext(
            profiles=ProfileStore(),
            open_secrets=open_secret_store,
            consent_timeout=CONSENT_TIMEOUT,
            client_factory=short_client,
            **options,  # type: ignore[arg-type]
        )

    async def run(self, step: str, fault: str, *, again: bool) -> tuple[Seen, Seen | None]:
        """The cell, and with `again` the same action tried once more without the fault."""
        if step in ("refresh", "rotate"):
            return await self._profile_action(step, fault, again)
        return await self._sign_in(step, fault), None

    async def _sign_in(self, step: str, fault: str) -> Seen:
        emu = self.emu
        person = Person(
            reloads=2 if step == "consent" and fault != "latency" else 0,
            linger=CODE_LIFETIME + 1 if fault == "expired_code" else 0.0,
        )
        app = ClmWizardApp(self.context(open_browser=person))
        before = self.cli.snapshot()
        inject(emu, step, fault)
        since = len(emu.request_log)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, StartScreen))
            draft = app.start_draft(name=PROFILE)
            draft.environment = resolve_environment(
                auth_server=emu.auth_server, clm_auth_server=emu.clm_auth_server
            )
            draft.integration_key = emu.integration_key
            draft.secret_key = emu.secret_key
            draft.redirect_uri = self.cli.redirect_uri
            app.begin_at(draft, "Consent")  # the flow from Consent on, as after Key and Scopes
            await until(pilot, lambda: getattr(app.screen, "state", "") == "listening")
            await pilot.press("o")
            ok = await self._follow(pilot, app)
            text = shown(app)
            await until(pilot, person.done.is_set)
        return Seen(ok, text, requests_to(emu, step, since), before, self.cli.snapshot())

    async def _follow(self, pilot: Pilot[None], app: ClmWizardApp) -> bool:
        """Press on through the steps like a person; False where the flow stops on an error."""
        for _ in range(int(3 * WAIT / 0.02)):
            screen = app.screen
            if isinstance(screen, FieldsScreen):
                return True
            if isinstance(screen, ConsentScreen) and screen.state == "failed":
                return False
            if isinstance(screen, TokensScreen):
                if screen.done:
                    await pilot.press("enter")
                    await until(pilot, lambda current=screen: app.screen is not current)
                elif "✗" in shown(app):
                    return False
            if isinstance(screen, DiscoveryScreen):
                said = screen.query_one("#discovery-message", FieldMessage).text
                if said.startswith("✓"):
                    await pilot.press("ctrl+s")
                    await until(pilot, lambda current=screen: app.screen is not current)
                elif said.startswith("✗"):
                    return False
            await pilot.pause(0.02)
        raise AssertionError(f"the flow stalled on {type(app.screen).__name__}: {shown(app)}")

    async def _profile_action(self, step: str, fault: str, again: bool) -> tuple[Seen, Seen | None]:
        emu = self.emu
        await asyncio.to_thread(self.cli.sign_in)  # the CLI runs its own event loop
        before = self.cli.snapshot()
        inject(emu, step, fault)
        app = ClmWizardApp(self.context(initial_profile=PROFILE))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen.listings)
            first = await self._act(pilot, app, step, before, opened=False)
            if not again:
                return first, None
            emu.clear_faults()
            if fault == "latency":
                settle(emu, before.secrets[REFRESH_TOKEN])
            second = await self._act(pilot, app, step, first.after, opened=not first.ok)
        return first, second

    async def _act(
        self, pilot: Pilot[None], app: ClmWizardApp, step: str, before: Snapshot, *, opened: bool
    ) -> Seen:
        since = len(self.emu.request_log)
        previous = shown(app)
        if step == "refresh":
            await pilot.press("f")
        else:
            if not opened:
                await pilot.press("s")
                await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
            app.screen.query_one("#secret", Input).value = self.emu.spare_secret_key
            await pilot.press("enter")

        def answered() -> bool:
            if type(app.screen).__name__ == "RotationChecklist":  # after a proven rotation
                app.pop_screen()
                return False
            text = shown(app)
            return text != previous and ("✓" in text or "✗" in text)

        await until(pilot, answered)
        text = shown(app)
        ok = isinstance(app.screen, StartScreen) and "✓" in text
        return Seen(ok, text, requests_to(self.emu, step, since), before, self.cli.snapshot())
