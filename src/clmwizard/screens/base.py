"""The frame every step shares: title bar, step indicator, body, footer with key hints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from clmwizard.widgets.steps import StepIndicator, step_number
from clmwizard.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from clmwizard.app import ClmWizardApp


class Body(VerticalScroll, can_focus=False):
    """The scrolling middle of a screen; focus stays on the fields inside it."""


class WizardScreen(Screen[None]):
    """A step of the wizard. Subclasses set STEP (a short step name) and compose_body()."""

    STEP: str = ""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "back")]

    @property
    def wizard(self) -> ClmWizardApp:
        return cast("ClmWizardApp", self.app)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.wizard.subtitle())
        if self.STEP:
            yield StepIndicator(step_number(self.STEP), id="steps")
        with Body(id="body"):
            yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> Iterable[Widget]:
        return ()

    def on_screen_resume(self) -> None:
        self.query_one(TitleBar).set_subtitle(self.wizard.subtitle())

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
