"""Step 4: the code exchanged for tokens, then who signed in (userinfo, once per run)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.dialogs import SecretPrompt
from clmwizard.screens.guard import as_wizard_error, guarded
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.wait_line import WaitLine

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")


class TokensScreen(WizardScreen):
    STEP = "Tokens"
    BINDINGS = [
        Binding("enter", "next", "next"),
        Binding("k", "fix_secret", "fix secret key", show=False),
        Binding("s", "fix_scopes", "change scopes", show=False),
        Binding("t", "retry_userinfo", "try again", show=False),
    ]

    def __init__(self, code: str | None) -> None:
        """`code` is None when the flow comes back here: the tokens are in the draft already."""
        super().__init__()
        self.code = code
        self.done = False
        self.failed_field: str | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield WaitLine(id="exchange-line")
        yield WaitLine(id="userinfo-line")
        yield FieldMessage(id="tokens-message")
        yield Static("", id="tokens-next")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            return self.done
        return True

    def on_mount(self) -> None:
        draft = self.wizard.draft
        if self.code is None and draft.tokens is not None and draft.userinfo is not None:
            self._show_tokens()
            self._show_userinfo()  # back from Discovery: nothing is sent again
        elif self.code is not None:
            self._exchange()

    @work(exclusive=True, group="tokens")
    @guarded("#tokens-message")
    async def _exchange(self) -> None:
        from clmwizard.docusign.oauth import TOKEN_ATTEMPTS, exchange_code

        draft = self.wizard.draft
        consent = draft.consent
        code = self.code
        assert consent is not None and code is not None
        draft.tokens = await self._step(
            "#exchange-line",
            "Exchanging the code for tokens…",
            "The code exchange failed.",
            lambda client: exchange_code(
                client,
                draft.environment,
                draft.integration_key,
                draft.secret_key,
                code,
                consent.code_verifier,
            ),
            attempts=TOKEN_ATTEMPTS,
            waits=False,  # sent again at once, and only when its connection never opened
        )
        if draft.tokens is None:
            return
        self._show_tokens()
        await self._userinfo()

    def _show_tokens(self) -> None:
        draft = self.wizard.draft
        assert draft.tokens is not None
        line = self.query_one("#exchange-line", WaitLine)
        hours = draft.tokens.expires_in // 3600
        rolls = "extended" in draft.scopes
        refresh = (
            "refresh token lives 30 days and rolls forward with each use (extended)"
            if rolls
            else "[yellow]refresh token dies 30 days after consent (no extended)[/yellow]"
        )
        line.stop(f"  [green]✓[/green] Tokens received: access token for {hours} h; {refresh}.")

    async def _userinfo(self) -> None:
        from clmwizard.docusign.discovery import fetch_userinfo
        from clmwizard.http import ATTEMPTS

        draft = self.wizard.draft
        tokens = draft.tokens
        assert tokens is not None
        draft.userinfo = await self._step(
            "#userinfo-line",
            "Reading who signed in…",
            "Could not read the user's accounts.",
            lambda client: fetch_userinfo(client, draft.environment, tokens.access_token),
            attempts=ATTEMPTS,
            waits=True,
            retry=True,
        )
        if draft.userinfo is not None:
            self._show_userinfo()

    def _show_userinfo(self) -> None:
        draft = self.wizard.draft
        assert draft.userinfo is not None
        line = self.query_one("#userinfo-line", WaitLine)
        info = draft.userinfo
        count = len(info.accounts)
        line.stop(
            f"  [green]✓[/green] Signed in as {escape(info.name)} <{escape(info.email)}>, "
            f"{count} account{'s' if count != 1 else ''}."
        )
        self.done = True
        self.refresh_bindings()
        self.query_one("#tokens-next", Static).update(
            "\n  Press [b]enter[/b] to find the CLM hosts."
        )

    async def _step(
        self,
        line_id: str,
        busy: str,
        failed: str,
        call: Callable[[httpx.AsyncClient], Awaitable[T]],
        *,
        attempts: int,
        waits: bool,
        retry: bool = False,
    ) -> T | None:
        """One network step with its wait line (the limit: what the HTTP layer allows the
        step's `attempts` requests); on failure, the error and the way out."""
        from clmwizard.http import worst_case_seconds

        line = self.query_one(line_id, WaitLine)
        try:
            async with self.wizard.context.client_factory() as client:
                limit = worst_case_seconds(client, attempts, waits=waits)
                if limit is None:
                    line.update(f"  {escape(busy)}")
                else:
                    line.start(busy, limit)
                return await call(client)
        except Exception as error:  # a garbled answer too: said beside the step, with a retry
            line.stop(f"  [red]✗ {failed}[/red]")
            self._fail(as_wizard_error(error), retry=retry)
            return None

    def _fail(self, error: ClmWizardError, *, retry: bool = False) -> None:
        self.failed_field = error.field
        self.query_one("#tokens-message", FieldMessage).show_error(error)
        hints = []
        if error.field == "secret_key":
            hints.append("[b]k[/b] re-enter the secret key and try the same code again")
        if error.field == "scopes":
            hints.append("[b]s[/b] change the scopes")
        if retry:
            hints.append("[b]t[/b] try again")
        hints.append("[b]esc[/b] back to consent (a new code)")
        self.query_one("#tokens-next", Static).update("\n  " + "   ".join(hints))

    def action_next(self) -> None:
        if not self.done:
            return
        from clmwizard.flow import Next

        self.answer(Next())

    def action_retry_userinfo(self) -> None:
        if self.wizard.draft.tokens is not None and not self.done:
            self.query_one("#tokens-message", FieldMessage).clear()
            self._retry_userinfo()

    @work(exclusive=True, group="tokens")
    @guarded("#tokens-message")
    async def _retry_userinfo(self) -> None:
        await self._userinfo()

    def action_fix_scopes(self) -> None:
        from clmwizard.flow import FixScopes

        self.answer(FixScopes())

    def action_fix_secret(self) -> None:
        if self.failed_field != "secret_key":
            return

        def fixed(secret: str | None) -> None:
            if secret:
                self.wizard.draft.secret_key = secret
                self.query_one("#tokens-message", FieldMessage).clear()
                self._exchange()

        self.app.push_screen(
            SecretPrompt(
                "Re-enter the secret key",
                "Paste the secret key from DocuSign (Apps and Keys → your key → Secret Keys). "
                "The code from your consent is tried again while it is still valid (2 minutes).",
            ),
            callback=fixed,
        )
