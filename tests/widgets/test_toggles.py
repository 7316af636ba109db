"""Toggles read as text: the chosen option differs from the others without any colour."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import RadioSet
from textual.widgets.selection_list import Selection

from clmwizard.widgets.toggles import (
    TextCheckbox,
    TextRadioButton,
    TextRadioSet,
    TextSelectionList,
)
from tests.support.pilot import plain_screen


class TogglesApp(App[None]):
    def compose(self) -> ComposeResult:
        with TextRadioSet(id="env"):
            yield TextRadioButton("Developer", value=False, id="dev", name="dev")
            yield TextRadioButton("Production", value=True, id="prod", name="prod")
        yield TextCheckbox("Use PKCE", value=True, id="pkce")
        yield TextSelectionList[str](
            Selection("signature", "signature", True),
            Selection("extended", "extended", False),
            id="scopes",
        )


async def test_radio_checkbox_and_selection_state_read_as_text() -> None:
    app = TogglesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        text = plain_screen(app)
        assert "( ) Developer" in text
        assert "(•) Production" in text
        assert "[x] Use PKCE" in text
        assert "[x] signature" in text
        assert "[ ] extended" in text

        app.query_one("#dev", TextRadioButton).value = True
        app.query_one("#pkce", TextCheckbox).value = False
        app.query_one("#scopes", TextSelectionList).select("extended")
        await pilot.pause()
        text = plain_screen(app)
        assert "(•) Developer" in text
        assert "( ) Production" in text
        assert "[ ] Use PKCE" in text
        assert "[x] extended" in text


async def test_selection_list_toggles_with_space_and_marker_follows() -> None:
    app = TogglesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        scopes = app.query_one("#scopes", TextSelectionList)
        scopes.focus()
        scopes.highlighted = 1
        await pilot.press("space")
        assert scopes.selected == ["signature", "extended"]
        assert "[x] extended" in plain_screen(app)
        await pilot.press("space")
        assert "[ ] extended" in plain_screen(app)


async def test_highlight_starts_on_the_chosen_button() -> None:
    app = TogglesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        radio = app.query_one("#env", TextRadioSet)
        assert radio._selected == 1  # Production, not Textual's first button
        assert radio.query(TextRadioButton)[1].has_class("-selected")


class Watching(TogglesApp):
    """The toggles app, noting each radio set's Changed message (the button pressed)."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__()
        self.changes = changes

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.changes.append(str(event.pressed.id))


async def test_enter_never_changes_a_choice_and_space_does() -> None:
    changes: list[str] = []
    app = Watching(changes)
    async with app.run_test(size=(60, 20)) as pilot:
        radio = app.query_one("#env", TextRadioSet)
        radio.focus()
        await pilot.press("up", "enter")
        assert radio._selected == 0  # the highlight moved to Developer
        assert app.query_one("#prod", TextRadioButton).value and changes == []
        await pilot.press("space")
        assert app.query_one("#dev", TextRadioButton).value and changes == ["dev"]

        pkce = app.query_one("#pkce", TextCheckbox)
        pkce.focus()
        await pilot.press("enter")
        assert pkce.value
        await pilot.press("space")
        assert not pkce.value

        scopes = app.query_one("#scopes", TextSelectionList)
        scopes.focus()
        scopes.highlighted = 1
        await pilot.press("enter")
        assert scopes.selected == ["signature"]
        await pilot.press("space")
        assert scopes.selected == ["signature", "extended"]


async def test_choose_moves_choice_and_highlight_without_a_changed_message() -> None:
    changes: list[str] = []
    app = Watching(changes)
    async with app.run_test(size=(60, 20)) as pilot:
        radio = app.query_one("#env", TextRadioSet)
        radio.choose("dev")
        await pilot.pause()
        assert radio.chosen_name == "dev" and radio._selected == 0
        assert radio.pressed_button is app.query_one("#dev")
        assert "(•) Developer" in plain_screen(app) and "( ) Production" in plain_screen(app)
        assert changes == []


async def test_help_lists_the_arrows_and_space_once() -> None:
    from clmwizard.screens.keys_help import key_rows

    app = TogglesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        for selector in ("#env", "#scopes"):
            app.query_one(selector).focus()
            await pilot.pause()
            rows = key_rows(app.screen)
            assert rows.count(("↑↓", "move")) == 1, rows
            assert [what for _, what in rows].count("move") == 1, rows
            assert ("space", "choose") in rows, rows
            assert not any(key == "enter" for key, _ in rows), rows
