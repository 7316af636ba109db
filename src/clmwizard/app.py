"""The Textual wizard: screens hold layout, flow.py the order, the protocol lives in the core."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from clmwizard.context import WizardContext
from clmwizard.draft import Draft
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import Profile

if TYPE_CHECKING:
    from clmwizard.flow import Answer, Choice, StepInput, StepName
    from clmwizard.screens.base import WizardScreen
    from clmwizard.store.secrets import SecretStore

# Toasts sit on the blank line under the step indicator, one line high, instead of over the
# bottom of the body (at 80×24 they covered the fields under them).
TOAST_CSS = """
ToastRack {
    dock: top;
    align: right top;
    margin: 2 0 0 0;
}
Toast {
    width: auto;
    max-width: 100%;
    margin: 0;
    padding: 0 1;
}
"""


def _step_screens() -> dict[StepName, Callable[[StepInput], WizardScreen]]:
    """The screen that shows each step of flow.py (imported when a flow starts)."""
    from clmwizard.screens.connect import ConnectScreen
    from clmwizard.screens.consent import ConsentScreen
    from clmwizard.screens.discovery import DiscoveryScreen
    from clmwizard.screens.export import ExportScreen
    from clmwizard.screens.fields import FieldsScreen
    from clmwizard.screens.heartbeat import HeartbeatScreen
    from clmwizard.screens.jwt import JwtScreen
    from clmwizard.screens.key import KeyScreen
    from clmwizard.screens.publish import PublishScreen
    from clmwizard.screens.scopes import ScopesScreen
    from clmwizard.screens.tokens import TokensScreen

    def saved(shown: StepInput) -> Profile:
        assert shown.profile is not None
        return shown.profile

    return {
        "Key": lambda shown: KeyScreen(load_secret=shown.load_secret),
        "Scopes": lambda shown: ScopesScreen(),
        "Consent": lambda shown: ConsentScreen(),
        "Tokens": lambda shown: TokensScreen(shown.code),
        "Discovery": lambda shown: DiscoveryScreen(),
        "JWT": lambda shown: JwtScreen(saved(shown)),
        "Fields": lambda shown: FieldsScreen(saved(shown)),
        "Export": lambda shown: ExportScreen(saved(shown)),
        "Publish": lambda shown: PublishScreen(saved(shown)),
        "Connect": lambda shown: ConnectScreen(saved(shown)),
        "Heartbeat": lambda shown: HeartbeatScreen(saved(shown)),
    }


HOLD_KEYS_LIMIT = 5.0  # seconds keys may wait for the next step's screen (a busy machine)
# Never held: the app's priority bindings, and ? (help; no step's first field takes one), so a
# step that is slow to appear (a hanging keyring) never keeps the user from help or from quitting.
_PRIORITY_KEYS = frozenset({"f1", "ctrl+q", "ctrl+c", "question_mark"})


class ClmWizardApp(App[None]):
    CSS_PATH = "wizard.tcss"
    TITLE = "clmwizard"
    ENABLE_COMMAND_PALETTE = False  # it would offer nothing the footer does not, and takes room
    CSS = TOAST_CSS
    BINDINGS = [
        # Not a priority binding: `?` still types into a focused field. The footer names f1
        # only, which works everywhere: one key for the help on every screen.
        Binding("question_mark", "keys_help", "keys", key_display="?", show=False),
        Binding("f1", "keys_help", "keys", key_display="f1", priority=True),
        Binding("ctrl+q", "request_quit", "quit", priority=True),
        # What every terminal user tries first: quits like ctrl+q (Textual's own only tells
        # you to press ctrl+q). A field with a selection keeps it for copying the selection.
        Binding("ctrl+c", "interrupt_quit", "quit", show=False, priority=True),
    ]

    def __init__(self, context: WizardContext) -> None:
        super().__init__()
        self.context = context
        self._draft: Draft | None = None
        self._secrets: SecretStore | None = None
        self._pending_clears: set[str] = set()
        self._flow: asyncio.Task[None] | None = None
        self._step_screens: dict[StepName, Callable[[StepInput], WizardScreen]] | None = None
        self._keyring_checked = False
        self._memory_profiles: set[str] = set()  # saved this run with secrets in memory only
        self._draft_as_shown: Draft | None = None  # the draft as it was last stored or begun
        self._inputs_as_shown: weakref.WeakKeyDictionary[Screen[Any], dict[int, str]] = (
            weakref.WeakKeyDictionary()
        )
        self._quit_dialog: Screen[Any] | None = None
        self._stop_signals: list[int] = []
        self._stopping: int | None = None  # the first stopping signal received
        # Keys typed while one step's screen gives way to the next: held, then handed to the
        # new screen once it is mounted (with its first field focused), so none is lost.
        self._held_keys: list[events.Key] | None = None
        self._holds = 0  # which hold a safety timer belongs to
        from clmwizard.closing import ClosingNotes

        self.closing = ClosingNotes()

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

    def secrets_in_memory(self, profile_name: str) -> bool:
        """Whether this profile's secrets were stored in memory only, this run."""
        return profile_name in self._memory_profiles and self.secrets_are_ephemeral

    async def keyring_ready(self) -> bool:
        """flow.KeyringCheck: open the keyring and prove it with a throwaway secret before the
        first sign-in step; when it fails, explain and offer to keep secrets in memory."""
        from clmwizard.errors import KeyringError

        if self.context.demo is not None or self._keyring_checked:
            return True
        try:
            await asyncio.to_thread(self._prove_keyring)
        except KeyringError as error:
            from clmwizard.screens.dialogs import KeyringDialog

            keep = await self._ask(KeyringDialog(error))
            if not keep:
                return False
            self.use_memory_secrets()
        self._keyring_checked = True
        return True

    def _prove_keyring(self) -> None:
        """Blocking (the keyring): run in a thread."""
        from clmwizard.store.secrets import keyring_round_trip

        store = self.secret_store()
        if store.persistent:
            keyring_round_trip(store)

    async def _ask(self, dialog: Screen[bool]) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answered(result: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(result))

        await self.push_screen(dialog, callback=answered)
        self._release_keys_on(dialog)
        return await answer

    def start_draft(self, profile: Profile | None = None, *, name: str = "") -> Draft:
        """A fresh draft: empty, the demo's values, or an existing profile's."""
        if profile is not None:
            draft = Draft.of_profile(profile)
        else:
            draft = Draft.new(name, self.context.demo)
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
        from clmwizard.clipboard import copy_text, schedule_clear_in_background

        try:
            copy_text(value)
            ok = True
            if secret:  # cleared even if the wizard is killed or its terminal closed
                schedule_clear_in_background(value, after=self.context.clipboard_clear_seconds)
        except ClmWizardError:
            ok = False
        self.call_from_thread(self._after_copy, label, value, secret, system_ok=ok)

    def _after_copy(self, label: str, value: str, secret: bool, *, system_ok: bool) -> None:
        from clmwizard.clipboard import osc52_trusted
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

    def on_mount(self) -> None:
        self._install_stop_signals()

    def _install_stop_signals(self) -> None:
        """SIGTERM, SIGHUP (and a SIGINT sent by another process) end the wizard, but never in
        the middle of a durable write (a refresh DocuSign may have answered, its keyring write):
        the exit waits until `interrupts.deferred()` blocks are done.

        Textual's Linux driver installs handlers only for SIGTSTP, SIGCONT, SIGWINCH, SIGTTOU and
        SIGTTIN (Textual 8.2), so these three are free; without handlers SIGTERM and SIGHUP
        would kill the process at once. Handlers go through the event loop (add_signal_handler)
        so they run between callbacks, never inside a write. Not in headless runs (tests under
        Pilot share pytest's process and its handlers)."""
        import signal

        from clmwizard.interrupts import stopping_signals

        if self.is_headless or not hasattr(signal, "SIGHUP"):
            return
        loop = asyncio.get_running_loop()
        for signum in stopping_signals():
            with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                loop.add_signal_handler(signum, self._stop_signal, int(signum))
                self._stop_signals.append(int(signum))

    def _stop_signal(self, signum: int) -> None:
        from clmwizard.interrupts import EXIT_BASE, holding

        if self._stopping is None:
            self._stopping = signum
        if holding():  # a durable write is under way: look again shortly
            self.set_timer(0.05, lambda: self._stop_signal(signum))
            return
        self.exit(return_code=EXIT_BASE + self._stopping)

    def on_unmount(self) -> None:
        """Secrets still waiting are cleared by the helper started when they were copied."""
        self._remove_stop_signals()
        self._pending_clears.clear()
        if self._flow is not None:
            self._flow.cancel()

    def _remove_stop_signals(self) -> None:
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            for signum in self._stop_signals:
                loop.remove_signal_handler(signum)
        self._stop_signals.clear()

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

    # -- keys help and quit -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # ctrl+c copies a field's selection (ctrl+q still quits).
        return not (action == "interrupt_quit" and self._selection_to_copy())

    def _selection_to_copy(self) -> bool:
        """Whether ctrl+c should be the focused field's copy key (a selection is made)."""
        from textual.widgets import Input

        focused = self.focused
        return isinstance(focused, Input) and not focused.selection.is_empty

    def action_interrupt_quit(self) -> None:
        self.action_request_quit()

    def action_keys_help(self) -> None:
        """Every key of the screen on top, also those the footer cannot fit."""
        from clmwizard.screens.keys_help import KeysHelpDialog, key_rows

        screen = self.screen
        if isinstance(screen, KeysHelpDialog):
            screen.dismiss(None)
            return
        title = getattr(screen, "STEP", "") or _screen_title(screen)
        self.push_screen(KeysHelpDialog(title, key_rows(screen)))

    def has_unsaved_input(self) -> bool:
        """Typed into a field and not stored yet, or a sign-in whose draft is not saved."""
        from textual.widgets import Input

        flow_running = self._flow is not None and not self._flow.done()
        if flow_running and self._draft is not None and _typed(self._draft, self._draft_as_shown):
            return True
        for screen in self.screen_stack:
            shown = self._inputs_as_shown.get(screen)
            for field in screen.query(Input):
                before = "" if shown is None else shown.get(id(field), "")
                if field.value.strip() and field.value != before:
                    return True
        return False

    def action_request_quit(self) -> None:
        """ctrl+q: quit at once, unless something typed would be lost (then ask, once)."""
        from clmwizard.screens.dialogs import ConfirmDialog

        if self._quit_dialog is not None or not self.has_unsaved_input():
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            self._quit_dialog = None
            if yes:
                self.exit()

        self._quit_dialog = ConfirmDialog(
            "Quit without saving?",
            "What you typed, or this sign-in so far, is not stored yet and would be lost "
            "(a profile is saved when its Discovery step finishes). ctrl+q (or ctrl+c) again "
            "quits too.",
            yes="Quit",
            no="Stay",
        )
        self.push_screen(self._quit_dialog, callback=answered)

    # -- start -------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        """The start screen is the bottom of the stack: one render to the first frame."""
        from clmwizard.screens.start import StartScreen

        return StartScreen(select=self.context.initial_profile)

    # -- the flow --------------------------------------------------------------------------

    def begin(self, choice: Choice) -> None:
        """Run what follows a start-screen choice (flow.run), one step screen at a time."""
        from clmwizard import flow

        self._run_flow(flow.run(self, choice, self.context.demo))

    def begin_at(self, draft: Draft, first: StepName) -> None:
        """Run the flow from `first` with a draft already filled in."""
        from clmwizard import flow

        self._run_flow(flow.run_from(self, draft, first))

    def _run_flow(self, steps: Coroutine[None, None, None]) -> None:
        # A task, not a worker: a flow waits on the user for as long as it lasts, and
        # `workers.wait_for_complete()` (tests, benchmarks) must not wait for it.
        if self._flow is not None:
            self._flow.cancel()
        self.hold_keys()
        self._flow = asyncio.get_running_loop().create_task(self._follow(steps))

    async def _follow(self, steps: Coroutine[None, None, None]) -> None:
        try:
            await steps
        except Exception as error:  # a bug in a step: crash as a worker would
            self._handle_exception(error)
        finally:
            self.release_keys()

    # -- keys typed during a screen change ---------------------------------------------------

    def hold_keys(self) -> None:
        """From now until the next screen is shown, keys wait for it (at most HOLD_KEYS_LIMIT
        seconds: a step that takes longer to appear gets them where they land)."""
        if self._held_keys is None:
            self._held_keys = []
        self._holds += 1
        hold = self._holds

        self.set_timer(HOLD_KEYS_LIMIT, lambda: self._release_keys_of(hold))

    def _release_keys_on(self, screen: Screen[Any]) -> None:
        """Release the keys once `screen` has run its on_mount (which focuses its first field),
        unless another screen change has begun since (they then wait for that one)."""
        hold = self._holds
        screen.call_after_refresh(lambda: self._release_keys_of(hold))

    def _release_keys_of(self, hold: int) -> None:
        if self._holds == hold:
            self.release_keys()

    def release_keys(self) -> None:
        """Hand the held keys, in order, to the screen shown now.

        Keys the app has not read yet (a busy machine) are behind this call in its queue: they
        are held too when read, and the hand-over waits for them, so none overtakes another."""
        self.call_later(self._hand_over_keys, self._holds)

    async def _hand_over_keys(self, hold: int) -> None:
        if self._holds != hold:  # another screen change has begun: they wait for that one
            return
        held, self._held_keys = self._held_keys or [], None
        for key in held:
            await super().on_event(key)

    async def on_event(self, event: events.Event) -> None:
        if (
            self._held_keys is not None
            and isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in _PRIORITY_KEYS  # quitting and help never wait
        ):
            self._held_keys.append(event)
            return
        await super().on_event(event)

    async def show(self, shown: StepInput) -> Answer:
        """flow.Steps: push the step's screen, then wait until it dismisses with its answer."""
        from clmwizard.flow import Back, Saved

        if self._step_screens is None:
            self._step_screens = _step_screens()
        if shown.draft is not self._draft or shown.step in ("Fields", "Export"):
            self._draft_as_shown = copy.deepcopy(shown.draft)  # begun, or stored
        self.draft = shown.draft
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

        if shown.step in ("Fields", "Export", "Publish", "JWT") and shown.draft.profile_name:
            self.closing.profile_name = shown.draft.profile_name  # a saved profile's steps

        def answered(result: Answer | None) -> None:
            if isinstance(result, Saved):
                self.closing.profile_name = result.profile.name
            if isinstance(result, Saved) and self.secrets_are_ephemeral:
                self._memory_profiles.add(result.profile.name)
            if not answer.done():
                answer.set_result(Back() if result is None else result)

        screen = self._step_screens[shown.step](shown)
        await self.push_screen(screen, callback=answered)
        self._remember_inputs(screen)
        return await answer  # the keys held meanwhile go to it once mounted (WizardScreen)

    def _remember_inputs(self, screen: Screen[Any]) -> None:
        """What a step's fields held when shown: anything else is typed (has_unsaved_input)."""
        from textual.widgets import Input

        self._inputs_as_shown[screen] = {id(field): field.value for field in screen.query(Input)}


