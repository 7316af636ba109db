"""The key hints are rebuilt when what they show changes, and only then: Textual's Footer
rebuilds every key at each bindings update (focus moves, phases), most of which change nothing."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input

from clmwizard.widgets.key_hints import KeyHints
from tests.support.pilot import ScreenApp, plain_screen, until


class CountingHints(KeyHints):
    rebuilt = 0

    async def recompose(self) -> None:
        CountingHints.rebuilt += 1
        await super().recompose()


class Step(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "open", "open link"),
        Binding("f5", "retry", "retry"),
    ]
    can_retry = False

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="second")
        yield CountingHints()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_retry if action == "retry" else True


async def test_hints_are_rebuilt_only_when_they_change() -> None:
    app = ScreenApp(Step())
    async with app.run_test(size=(80, 12)) as pilot:
        await until(pilot, lambda: "open link" in plain_screen(app))
        screen = app.screen
        assert isinstance(screen, Step)
        settled = CountingHints.rebuilt
        for _ in range(5):  # what a phase change or a focus move does: nothing shown changes
            screen.refresh_bindings()
            await pilot.press("tab")
        await pilot.pause()
        assert CountingHints.rebuilt == settled
        assert "retry" not in plain_screen(app)
        screen.can_retry = True  # a phase that offers retry: its hint appears
        screen.refresh_bindings()
        await until(pilot, lambda: "retry" in plain_screen(app))
        assert CountingHints.rebuilt == settled + 1
