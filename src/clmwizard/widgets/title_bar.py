"""The first line: product, profile, environment."""

from __future__ import annotations

from textual.widgets import Static

from clmwizard.safe_text import markup_escaped


class TitleBar(Static):
    DEFAULT_CSS = "TitleBar { height: 1; padding: 0 1; }"

    def __init__(self, subtitle: str = "") -> None:
        super().__init__(id="title-bar")
        self.set_subtitle(subtitle)

    def set_subtitle(self, subtitle: str) -> None:
        parts = ["[b]clmwizard[/b]"]
        if subtitle:
            parts.append(markup_escaped(subtitle))
        self.update(" · ".join(parts))
