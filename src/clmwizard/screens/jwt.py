"""The JWT step: prove that DocuSign issues a token by JWT Grant for the integration user.

Shown after Discovery when the draft names a JWT integration user, and from the start screen
(j). The draft's JWT fields are stored on the profile first (the user GUID on the profile, a new
RSA key in the keyring), then `check_profile_jwt` asks DocuSign; the RSA key is never shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, LoadingIndicator, Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.guard import guarded
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.url_line import UrlLine

if TYPE_CHECKING:
    from clmwizard.docusign.jwt import JwtCheck
    from clmwizard.store.profile import Profile
    from clmwizard.store.secrets import SecretStore

# error.field → the message beside that field on this screen
FIELD_MESSAGES = {
    "jwt_user_id": "#jwt-user-message",
    "rsa_private_key": "#rsa-key-message",
    "integration_key": "#integration-key-message",
    "scopes": "#scopes-message",
}


class JwtScreen(WizardScreen):
    STEP = "JWT"
    DEFAULT_CSS = (
        "JwtScreen #jwt-next { padding: 1 2 0 2; } JwtScreen #jwt-intro { margin-bottom: 1; }"
    )
    AUTO_FOCUS = ""  # nothing to type here: the keys act
    BINDINGS = [
        Binding("enter", "next", "continue"),
        Binding("c", "check", "check again"),
        Binding("o", "open_browser", "open"),
        Binding("u", "copy_url", "copy URL"),
        Binding("a", "approve_demo", "approve (demo)"),
        Binding("k", "fix", "back to Key"),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile
        self.result: JwtCheck | None = None
        self.checking = False

    def compose_body(self) -> Iterable[Widget]:
        draft = self.wizard.draft
        yield Static(
            "JWT Grant lets a system integration act as the integration user without a browser. "
            "clmwizard asks DocuSign for a token with the integration key, the user GUID and the "
            "RSA private key, as such an integration would.",
            id="jwt-intro",
        )
        with Vertical(classes="form"):
            yield Label("Integration user (JWT)", classes="field-label")
            yield Static(escape(draft.jwt_user_id or "none set"), id="jwt-user")
            yield FieldMessage(id="jwt-user-message")
            yield Label("RSA private key", classes="field-label")
            yield Static("[dim]stored with the profile's secrets, never shown[/dim]", id="rsa-key")
            yield FieldMessage(id="rsa-key-message")
            yield Label("Integration key", classes="field-label")
            yield Static(escape(draft.integration_key), id="integration-key")
            yield FieldMessage(id="integration-key-message")
            yield FieldMessage(id="scopes-message")
        # Not in a panel: the URL on a row of its own, so a mouse selection takes it whole.
        with Vertical(id="jwt-consent-panel"):
            yield Static(
                "[b]Consent URL[/b]: open it signed in as the integration user, then Accept:",
                id="jwt-consent-title",
            )
            yield UrlLine(id="jwt-consent-url")
            yield Static("", id="jwt-consent-hint")
        yield LoadingIndicator(id="jwt-loading")
        yield FieldMessage(id="jwt-message")
        yield Static("", id="jwt-next")

    def on_mount(self) -> None:
        self.query_one("#jwt-consent-panel").display = False
        self.action_check()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needed = self.result is not None and self.result.state == "needed"
        if action in ("open_browser", "copy_url"):
            return needed
        if action == "approve_demo":
            return needed and self.wizard.context.demo is not None
        if action == "check":
            return not self.checking
        return True

    # -- checking --------------------------------------------------------------------------

    def action_check(self) -> None:
        self.checking = True
        self.refresh_bindings()
        for message in self.query(FieldMessage):
            message.clear()
        self.query_one("#jwt-message", FieldMessage).show_note("Asking DocuSign for a token…")
        self.query_one("#jwt-loading").display = True
        self._check()

    @work(exclusive=True, group="jwt")
    @guarded("#jwt-message")
    async def _check(self, approve_error: str | None = None) -> None:
        from clmwizard.docusign.jwt import check_profile_jwt

        context = self.wizard.context
        try:
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            await asyncio.to_thread(self._store_draft_fields, secrets)
            async with context.client_factory() as client:
                result = await check_profile_jwt(
                    self.profile.name, context.profiles, secrets, client
                )
        except ClmWizardError as error:
            self._done_checking()
            self._failed(error)
            return
        self._done_checking()
        self._show(result, approve_error)

    def _done_checking(self) -> None:
        self.checking = False
        self.query_one("#jwt-loading").display = False

    def _store_draft_fields(self, secrets: SecretStore) -> None:
        """The GUID and a newly typed RSA key from the Key screen, before they are checked."""
        from dataclasses import replace

        from clmwizard.store.profile import RSA_PRIVATE_KEY

        draft = self.wizard.draft
        user_id = draft.jwt_user_id or None
        if draft.rsa_private_key:
            secrets.set_many(self.profile.name, {RSA_PRIVATE_KEY: draft.rsa_private_key})
        if self.profile.jwt_user_id != user_id:

            def change(profile: Profile) -> None:
                profile.jwt_user_id = user_id
                profile.jwt_consent = None  # it was about another user

            self.wizard.context.profiles.update(self.profile.name, change)
            self.profile = replace(self.profile, jwt_user_id=user_id, jwt_consent=None)

    def _failed(self, error: ClmWizardError) -> None:
        self.result = None
        self.query_one("#jwt-consent-panel").display = False
        target = FIELD_MESSAGES.get(error.field or "", "#jwt-message")
        if target != "#jwt-message":
            self.query_one("#jwt-message", FieldMessage).clear()
        self.query_one(target, FieldMessage).show_error(error)
        self.query_one("#jwt-next", Static).update(
            "[b]k[/b] back to the Key screen (Advanced: user GUID, RSA key file)   "
            "[b]c[/b] check again   [b]enter[/b] continue without JWT"
        )
        self.refresh_bindings()

    def _show(self, result: JwtCheck, approve_error: str | None) -> None:
        self.result = result
        message = self.query_one("#jwt-message", FieldMessage)
        panel = self.query_one("#jwt-consent-panel")
        user = escape(result.user_id)
        if result.state == "given":
            panel.display = False
            message.show_ok(f"JWT Grant works for user {user} (token issued).")
            self.query_one("#jwt-next", Static).update(
                f"Consent covers: {escape(' '.join(result.scopes))}. The token lasts an hour "
                "and is not kept.\nPress [b]enter[/b] to continue."
            )
        else:
            panel.display = True
            self.query_one("#jwt-consent-url", UrlLine).show(result.consent_url or "")
            hint = "[b]o[/b] open in browser   [b]u[/b] copy URL"
            if self.wizard.context.demo is not None:
                hint += "   [b]a[/b] approve as the demo user"
            self.query_one("#jwt-consent-hint", Static).update(hint)
            if approve_error:
                message.show_error(approve_error)
            else:
                message.show_warning(
                    f"JWT: consent needed — user {user} has not consented to this integration "
                    "key for impersonation and these scopes."
                )
            self.query_one("#jwt-next", Static).update(
                "After consenting, press [b]c[/b] to check again.   [b]enter[/b] continue "
                "without JWT"
            )
        self.refresh_bindings()

    # -- consent -------------------------------------------------------------------------------

    def _consent_url(self) -> str:
        return (self.result.consent_url or "") if self.result is not None else ""

    def action_open_browser(self) -> None:
        if self._consent_url():
            self.query_one("#jwt-message", FieldMessage).show_note("Opening your browser…")
            self._open_browser(self._consent_url())

    @work(group="browser")
    @guarded("#jwt-message")
    async def _open_browser(self, url: str) -> None:
        opened = await asyncio.to_thread(self.wizard.context.open_browser, url)
        message = self.query_one("#jwt-message", FieldMessage)
        if opened:
            message.show_note(
                "Browser opened: sign in as the integration user, accept, then press c."
            )
        else:
            message.show_warning(
                "No graphical browser could be opened here. Press u to copy the URL and open it "
                "in a browser elsewhere, then press c."
            )

    def action_copy_url(self) -> None:
        if self._consent_url():
            self.wizard.copy_value("Consent URL", self._consent_url())

    def action_approve_demo(self) -> None:
        if self.wizard.context.demo is None or not self._consent_url():
            return
        self.query_one("#jwt-message", FieldMessage).show_note("Approving as the demo user…")
        self.checking = True
        self.refresh_bindings()
        self._approve(self._consent_url())

    @work(exclusive=True, group="jwt-approve")
    @guarded("#jwt-message")
    async def _approve(self, url: str) -> None:
        demo = self.wizard.context.demo
        assert demo is not None
        problem: str | None = None
        try:
            await asyncio.to_thread(demo.approve, url)
        except Exception as error:  # the stand-in browser reports the page's error text
            # DocuSign then sends the browser to the redirect URI, where nobody listens for a
            # JWT consent: the check below says whether the consent was recorded.
            problem = str(error)
        self._check(approve_error=problem)

    # -- leaving -------------------------------------------------------------------------------

    def action_next(self) -> None:
        from clmwizard.flow import Next

        self.answer(Next())

    def action_fix(self) -> None:
        from clmwizard.flow import FixJwt

        self.answer(FixJwt())
