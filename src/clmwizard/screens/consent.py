"""Step 3: consent in the browser, caught on a loopback listener, with a paste fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from time import monotonic

from rich.markup import escape
from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from clmwizard.errors import ClmWizardError
from clmwizard.screens.base import WizardScreen
from clmwizard.widgets.field_message import FieldMessage

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class ConsentScreen(WizardScreen):
    STEP = "Consent"
    AUTO_FOCUS = ""  # nothing focused, so o/u/c/a act; tab or a click reaches the paste field
    BINDINGS = [
        Binding("o", "open_browser", "open"),
        Binding("u", "copy_url", "copy URL"),
        Binding("c", "copy_redirect", "copy redirect"),
        Binding("a", "approve_demo", "approve (demo)"),
        Binding("r", "restart", "listen again", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.listener: object | None = None
        self.started_at = monotonic()
        self.frame = 0
        self.state = "starting"  # starting | listening | received | failed

    def compose_body(self) -> Iterable[Widget]:
        draft = self.wizard.draft
        with Vertical(classes="panel", id="redirect-panel") as panel:
            panel.border_title = (
                "Register this redirect URI on your integration key (Apps and Keys → Edit)"
            )
            yield Static(f"{escape(draft.redirect_uri)}   [dim]c copy[/dim]", id="redirect-uri")
            yield FieldMessage(id="redirect-message")
        with Vertical(classes="panel", id="url-panel") as panel:
            panel.border_title = "Consent URL"
            yield Static("", id="consent-url")
            hint = "[b]o[/b] open in browser   [b]u[/b] copy URL"
            if self.wizard.context.demo is not None:
                hint += "   [b]a[/b] approve as the demo user (no browser needed)"
            yield Static(hint, id="url-hint")
        yield Static("", id="listen-status")
        yield Label("No browser here? Paste the address you were sent to (or just the code):")
        yield Input(placeholder=f"{draft.redirect_uri}?code=…&state=…", id="paste")
        yield FieldMessage(id="consent-message")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "approve_demo":
            return self.wizard.context.demo is not None
        return True

    def on_mount(self) -> None:
        self._begin()
        self.set_interval(0.25, self._tick)

    def on_screen_resume(self) -> None:
        if self.state in ("received", "failed"):
            self._begin()

    def action_restart(self) -> None:
        if self.state == "failed":
            self._begin()

    def _begin(self) -> None:
        from clmwizard.docusign.consent import build_consent_request

        draft = self.wizard.draft
        draft.forget_sign_in()
        draft.consent = build_consent_request(
            draft.environment,
            draft.integration_key,
            draft.scopes,
            draft.redirect_uri,
            use_pkce=draft.use_pkce,
        )
        self.query_one("#consent-url", Static).update(escape(draft.consent.url))
        self.query_one("#consent-message", FieldMessage).clear()
        self.query_one("#redirect-message", FieldMessage).clear()
        self.started_at = monotonic()
        self.state = "starting"
        self._listen(draft.consent.redirect_uri, draft.consent.state)

    def _tick(self) -> None:
        status = self.query_one("#listen-status", Static)
        elapsed = int(monotonic() - self.started_at)
        clock = f"{elapsed // 60}:{elapsed % 60:02d}"
        self.frame = (self.frame + 1) % len(SPINNER)
        if self.state == "listening" and self.listener is not None:
            where = getattr(self.listener, "listening_on", "")
            status.update(
                f"  {SPINNER[self.frame]} Waiting for DocuSign to send you back…  {clock}   "
                f"[dim](listening on {escape(where)})[/dim]"
            )
        elif self.state == "starting":
            status.update(f"  {SPINNER[self.frame]} Starting the listener…")
        elif self.state == "received":
            status.update("  [green]✓ Consent received.[/green]")
        else:
            status.update("  [red]✗ Not listening.[/red] [dim]r listen again[/dim]")

    @work(exclusive=True, group="listener")
    async def _listen(self, redirect_uri: str, state: str) -> None:
        from clmwizard.docusign.callback import CallbackListener

        try:
            async with CallbackListener(redirect_uri, state) as listener:
                self.listener = listener
                self.state = "listening"
                self._tick()
                code = await listener.wait(timeout=self.wizard.context.consent_timeout)
        except ClmWizardError as error:
            self.state = "failed"
            self.listener = None
            target = "#redirect-message" if error.field == "redirect_uri" else "#consent-message"
            self.query_one(target, FieldMessage).show_error(error)
            self._tick()
            return
        self.listener = None
        self.state = "received"
        self._tick()
        from clmwizard.flow import Code

        self.answer(Code(code))

    @on(Input.Submitted, "#paste")
    def _pasted(self, event: Input.Submitted) -> None:
        message = self.query_one("#consent-message", FieldMessage)
        listener = self.listener
        if listener is None or self.state != "listening":
            message.show_error("The listener is not running: press r to start it again.")
            return
        try:
            listener.deliver_pasted(event.value)  # type: ignore[attr-defined]
        except ClmWizardError as error:
            message.show_error(error)
            return
        event.input.value = ""

    def action_open_browser(self) -> None:
        consent = self.wizard.draft.consent
        if consent is not None:
            self.query_one("#consent-message", FieldMessage).show_note("Opening your browser…")
            self._open_browser(consent.url)

    @work(group="browser")
    async def _open_browser(self, url: str) -> None:
        opened = await asyncio.to_thread(self.wizard.context.open_browser, url)
        message = self.query_one("#consent-message", FieldMessage)
        if opened:
            message.show_note("Browser opened: sign in, review the scopes and accept.")
        else:
            message.show_warning(
                "No graphical browser could be opened here. Press u to copy the URL, open it in "
                "a browser elsewhere, then paste the address you land on below.",
            )

    def action_copy_url(self) -> None:
        consent = self.wizard.draft.consent
        if consent is not None:
            self.wizard.copy_value("Consent URL", consent.url)

    def action_copy_redirect(self) -> None:
        self.wizard.copy_value("Redirect URI", self.wizard.draft.redirect_uri)

    def action_approve_demo(self) -> None:
        consent = self.wizard.draft.consent
        if self.wizard.context.demo is None or consent is None:
            return
        self.query_one("#consent-message", FieldMessage).show_note("Approving as the demo user…")
        self._approve(consent.url)

    @work(group="browser")
    async def _approve(self, url: str) -> None:
        demo = self.wizard.context.demo
        assert demo is not None
        try:
            await asyncio.to_thread(demo.approve, url)
        except Exception as error:  # the stand-in browser reports DocuSign's error page text
            self.query_one("#consent-message", FieldMessage).show_error(str(error))
