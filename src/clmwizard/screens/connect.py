"""Step 9 (optional): a Power Automate connection to each connector Publish made, signed in to
DocuSign through the connector (its consent link, opened or copied), waited for with a clock.

A redirect URL DocuSign does not know stops before the browser, with the URL to register
(copyable); r checks again and carries on with the same connection. Any failure (declined,
time-out, a refused secret) stays beside the step; r tries again without starting over.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.platform_step import PlatformStepScreen, latest_record
from clmwizard.store.profile import Profile
from clmwizard.widgets.url_line import UrlLine

if TYPE_CHECKING:
    import httpx

    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.connect import ConnectTarget

HOW = {
    "reused": "the profile's connection",
    "found": "an existing connection",
    "created": "a new connection",
}


class ConnectScreen(PlatformStepScreen):
    STEP = "Connect"
    INTRO = (
        "Connect: make the Power Automate connection to each connector and sign in to "
        "DocuSign through it — the first time the connector's redirect URL meets "
        "DocuSign. Optional: esc goes back to Publish."
    )
    SETTLED = ("blocked", "failed", "done")
    BINDINGS = [
        Binding("enter", "next", "next"),
        *PlatformStepScreen.SIGN_IN_BINDINGS,
        Binding("o", "open_link", "open link"),
        Binding("c", "copy_link", "copy link"),
        Binding("a", "approve_link", "accept (demo)"),
        Binding("u", "copy_redirect", "copy redirect URL"),
        Binding("g", "register_demo", "register (demo)"),
        Binding("r", "retry", "try again"),
        Binding("f", "finish", "finish"),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self.link: str | None = None
        self.redirect_url: str | None = None  # the one DocuSign refused, to register
        self.lines: dict[str, str] = {}
        self.connected: dict[str, str] = {}  # connector id → connection name
        self.current: tuple[str, str] | None = None  # the connector being connected: id, name

    def compose_step(self) -> Iterable[Widget]:
        yield Static("", id="connections")
        yield Static("", id="link")
        yield UrlLine(id="link-url")
        yield Static("", id="wait")

    def check_step_action(self, action: str) -> bool:
        demo = self.wizard.context.demo
        if action in ("open_link", "copy_link"):
            return self.phase == "waiting" and self.link is not None
        if action == "approve_link":
            return self.phase == "waiting" and demo is not None and bool(demo.approve_connection)
        if action == "copy_redirect":
            return self.phase == "blocked" and self.redirect_url is not None
        if action == "register_demo":
            return self.phase == "blocked" and demo is not None and bool(demo.register_redirect_uri)
        return True

    # -- the work ----------------------------------------------------------------------------

    @work(exclusive=True, group="connect")
    async def run_step(self) -> None:
        from clmwizard.powerplatform.connect import targets
        from clmwizard.powerplatform.consent_return import ConsentReturn
        from clmwizard.powerplatform.setup import make_apis

        self.message.clear()
        self.link = self.redirect_url = None
        self._clear_link()
        try:
            profile = await asyncio.to_thread(self.wizard.context.profiles.load, self.profile.name)
            self.profile = profile
            record = latest_record(profile)
            todo = targets(profile, record.environment_id if record else None)
            who, _ = await self.sign_in(flow=False)
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            async with (
                self.wizard.context.client_factory(ca_bundle=self.settings.ca_bundle) as http,
                self.wizard.context.client_factory() as docusign,
            ):
                api, _ = make_apis(
                    http, self.settings, who, None, secrets=secrets, profile=profile.name
                )
                for target in todo:
                    async with ConsentReturn() as back:
                        if not await self._connect_one(api, docusign, back, target):
                            return  # blocked: the redirect URL to register
        except Exception as error:  # a server's failure is a message, never a crash
            self.fail(error, self._not_connected)
            return
        self.end_wait()
        self._clear_link()
        self.message.show_ok(
            "Connected. enter goes on to the heartbeat: a flow that runs once now through the "
            "connection (the end-to-end test) and daily after, so the sign-in never dies unused."
        )
        self.set_phase("done")

    async def _connect_one(
        self,
        api: PowerAppsApi,
        docusign: httpx.AsyncClient,
        back: object,
        target: ConnectTarget,
    ) -> bool:
        """False when DocuSign refuses the redirect URL (the step waits for it to be
        registered)."""
        from clmwizard.powerplatform.connect import (
            ensure_connection,
            remember_connection,
            wait_connected,
        )
        from clmwizard.powerplatform.connections import consent_link
        from clmwizard.powerplatform.consent_return import ConsentReturn
        from clmwizard.powerplatform.redirect import check_redirect_url

        assert isinstance(back, ConsentReturn)
        connector = target.connector
        key = connector.connector_id
        self.current = key, connector.display_name
        self._line(key, f"{connector.display_name}: finding its connection…")
        connection, how = await ensure_connection(api, self.profile, target)
        await asyncio.to_thread(
            self.wizard.context.profiles.update,
            self.profile.name,
            remember_connection(target.environment_id, key, connection.name),
        )
        if connection.connected:
            self.connected[key] = connection.name
            self._line(key, f"✓ {connector.display_name}: Connected ({HOW[how]})")
            self._proven(connector.redirect_url)
            return True
        url = connector.redirect_url
        if url:
            check = await check_redirect_url(docusign, self.profile, url)
            if check.verdict == "not_registered":
                self._blocked(target, url, check.said)
                return False
        self._line(key, f"… {connector.display_name}: {HOW[how]}, waiting for the sign-in")
        link = await consent_link(
            api,
            target.environment_id,
            key,
            connection.name,
            back.url,
            display_name=connector.display_name,
            profile=self.profile.name,
        )
        self.link = link
        self._show_link(connector.display_name)
        self.set_phase("waiting")
        limit = self.wizard.context.consent_timeout
        self.start_wait(f"waiting for the DocuSign sign-in of {connector.display_name}", limit)
        connected = await wait_connected(
            api,
            target,
            connection,
            self.profile.name,
            timeout=limit,
            poll=self.wizard.context.poll_seconds,
            tick=self.tick,
            returned=back.query,
        )
        self.link = None
        self.end_wait()
        self._clear_link()
        self.set_phase("working")
        self.connected[key] = connected.name
        self._line(key, f"✓ {connector.display_name}: Connected ({HOW[how]})")
        self._proven(connector.redirect_url)
        return True

    def _proven(self, redirect_url: str | None) -> None:
        """Connected: DocuSign's sign-in came back to the redirect URL (for the exit summary)."""
        from clmwizard.closing import PROVEN_BY_CONNECT

        if redirect_url:
            self.wizard.closing.verdicts[redirect_url] = PROVEN_BY_CONNECT

    def _line(self, key: str, text: str) -> None:
        self.lines[key] = text
        self.query_one("#connections", Static).update(
            "[b]Connections[/b]\n" + "\n".join(f"  {escape(line)}" for line in self.lines.values())
        )

    def _not_connected(self) -> None:
        """A failure: the link is spent, and the connection it was for is not connected."""
        self.link = None
        self._clear_link()
        if self.current is not None and self.current[0] not in self.connected:
            key, name = self.current
            self._line(key, f"✗ {name}: not connected")

    def _show_link(self, name: str) -> None:
        assert self.link is not None
        demo = self.wizard.context.demo
        accept = " · a accepts as the demo user" if demo and demo.approve_connection else ""
        self.query_one("#link", Static).update(
            f"Sign in to DocuSign for [b]{escape(name)}[/b] and choose Accept — "
            f"o opens this link in the browser, c copies it (e.g. over SSH){accept}:"
        )
        self.query_one("#link-url", UrlLine).show(self.link)

    def _clear_link(self) -> None:
        self.query_one("#link", Static).update("")
        self.query_one("#link-url", UrlLine).clear()

    def _blocked(self, target: ConnectTarget, url: str, said: str) -> None:
        name = target.connector.display_name
        self.redirect_url = url
        self._line(target.connector.connector_id, f"✗ {name}: DocuSign refuses its redirect URL")
        self.query_one("#link", Static).update(
            "Register this redirect URL on the integration key at DocuSign (Apps and Keys → "
            "your app → Redirect URIs → Add URI → Save):"
        )
        self.query_one("#link-url", UrlLine).show(url)
        demo = " (in the demo, g registers it for you)" if self.wizard.context.demo else ""
        self.message.show_warning(
            f"DocuSign refuses the redirect URL of {name} (it answered: {said}), so the sign-in "
            f"would fail. u copies the URL; once registered, press r to check again and carry "
            f"on — the connection made now is reused{demo}."
        )
        self.set_phase("blocked")

    # -- keys --------------------------------------------------------------------------------

    def action_finish(self) -> None:
        from clmwizard.flow import Done

        self.answer(Done())

    def action_open_link(self) -> None:
        if self.link is not None and not self.wizard.context.open_browser(self.link):
            self.message.show_warning(
                "No browser could be opened here: c copies the link, open it on any device."
            )

    def action_copy_link(self) -> None:
        if self.link is not None:
            self.wizard.copy_value("Sign-in link", self.link)

    def action_copy_redirect(self) -> None:
        if self.redirect_url is not None:
            self.wizard.copy_value("Redirect URL", self.redirect_url)

    def action_approve_link(self) -> None:
        demo = self.wizard.context.demo
        link = self.link
        if demo is None or demo.approve_connection is None or link is None:
            return
        approve = demo.approve_connection

        def follow() -> None:
            try:
                approve(link)
            except Exception as error:  # the stand-in browser stopped: say so beside the step
                said = f"The demo browser stopped: {error}"[:300]
                self.app.call_from_thread(self._browser_said, said)

        threading.Thread(target=follow, daemon=True).start()

    def _browser_said(self, said: str) -> None:
        if self.is_attached and self.phase == "waiting":
            self.message.show_warning(said)

    @work(exclusive=True, group="register")
    async def action_register_demo(self) -> None:
        demo = self.wizard.context.demo
        if demo is None or demo.register_redirect_uri is None or self.redirect_url is None:
            return
        await asyncio.to_thread(demo.register_redirect_uri, self.redirect_url)
        self.run_step()
