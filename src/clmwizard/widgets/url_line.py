"""A URL on a line of its own, never wrapped: a line longer than the screen runs past its edge
and scrolls sideways (shift+wheel, or the scrollbar), so a mouse selection takes it whole and no
border or indentation lands inside it. The step's copy key stays the sure way."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import HorizontalScroll
from textual.widgets import Static

from clmwizard.safe_text import visible


class UrlLine(HorizontalScroll):
    """One URL (a server's string: shown as text, never markup), or nothing at all."""

    DEFAULT_CSS = """
    UrlLine {
        height: auto;
        overflow-x: auto;
        overflow-y: hidden;
        scrollbar-size-horizontal: 1;
        display: none;
    }
    UrlLine.-shown { display: block; }
    UrlLine > Static { width: auto; height: 1; text-wrap: nowrap; }
    """
    can_focus = False  # the step's keys stay the step's; the copy key takes the URL

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.url = ""

    def compose(self) -> ComposeResult:
        yield Static("", classes="url")

    def show(self, url: str) -> None:
        self.url = url
        self.query_one(".url", Static).update(Text(visible(url), no_wrap=True, end=""))
        self.set_class(bool(url), "-shown")
        self.scroll_home(animate=False)

    def clear(self) -> None:
        self.show("")
