"""The Textual wizard: screens hold layout and flow; the protocol lives in the core."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from clmwizard.context import WizardContext
from clmwizard.draft import Draft
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import Profile

if TYPE_CHECKING:
    from clmwizard.store.secrets import SecretStore

_OSC52_TERMINALS = ("iTerm.app", "WezTerm", "kitty", "ghostty", "vscode", "alacritty", "foot")


def osc52_trusted() -> bool:
    """Whether the terminal probably honours OSC 52 (clipboard via escape sequence)."""
    choice = os.environ.get("CLMWIZARD_CLIPBOARD", "auto")
    if choice in ("osc52", "manual"):
        return choice == "osc52"
    if os.environ.get("TERM_PROGRAM") == "Apple_Terminal":
        return False
    if os.environ.get("TMUX"):
        return False  # tmux passes OSC 52 on only with `set-clipboard on`
    term = os.environ.get("TERM", "") + " " + os.environ.get("TERM_PROGRAM", "")
    known = any(name.lower() in term.lower() for name in _OSC52_TERMINALS)
    return known or bool(os.environ.get("WT_SESSION") or os.environ.get("SSH_TTY"))


class ClmWizardApp(App[None]):
    CSS_PATH = "wizard.tcss"
    TITLE = "clmwizard"
    ENABLE_COMMAND_PALETTE = False  # it would offer nothing the footer does not, and takes room
    BINDINGS = [Binding("ctrl+q", "quit", "quit", priority=True)]

    def __init__(self, context: WizardContext) -> None:
        super().__init__()
        self.context = context
        self._draft: Draft | None = None
        self._secrets: SecretStore | None = None
        self._pending_clears: set[str] = set()

    # -- shared services -------------------------------------------------------------------

    @property
    def draft(self) -> Draft:
        """The sign-in in progress (created on first use, so the first frame needs no core)."""
        if self._draft is None:
            self._draft = Draft()
        return self._draft

    @draft.setter
    def draft(self, draft: Draft) -> None:
        self._draft = draft

    def subtitle(self) -> str:
        if self._draft is None:
            return "demo against the built-in emulator" if self.context.demo else ""
        draft = self._draft
        parts = []
        if draft.profile_name:
            parts.append(f"profile {draft.profile_name}")
        if self.context.demo is not None:
            parts.append("demo against the built-in emulator")
        elif draft.environment.name == "demo":
            parts.append("DocuSign developer (account-d)")
        elif draft.environment.name == "production":
            parts.append("DocuSign production")
        else:
            parts.append(f"custom server {draft.environment.auth_server}")
        return " · ".join(parts)

    def secret_store(self) -> SecretStore:
        """The keyring (or the demo's memory store). Blocking: call from a thread worker."""
        from clmwizard.store.secrets import MemorySecretStore

        if self._secrets is None:
            if self.context.demo is not None:
                self._secrets = MemorySecretStore()
            else:
                self._secrets = self.context.open_secrets()
        return self._secrets

    def use_memory_secrets(self) -> None:
        """Ephemeral mode, chosen by the user when no keyring is usable."""
        from clmwizard.store.secrets import MemorySecretStore

        self._secrets = MemorySecretStore()

    @property
    def secrets_are_ephemeral(self) -> bool:
        return self._secrets is not None and not self._secrets.persistent

    def start_draft(self, profile: Profile | None = None, *, name: str = "") -> Draft:
        """A fresh draft: empty, the demo's values, or an existing profile's."""
        from clmwizard.docusign.environments import environment_of, resolve_environment

        draft = Draft(profile_name=name)
        demo = self.context.demo
        if profile is not None:
            draft.profile_name = profile.name
            draft.environment = environment_of(profile)
            draft.integration_key = profile.integration_key
            draft.scopes = list(profile.scopes)
            draft.redirect_uri = profile.redirect_uri
            draft.use_pkce = profile.use_pkce
            draft.jwt_user_id = profile.jwt_user_id or ""
            draft.existing = profile
        elif demo is not None:
            draft.profile_name = name or "demo"
            draft.environment = resolve_environment(
                auth_server=demo.auth_server, clm_auth_server=demo.clm_auth_server
            )
            draft.integration_key = demo.integration_key
            draft.secret_key = demo.secret_key
            draft.redirect_uri = demo.redirect_uri
        self.draft = draft
        return draft

    # -- clipboard -------------------------------------------------------------------------

    def copy_value(self, label: str, value: str, *, secret: bool = False) -> None:
        """Copy with the system clipboard, else OSC 52, else show it for manual copy."""
        if not value:
            self.notify(f"{label} is empty: nothing to copy.", severity="warning")
            return
        if os.environ.get("CLMWIZARD_CLIPBOARD") in ("osc52", "manual"):
            self._after_copy(label, value, secret, system_ok=False)
        else:
            self._copy_with_system_clipboard(label, value, secret)

    @work(thread=True, group="clipboard")
    def _copy_with_system_clipboard(self, label: str, value: str, secret: bool) -> None:
        from clmwizard.clipboard import copy_text

        try:
            copy_text(value)
            ok = True
        except ClmWizardError:
            ok = False
        self.call_from_thread(self._after_copy, label, value, secret, system_ok=ok)

    def _after_copy(self, label: str, value: str, secret: bool, *, system_ok: bool) -> None:
        from clmwizard.screens.dialogs import ManualCopyDialog

        seconds = self.context.clipboard_clear_seconds
        if system_ok:
            if secret:
                self._pending_clears.add(value)
                self.set_timer(seconds, lambda: self._clear_secret(value))
                self.notify(f"✓ {label} copied — the clipboard clears in {seconds:g} s.")
            else:
                self.notify(f"✓ {label} copied.")
        elif osc52_trusted():
            self.copy_to_clipboard(value)
            note = " It cannot be cleared automatically: clear it yourself." if secret else ""
            self.notify(f"✓ {label} sent to your terminal's clipboard (OSC 52).{note}")
        else:
            self.push_screen(ManualCopyDialog(label, value, secret=secret))

    def _clear_secret(self, value: str) -> None:
        if value in self._pending_clears:
            self._pending_clears.discard(value)
            self._clear_in_thread(value)

    @work(thread=True, group="clipboard")
    def _clear_in_thread(self, value: str) -> None:
        from clmwizard.clipboard import clear_if_unchanged

        try:
            cleared = clear_if_unchanged(value)
        except ClmWizardError:
            return
        if cleared:
            self.call_from_thread(self.notify, "Clipboard cleared (it still held the secret).")

    def on_unmount(self) -> None:
        """Hand secrets still waiting to be cleared to a background clearer."""
        from clmwizard.clipboard import schedule_clear_in_background

        for value in self._pending_clears:
            with contextlib.suppress(ClmWizardError):
                schedule_clear_in_background(value, after=self.context.clipboard_clear_seconds)
        self._pending_clears.clear()

    # -- crash report ------------------------------------------------------------------------

    def _fatal_error(self) -> None:
        """Textual's crash report, without local variables (the secret key would be among them),
        secrets redacted and control characters made visible."""
        import rich
        from rich.segment import Segment, Segments
        from rich.traceback import Traceback

        from clmwizard.redact import redact
        from clmwizard.safe_text import visible

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        segments = [
            Segment(visible(redact(segment.text), keep_newlines=True), segment.style)
            for segment in self.console.render(traceback, self.console.options)
        ]
        self._exit_renderables.append(Segments(segments))
        self._close_messages_no_wait()

    # -- start -------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        """The start screen is the bottom of the stack: one render to the first frame."""
        from clmwizard.screens.start import StartScreen

        return StartScreen(select=self.context.initial_profile)

    def back_to_start(self) -> None:
        """Pop every step above the start screen."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
