"""Step 3: consent in the browser, caught on a loopback listener, with a paste fallback.

The paste fallback works on its own: a terminal paste anywhere on the screen (focused field or
not) is read as the redirected address or the bare code, and handed to Tokens whether or not the
listener runs. Letter keys act only while the paste field does not have focus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from time import monotonic

from textual import events, on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Input, Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.guard import guarded
from clmwizard.wait_clock import HINT_AFTER, SPINNER, clock
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.url_line import UrlLine

# Letter keys that would otherwise be typed into the paste field.
_LETTER_ACTIONS = {
    "open_browser",
    "copy_url",
    "copy_redirect",
    "approve_demo",
    "restart",
    "use_port",
}
# Sending a code somewhere makes sense only while this wizard listens there.
_NEEDS_LISTENER = {"open_browser", "approve_demo"}


class PasteField(Input):
    """The paste fallback: a paste is read at once; tab leaves the field for the screen's keys."""

    BINDINGS = [
        Binding("tab", "leave", "leave the field", show=False),
        Binding("shift+tab", "leave", "leave the field", show=False),
    ]

    def action_leave(self) -> None:
        self.screen.set_focus(None)

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # not Input's own paste: the screen reads it whole
        screen = self.screen
        if isinstance(screen, ConsentScreen):
            screen.take_paste(event.text)


