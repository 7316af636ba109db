"""The keys help lists every enabled key of the screen, also those the footer does not show."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from clmwizard.screens.keys_help import KeysHelpDialog, key_rows
from tests.support.pilot import ScreenApp


class StepLike(Screen[None]):
    BINDINGS = [
        Binding("o", "open", "open"),
        Binding("k", "key_again", "re-enter the secret", show=False),
        Binding("a", "approve", "approve (demo)"),
    ]

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("step")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "approve"  # disabled keys are not listed

    def action_open(self) -> None: ...
    def action_key_again(self) -> None: ...
    def action_approve(self) -> None: ...


async def test_key_rows_include_hidden_keys_and_leave_out_disabled_ones() -> None:
    app = ScreenApp(StepLike())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = key_rows(app.screen)
        assert ("o", "open") in rows
        assert ("k", "re-enter the secret") in rows
        assert all(what != "approve (demo)" for _, what in rows)
        app.push_screen(KeysHelpDialog("Consent", rows))
        await pilot.pause()
        shown = str(app.screen.query_one("#keys-help-rows", Static).render())
        assert "re-enter the secret" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, StepLike)
