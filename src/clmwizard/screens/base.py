"""The frame every step shares: title bar, step indicator, body, footer with key hints."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget

from clmwizard.widgets.key_hints import KeyHints
from clmwizard.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from clmwizard.closing import ClosingNotes
    from clmwizard.context import WizardContext
    from clmwizard.draft import Draft
    from clmwizard.flow import Answer, Choice
    from clmwizard.store.secrets import SecretStore


class Wizard(Protocol):
    """What the screens use of the app (ClmWizardApp), so they need not import it."""

    context: WizardContext
    closing: ClosingNotes  # what the summary printed at the end needs from the steps

    @property
    def draft(self) -> Draft: ...

    @property
    def secrets_are_ephemeral(self) -> bool: ...

    def subtitle(self) -> str: ...

    def secret_store(self) -> SecretStore: ...

    def use_memory_secrets(self) -> None: ...

    def secrets_in_memory(self, profile_name: str) -> bool: ...

    def copy_value(self, label: str, value: str, *, secret: bool = False) -> None: ...

    def begin(self, choice: Choice) -> None: ...

    def hold_keys(self) -> None: ...

    def release_keys(self) -> None: ...


class Body(VerticalScroll, can_focus=False):
    """The scrolling middle of a screen; focus stays on the fields inside it."""


class WizardScreen(Screen["Answer"]):
    """One step of the wizard: shows it, then dismisses with the step's answer (flow.py says
    what comes next). Subclasses set STEP (a short step name) and compose_body()."""

    STEP: str = ""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "back")]

    @property
    def wizard(self) -> Wizard:
        return cast("Wizard", self.app)

    def _on_mount(self, event: events.Mount) -> None:
        # After the step's own on_mount (Textual calls a subclass's handler first), whose
        # focus() is queued on the app: the keys typed during the screen change follow it there.
        self.wizard.release_keys()

    def compose(self) -> ComposeResult:
        yield TitleBar(self.wizard.subtitle())
        if self.STEP:
            from clmwizard.flow import shown_steps
            from clmwizard.widgets.steps import StepIndicator, step_number

            steps = shown_steps(self.wizard.draft, self.STEP)
            yield StepIndicator(step_number(self.STEP, steps), steps=steps, id="steps")
        with Body(id="body"):
            yield from self.compose_body()
        yield KeyHints()

    def compose_body(self) -> Iterable[Widget]:
        return ()

    async def stored_secret_key(self, profile_name: str) -> str | None:
        """The profile's secret key from the secret store (opened and read off the UI thread;
        a worker's guard shows what goes wrong)."""
        import asyncio

        from clmwizard.store.profile import SECRET_KEY

        return await asyncio.to_thread(
            lambda: self.wizard.secret_store().get(profile_name, SECRET_KEY)
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        from clmwizard.widgets.focus_mark import mark_focus

        mark_focus(event.widget, True)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        from clmwizard.widgets.focus_mark import mark_focus

        mark_focus(event.widget, False)

    def on_screen_resume(self) -> None:
        self.query_one(TitleBar).set_subtitle(self.wizard.subtitle())

    def answer(self, answer: Answer) -> None:
        """The step is over: hand its answer to the flow (closing any dialog left above it)."""
        if self not in self.app.screen_stack:
            return
        while self.app.screen is not self:
            self.app.pop_screen()
        self.wizard.hold_keys()  # what is typed now is for the next step's screen
        self.dismiss(answer)

    def confirm(
        self,
        dialog: Screen[bool],
        yes: Callable[[], object],
        no: Callable[[], object] | None = None,
    ) -> None:
        """Ask with `dialog` (a ConfirmDialog): `yes` runs on a yes, `no` (if any) on a no."""

        def answered(answer: bool | None) -> None:
            if answer:
                yes()
            elif no is not None:
                no()

        self.app.push_screen(dialog, callback=answered)

    def action_back(self) -> None:
        from clmwizard.flow import Back

        self.answer(Back())
