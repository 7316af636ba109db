"""A URL on a line of its own, as a mouse selection takes it whole.

Nothing else shares its rows: no border, no padding, no indent, no label. A URL wider than the
screen continues at column 0 of the next row (never word-wrapped under an indent), so the rows
selected together are the URL and nothing else. `url` holds it as given (shown as text: a
server's URL cannot carry markup or escape sequences to the terminal).
"""

from __future__ import annotations

from textual.widgets import Static

from clmwizard.safe_text import markup_escaped as escape


class UrlLine(Static):
    DEFAULT_CSS = """
    UrlLine {
        width: 100%;
        height: auto;
        padding: 0;
        margin: 0;
        border: none;
        text-wrap: wrap;
        text-overflow: fold;
    }
    """

    def __init__(self, url: str = "", *, id: str | None = None) -> None:
        super().__init__(escape(url), id=id, markup=True)
        self.url = url

    def show(self, url: str) -> None:
        self.url = url
        self.update(escape(url))
