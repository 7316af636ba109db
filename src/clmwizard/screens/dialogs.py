"""Small modal dialogs: confirm, manual copy, secret prompt, one action's Definition values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.guard import guarded
from clmwizard.widgets.copy_table import CopyItem, CopyTable
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.focus_mark import MarkedButton
from clmwizard.widgets.secret_input import SecretInput

if TYPE_CHECKING:
    from clmwizard.connector.fields import ActionDefinition
    from clmwizard.screens.base import Wizard


class TwoButtonDialog(ModalScreen[bool]):
    """A question answered by two buttons (the safe one, `NO`, focused) or by their keys."""

    YES = "yes"
    NO = "no"

    def on_mount(self) -> None:
        self.query_one(f"#{self.NO}", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == self.YES)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ConfirmDialog(TwoButtonDialog):
    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n,escape", "answer(False)", "no"),
    ]

    def __init__(self, question: str, detail: str = "", *, yes: str = "Yes", no: str = "No"):
        super().__init__(classes="dialog-screen")
        self.question = question
        self.detail = detail
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(escape(self.question), classes="dialog-title")
            if self.detail:
                yield Static(escape(self.detail), classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield MarkedButton(f"{self.yes} (y)", id="yes", variant="warning")
                yield MarkedButton(f"{self.no} (n)", id="no")


class ManualCopyDialog(ModalScreen[None]):
    """Shown when no clipboard can be trusted: the value to select and copy by hand."""

    BINDINGS = [
        Binding("escape,enter", "close", "close"),
        Binding("p", "print_value", "print to the terminal"),
    ]

    def __init__(self, label: str, value: str, *, secret: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.label = label
        self.value = value
        self.secret = secret

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Printing leaves the value in the terminal's scrollback: never for a secret.
        return not (action == "print_value" and self.secret)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog manual-copy"):
            yield Label(f"Copy {escape(self.label)} by hand", classes="dialog-title")
            how = "Select the value with the mouse (hold Shift in most terminals)."
            if not self.secret:
                how += " Long values: press p to print it on the plain terminal, unwrapped."
            yield Static(
                "No clipboard is reachable from here (no xclip / wl-copy, and this terminal may "
                f"ignore OSC 52). {how}",
                classes="dialog-detail",
            )
            yield Static(escape(self.value), id="manual-value", classes="manual-value")
            if self.secret:
                yield Static(
                    "This is a secret: close this dialog as soon as you have copied it.",
                    classes="dialog-warning",
                )
            yield MarkedButton("Close (esc)", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)

    def action_print_value(self) -> None:
        from textual.app import SuspendNotSupported

        try:
            with self.app.suspend():
                print(f"\n{self.label}:\n\n{self.value}\n")
                input("Select and copy it, then press Enter to return to clmwizard. ")
        except SuspendNotSupported:
            self.app.notify("This terminal cannot be handed over: select the value above.")


class SecretPrompt(ModalScreen[str | None]):
    """Ask for a secret key; `check` proves it (e.g. a refresh) before the dialog closes."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+r", "reveal", "reveal"),
    ]

    def __init__(
        self,
        title: str,
        explanation: str,
        check: Callable[[str], Awaitable[None]] | None = None,
        *,
        prefill: str = "",
        note: str = "",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.explanation = explanation
        self.check = check
        self.prefill = prefill  # the demo's spare secret key (a test value)
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(escape(self.title_text), classes="dialog-title")
            yield Static(escape(self.explanation), classes="dialog-detail")
            if self.note:
                yield Static(escape(self.note), classes="dialog-detail", id="secret-note")
            yield SecretInput(value=self.prefill, placeholder="paste the secret key", id="secret")
            yield FieldMessage(id="secret-message")
            with Horizontal(classes="dialog-buttons"):
                yield MarkedButton("OK (enter)", id="ok", variant="primary")
                yield MarkedButton("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#secret", SecretInput).focus()

    def action_reveal(self) -> None:
        self.query_one("#secret", SecretInput).toggle_reveal()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#ok")
    @on(SecretInput.Submitted)
    def _submit(self) -> None:
        self._prove(self.query_one("#secret", SecretInput).value)

    @work(exclusive=True, group="secret-prompt")
    @guarded("#secret-message")
    async def _prove(self, value: str) -> None:
        message = self.query_one("#secret-message", FieldMessage)
        if not value.strip():
            message.show_error("Paste the secret key first.")
            return
        if self.check is not None:
            message.show_note("Checking the secret key with DocuSign…")
            try:
                await self.check(value)
            except ClmWizardError as error:
                message.show_error(error)
                return
        self.dismiss(value)


class ActionValuesDialog(ModalScreen[None]):
    """Summary, description, operation ID, visibility, verb, URL, headers and body samples of
    one action, in the portal's order (General, then Request, then Response)."""

    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("1", "copy('1')", "copy", key_display="1–9"),
        *(Binding(key, f"copy('{key}')", show=False) for key in CopyTable.HOTKEYS[1:9]),
    ]

    def __init__(self, action: ActionDefinition) -> None:
        super().__init__(classes="dialog-screen")
        self.action = action

    def compose(self) -> ComposeResult:
        action = self.action
        with Vertical(classes="dialog action-values"):
            yield Label(
                f"{action.summary} ({action.operation_id})", markup=False, classes="dialog-title"
            )
            yield CopyTable(
                [CopyItem(key, label, value) for key, label, value in action.values()],
                id="action-values",
            )
            where = (
                "Portal: Definition → New action (General), then Request → Import from sample "
                "(verb, URL, headers, body), then Response → Add default response (body)."
            )
            yield Static(where, markup=False, classes="dialog-detail")
            if action.note:
                yield Static(action.note, markup=False, classes="dialog-warning")
            yield Static("1–9 copy a value · esc back to the actions", classes="dialog-detail")

    def action_copy(self, hotkey: str) -> None:
        item = self.query_one("#action-values", CopyTable).item_for_hotkey(hotkey)
        if item is not None:
            cast("Wizard", self.app).copy_value(item.label, item.value)

    def action_close(self) -> None:
        self.dismiss(None)


MEMORY_CHOICE = (
    "keep the secrets in memory for this run only (you can still copy every field and export; "
    "a rerun asks again)"
)


class KeyringDialog(TwoButtonDialog):
    """The keyring cannot store secrets: fix it first (esc), or keep them in memory (m)."""

    YES = "memory"
    NO = "back"

    BINDINGS = [
        Binding("m", "answer(True)", "keep in memory"),
        Binding("escape,n", "answer(False)", "back"),
    ]

    def __init__(self, error: ClmWizardError) -> None:
        super().__init__(classes="dialog-screen")
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Secrets cannot be stored in the keyring", classes="dialog-title")
            message = FieldMessage(id="keyring-error", classes="dialog-detail")
            message.show_error(self.error)
            yield message
            yield Static(
                f"[b]m[/b] {escape(MEMORY_CHOICE)}\n[b]esc[/b] back, to fix the keyring first "
                "(`clmwizard doctor` checks it)",
                classes="dialog-detail",
            )
            with Horizontal(classes="dialog-buttons"):
                yield MarkedButton("Keep in memory (m)", id="memory", variant="warning")
                yield MarkedButton("Back (esc)", id="back")
