"""Rows of values, each one key from the clipboard; secrets masked until revealed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from clmwizard.redact import mask
from clmwizard.safe_text import visible


@dataclass(frozen=True)
class CopyItem:
    key: str
    label: str
    value: str
    secret: bool = False
    note: str = ""
    copyable: bool = True
    verb: str = "copy"  # what the row's key does, shown beside it ("copy", "open")


class CopyRow(Static):
    DEFAULT_CSS = "CopyRow { height: auto; }"

    def __init__(
        self, item: CopyItem, hotkey: str | None, *, revealed: bool = False, label_width: int = 19
    ) -> None:
        super().__init__(classes="copy-row")
        self.item = item
        self.hotkey = hotkey
        self.label_width = label_width
        self.revealed = revealed
        self.update(self._table())

    def set_revealed(self, revealed: bool) -> None:
        self.revealed = revealed
        self.update(self._table())

    def _table(self) -> RenderableType:
        item = self.item
        value = Text()
        if not item.value:
            value.append("(none)", style="dim")
        elif item.secret and not self.revealed:
            value.append(mask(item.value))
            value.append("   r reveal", style="dim")
        else:
            value.append(visible(item.value, keep_newlines=True))
        if item.note:
            value.append("\n" + item.note, style="dim")
        hint = Text()
        if self.hotkey and item.copyable:
            hint.append(self.hotkey, style="bold")
            hint.append(f" {item.verb}", style="dim")
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(width=self.label_width, no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        grid.add_column(width=6, justify="right")
        grid.add_row(Text(item.label, style="bold"), value, hint)
        return grid


class CopyTable(VerticalScroll, can_focus=False):
    """A list of CopyRows with copy hotkeys: 1–9, then letters (r is reveal, so skipped)."""

    DEFAULT_CSS = "CopyTable { height: auto; max-height: 100%; border: round $primary 50%; }"
    HOTKEYS = "123456789abcdefghijklmnopqstuvwxyz"

    def __init__(self, items: list[CopyItem], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items = items
        self.revealed = False

    def compose(self) -> ComposeResult:
        yield from self._rows()

    def _rows(self) -> list[CopyRow]:
        hotkeys = iter(self.HOTKEYS)
        # Labels up to 24 columns keep their full text; values get the rest.
        width = min(24, max((len(item.label) for item in self.items), default=19))
        rows = []
        for item in self.items:
            hotkey = next(hotkeys, None) if item.copyable else None
            rows.append(CopyRow(item, hotkey, revealed=self.revealed, label_width=max(19, width)))
        return rows

    def set_items(self, items: list[CopyItem]) -> None:
        self.items = items
        self.remove_children()
        self.mount_all(self._rows())

    def item_for_hotkey(self, hotkey: str) -> CopyItem | None:
        for row in self.query(CopyRow):
            if row.hotkey == hotkey:
                return row.item
        return None

    def set_revealed(self, revealed: bool) -> None:
        self.revealed = revealed
        for row in self.query(CopyRow):
            row.set_revealed(revealed)