class ConsentScreen(WizardScreen):
    STEP = "Consent"
    AUTO_FOCUS = ""  # nothing focused, so o/u/c/a act; tab or a click reaches the paste field
    BINDINGS = [
        # o, u and a are named under the consent URL, where they act: the footer fits 80 columns.
        Binding("o", "open_browser", "open", show=False),
        Binding("u", "copy_url", "copy URL", show=False),
        Binding("c", "copy_redirect", "copy redirect"),
        Binding("a", "approve_demo", "approve (demo)", show=False),
        Binding("r", "restart", "listen again"),
        Binding("p", "use_port", "use free port"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.listener: object | None = None
        self.started_at = monotonic()
        self.frame = 0
        self.state = "starting"  # starting | listening | received | failed
        self.failure: ClmWizardError | None = None
        self.offered_port: int | None = None
        self.checked = asyncio.Event()  # DocuSign was asked for the consent URL (or could not be)

    def compose_body(self) -> Iterable[Widget]:
        draft = self.wizard.draft
        yield FieldMessage(id="consent-error")  # the top of the step: in view at 80×24
        with Vertical(classes="panel", id="redirect-panel") as panel:
            panel.border_title = "Redirect URI: register it in Apps and Keys"
            yield Static(self._redirect_line(), id="redirect-uri")
            yield FieldMessage(id="redirect-message")
        # Not in a panel: the URL on rows of its own, so a mouse selection takes it whole.
        yield Static("", id="url-hint")
        yield UrlLine(id="consent-url")
        yield Static("", id="listen-status")
        yield Static("", id="wait-hint").set_styles("display: none;")
        yield Static(
            "No browser here? Paste the address you were sent to (or just the code); "
            "[b]tab[/b] leaves the field:",
            id="paste-label",
        )
        yield PasteField(
            placeholder=f"{draft.redirect_uri}?code=…&state=…", id="paste", select_on_focus=False
        )
        yield FieldMessage(id="consent-message")

    def _redirect_line(self) -> str:
        return f"{escape(self.wizard.draft.redirect_uri)}   [dim]c copy[/dim]"

    def _update_hint(self) -> None:
        listening = self.state == "listening"
        parts = ["[b]u[/b] copy URL"]
        if listening:
            parts.insert(0, "[b]o[/b] open in browser")
            if self.wizard.context.demo is not None:
                parts.append("[b]a[/b] approve as the demo user (no browser needed)")
        else:
            parts.append("[dim]o / a wait for the listener: r listen again[/dim]")
        self.query_one("#url-hint", Static).update("[b]Consent URL[/b]   " + "   ".join(parts))

    # -- which keys act ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LETTER_ACTIONS and isinstance(self.focused, PasteField):
            return False  # the letter is text in the field
        if action == "approve_demo" and self.wizard.context.demo is None:
            return False
        if action in _NEEDS_LISTENER:
            return self.state == "listening"  # never send a code to whatever holds the port
        if action == "restart":
            return self.state == "failed"
        if action == "use_port":
            return self.offered_port is not None
        return True

    def on_key(self, event: events.Key) -> None:
        """Typing that cannot be a key of this screen (an address starts with `h`) goes into the
        paste field, so an address a terminal pastes as plain keystrokes lands there."""
        if self.focused is not None or not event.is_printable or event.character is None:
            return
        own = {b.key for b in ConsentScreen.BINDINGS if isinstance(b, Binding)}
        if event.key in own or event.key in self.active_bindings or not event.character.strip():
            return  # a key of this screen (even while disabled) or of the app
        field = self.query_one("#paste", PasteField)
        field.value += event.character
        field.cursor_position = len(field.value)
        field.focus()
        event.stop()
        event.prevent_default()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.refresh_bindings()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_hint()
        self._tick()
        self.refresh_bindings()

    # -- the listener -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self._begin(new_request=True)
        self.set_interval(0.25, self._tick)

    def on_screen_resume(self) -> None:
        if self.state in ("received", "failed"):
            self._begin(new_request=True)

    def action_restart(self) -> None:
        if self.state == "failed":
            self._begin(new_request=False)

    def _begin(self, *, new_request: bool) -> None:
        """Listen (again); a new consent request only when asked or the old one cannot serve."""
        from clmwizard.docusign.consent import build_consent_request

        draft = self.wizard.draft
        consent = draft.consent
        if new_request or consent is None or consent.redirect_uri != draft.redirect_uri:
            draft.forget_sign_in()
            draft.consent = consent = build_consent_request(
                draft.environment,
                draft.integration_key,
                draft.scopes,
                draft.redirect_uri,
                use_pkce=draft.use_pkce,
            )
        self.query_one("#consent-url", UrlLine).show(consent.url)
        self.query_one("#redirect-uri", Static).update(self._redirect_line())
        self.query_one("#consent-message", FieldMessage).clear()
        self.query_one("#redirect-message", FieldMessage).clear()
        self.query_one("#consent-error", FieldMessage).clear()
        self.started_at = monotonic()
        self.failure = None
        self.offered_port = None
        self.checked = asyncio.Event()
        self._set_state("starting")
        self._listen(consent.redirect_uri, consent.state)
        self._check(consent.url, consent.redirect_uri)

    @work(exclusive=True, group="check")
    @guarded("#consent-message")
    async def _check(self, url: str, redirect_uri: str) -> None:
        """Ask DocuSign for the consent URL: its own error page stops the wait at once."""
        from clmwizard.docusign.consent_check import check_consent_url

        draft = self.wizard.draft
        try:
            async with self.wizard.context.client_factory() as client:
                refusal = await check_consent_url(
                    client, url, draft.environment, draft.integration_key, redirect_uri
                )
        finally:
            self.checked.set()
        if refusal is None or self.state in ("received", "failed") or not self.is_attached:
            return
        self.workers.cancel_group(self, "listener")
        self.listener = None
        self._failed(refusal)

    def _tick(self) -> None:
        from clmwizard.docusign.consent_check import CAUSE_HINT

        status = self.query_one("#listen-status", Static)
        waited = monotonic() - self.started_at
        shown = clock(waited)
        limit = clock(self.wizard.context.consent_timeout)
        self.frame = (self.frame + 1) % len(SPINNER)
        hint = self.query_one("#wait-hint", Static)
        if self.state == "listening" and self.listener is not None:
            where = getattr(self.listener, "listening_on", "")
            status.update(
                f"  {SPINNER[self.frame]} Waiting for DocuSign to send you back…  {shown} of "
                f"{limit}   [dim](listening on {escape(where)})[/dim]"
            )
            hint.display = waited >= HINT_AFTER
            hint.update(f"  [dim]{escape(CAUSE_HINT)}[/dim]" if hint.display else "")
            return
        hint.display = False
        if self.state == "starting":
            status.update(f"  {SPINNER[self.frame]} Starting the listener…")
        elif self.state == "received":
            status.update("  [green]✓ Consent received.[/green]")
        else:
            more = f" · p use port {self.offered_port}" if self.offered_port else ""
            again = "check again" if self._refused() else "listen again"
            status.update(
                "  [red]✗ Not listening[/red] (a pasted address still works)."
                f" [dim]r {again}{more}[/dim]"
            )

    def _refused(self) -> bool:
        """Whether DocuSign itself refused the consent request (its error page)."""
        from clmwizard.docusign.consent_check import REFUSAL_CODES

        return self.failure is not None and self.failure.code in REFUSAL_CODES

    @work(exclusive=True, group="listener")
    @guarded("#consent-message")
    async def _listen(self, redirect_uri: str, state: str) -> None:
        from clmwizard.docusign.callback import CallbackListener

        try:
            async with CallbackListener(
                redirect_uri, state, port_owner=self.wizard.context.port_owner
            ) as listener:
                self.listener = listener
                self._set_state("listening")
                code = await listener.wait(timeout=self.wizard.context.consent_timeout)
        except ClmWizardError as error:
            self.listener = None
            self._failed(error)
            return
        self.listener = None
        self._received(code)

    def _failed(self, error: ClmWizardError) -> None:
        self.failure = error
        if error.code in ("port_in_use", "port_denied") or (
            error.field == "redirect_uri" and error.code is None
        ):
            self._offer_port()
        self._set_state("failed")
        self.query_one("#consent-message", FieldMessage).clear()  # "Opening your browser…"
        # Beside the redirect URI when that is the likely cause, else at the top of the step.
        target = "#redirect-message" if error.field == "redirect_uri" else "#consent-error"
        self.query_one(target, FieldMessage).show_error(self._with_port_offer(error))
        self.call_after_refresh(self.query_one("#body").scroll_home, animate=False)

    def _with_port_offer(self, error: ClmWizardError) -> ClmWizardError:
        """The error with the free port named, so one key (p) is the whole fix."""
        from clmwizard.docusign.callback import with_port

        if self.offered_port is None:
            return error
        uri = with_port(self.wizard.draft.redirect_uri, self.offered_port)
        stop = "Stop that program and press r, or press" if error.code == "port_in_use" else "Press"
        return ClmWizardError(
            error.what,
            cause=error.wizard_cause or error.cause,
            fix=f"{stop} p to use port {self.offered_port} instead: {uri} (you then register "
            "that redirect URI on the integration key).",
            field=error.field,
            code=error.code,
        )

    def _received(self, code: str) -> None:
        from clmwizard.flow import Code

        self._set_state("received")
        self.answer(Code(code))

    # -- another port -----------------------------------------------------------------------

    def _offer_port(self) -> None:
        from clmwizard.docusign.callback import free_loopback_port, parse_redirect_uri

        try:
            host, port, _ = parse_redirect_uri(self.wizard.draft.redirect_uri)
            self.offered_port = free_loopback_port(host, near=max(port, 1024))
        except ClmWizardError:
            self.offered_port = None

    def action_use_port(self) -> None:
        from clmwizard.docusign.callback import with_port

        port = self.offered_port
        if port is None or self.state == "listening":
            return
        draft = self.wizard.draft
        draft.redirect_uri = with_port(draft.redirect_uri, port)
        self.query_one("#paste", PasteField).placeholder = f"{draft.redirect_uri}?code=…&state=…"
        self._begin(new_request=True)
        demo = self.wizard.context.demo
        message = self.query_one("#redirect-message", FieldMessage)
        if demo is not None and demo.register_redirect_uri is not None:
            demo.register_redirect_uri(draft.redirect_uri)
            message.show_ok(
                f"Now using {draft.redirect_uri}. The demo registered it on its integration key "
                "for you; with a real key you register it yourself (c copies it)."
            )
        else:
            message.show_warning(
                f"Now using {draft.redirect_uri}: register this new redirect URI on the "
                "integration key before you sign in (Apps and Keys → your key → Edit → "
                "Redirect URIs → Add URI; c copies it). The profile keeps it."
            )

    # -- the paste fallback -----------------------------------------------------------------

    def on_paste(self, event: events.Paste) -> None:
        """A terminal paste while the field has no focus: the same as pasting into it."""
        event.stop()
        self.take_paste(event.text)

    def take_paste(self, text: str) -> None:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        field = self.query_one("#paste", PasteField)
        field.value = lines[0] if lines else ""
        self._submit(field.value)

    @on(Input.Submitted, "#paste")
    def _pasted(self, event: Input.Submitted) -> None:
        self._submit(event.value)

    def _submit(self, text: str) -> None:
        from clmwizard.docusign.consent import ConsentDeclined, code_from_pasted

        message = self.query_one("#consent-message", FieldMessage)
        field = self.query_one("#paste", PasteField)
        consent = self.wizard.draft.consent
        if consent is None or self.state == "received":
            return
        listener = self.listener
        try:
            if listener is not None and self.state == "listening":
                listener.deliver_pasted(text)  # type: ignore[attr-defined]
                field.value = ""
                return
            code = code_from_pasted(text, consent.state)
        except ConsentDeclined as declined:
            field.value = ""
            self._failed(declined)
            return
        except ClmWizardError as error:
            message.show_error(error)
            self.call_after_refresh(message.scroll_visible)
            return
        field.value = ""
        self.workers.cancel_group(self, "listener")  # one still binding must not answer later
        self._received(code)

    # -- the other keys ---------------------------------------------------------------------

    def action_open_browser(self) -> None:
        consent = self.wizard.draft.consent
        if consent is not None and self.state == "listening":
            self.query_one("#consent-message", FieldMessage).show_note("Opening your browser…")
            self._open_browser(consent.url)

    @work(group="browser")
    @guarded("#consent-message")
    async def _open_browser(self, url: str) -> None:
        if not await self._consent_url_accepted():
            return
        opened = await asyncio.to_thread(self.wizard.context.open_browser, url)
        message = self._message_if_shown()
        if message is None:  # the browser was quick: the consent came back and we moved on
            return
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
        if self.wizard.context.demo is None or consent is None or self.state != "listening":
            return
        self.query_one("#consent-message", FieldMessage).show_note("Approving as the demo user…")
        self._approve(consent.url)

    @work(group="browser")
    @guarded("#consent-message")
    async def _approve(self, url: str) -> None:
        demo = self.wizard.context.demo
        assert demo is not None
        if not await self._consent_url_accepted():
            return
        try:
            await asyncio.to_thread(demo.approve, url)
        except Exception as error:  # the stand-in browser reports DocuSign's error page text
            message = self._message_if_shown()
            if message is not None:
                message.show_error(str(error))

    async def _consent_url_accepted(self) -> bool:
        """Whether the browser may go: DocuSign was asked first, and did not refuse."""
        from clmwizard.docusign.consent_check import CHECK_DEADLINE

        try:
            async with asyncio.timeout(CHECK_DEADLINE + 2):
                await self.checked.wait()
        except TimeoutError:
            pass
        return self.state == "listening"

    def _message_if_shown(self) -> FieldMessage | None:
        """The consent message, or None once this step was dismissed (a worker outlived it)."""
        if self not in self.app.screen_stack:
            return None
        try:
            return self.query_one("#consent-message", FieldMessage)
        except NoMatches:
            return None