def _typed(draft: Draft, as_shown: Draft | None) -> bool:
    """The draft differs from how it was shown in more than its stored profile (`existing`,
    which Export and Publish update in the store as they record what they did)."""
    import dataclasses

    if as_shown is None:
        return True
    return dataclasses.replace(draft, existing=None) != dataclasses.replace(as_shown, existing=None)


def closing_text(app: ClmWizardApp) -> str | None:
    """The summary to print once the wizard's screen is gone: the profile worked on this run
    as stored now (no secret is in a profile), or None when no profile was saved or opened."""
    from clmwizard.closing import closing_summary
    from clmwizard.errors import ClmWizardError
    from clmwizard.safe_text import visible

    name = app.closing.profile_name
    if name is None:
        return None
    try:
        profile = app.context.profiles.load(name)
    except ClmWizardError:
        return None
    if app.context.demo is not None:
        where = "in memory (the demo keeps nothing)"
    elif app.secrets_in_memory(name):
        where = "in memory for this run only: nothing was saved"
    else:
        where = "in the keyring (service clmwizard)"
    text = closing_summary(profile, app.closing.verdicts, where, demo=app.context.demo is not None)
    return visible(text, keep_newlines=True)  # an account name comes from a server


def _screen_title(screen: Screen[Any]) -> str:
    """A readable name for a screen without a STEP: "StartScreen" → "Start"."""
    name = type(screen).__name__
    for suffix in ("Screen", "Dialog", "Prompt"):
        name = name.removesuffix(suffix)
    return name or "clmwizard"
