"""The help dialog (`?` / `f1`): every key of the current screen, also those the footer hides."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

# Keys Textual binds on every screen that are not clmwizard's to explain.
_INTERNAL_ACTIONS = {
    "focus_next",
    "focus_previous",
    "command_palette",
    "help_quit",
    "keys_help",
    "copy_text",
}


# A list's paging and scrolling keys: the same everywhere, and many.
_NAVIGATION_PREFIXES = ("scroll_", "page_", "first", "last")


def key_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, what it does) for every binding active on `screen`, footer-hidden ones included;
    keys doing the same thing share a row ("⏎ / ^n  next")."""
    rows: dict[str, list[str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        action = binding.action.rpartition(".")[2]  # "app.focus_next" → "focus_next"
        if action in _INTERNAL_ACTIONS or not active.enabled:
            continue
        # A field's editing keys are not this screen's; a list's choosing keys are (space,
        # arrows), its paging keys are not.
        widget_only = not isinstance(active.node, Screen | App) and not binding.show
        if widget_only and (
            isinstance(active.node, Input) or action.startswith(_NAVIGATION_PREFIXES)
        ):
            continue
        what = binding.description or binding.action.replace("_", " ")
        keys = rows.setdefault(what.lower(), [what])
        shown = screen.app.get_key_display(binding)
        if shown not in keys[1:]:
            keys.append(shown)
    listed = [(" / ".join(keys[1:]), keys[0]) for keys in rows.values()]
    listed.append(("tab / shift+tab", "next / previous field"))
    return listed


class KeysHelpDialog(ModalScreen[None]):
    """Lists the keys of the screen underneath in plain text."""

    BINDINGS = [Binding("escape,enter,question_mark,f1,q", "close", "close")]
    DEFAULT_CSS = "KeysHelpDialog .keys-help { height: auto; max-height: 90%; }"

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = max((len(key) for key, _ in self.rows), default=0)
        lines = "\n".join(f"{key:<{width}}  {what}" for key, what in self.rows)
        with VerticalScroll(classes="dialog keys-help"):
            yield Label(f"Keys on this screen: {self.title_text}", classes="dialog-title")
            yield Static(lines, markup=False, classes="dialog-detail", id="keys-help-rows")
            yield Static("esc closes this list.", classes="dialog-detail")

    def action_close(self) -> None:
        self.dismiss(None)
