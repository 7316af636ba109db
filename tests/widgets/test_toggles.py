"""Toggles read as text: the chosen option differs from the others without any colour."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import RadioSet
from textual.widgets.selection_list import Selection

from clmwizard.widgets.toggles import TextCheckbox, TextRadioButton, TextSelectionList


class TogglesApp(App[None]):
    def compose(self) -> ComposeResult:
        with RadioSet(id="env"):
            yield TextRadioButton("Developer", value=False, id="dev")
            yield TextRadioButton("Production", value=True, id="prod")
        yield TextCheckbox("Use PKCE", value=True, id="pkce")
        yield TextSelectionList[str](
            Selection("signature", "signature", True),
            Selection("extended", "extended", False),
            id="scopes",
        )


def plain_screen(app: App[None]) -> str:
    """The screen as a monochrome terminal shows it: text only, no styles."""
    lines = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in lines)


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
