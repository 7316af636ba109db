"""Messages shown beside the field they concern: errors (what, cause, fix), warnings, notes."""

from __future__ import annotations

import re

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import visible

SIGNS = ("✗", "!", "✓")
_CODE = re.compile(r"`([^`\n]{1,200})`")


class FieldMessage(Static):
    """An empty line until it holds an error, a warning or a confirmation.

    The sign stands in its own column, so wrapped lines stay indented under the text.
    `text` holds what is shown, as plain text.
    """

    DEFAULT_CSS = """
    FieldMessage { height: auto; padding: 0 1; display: none; }
    FieldMessage.-shown { display: block; }
    FieldMessage.-error { color: $error; }
    FieldMessage.-warning { color: $warning; }
    FieldMessage.-ok { color: $success; }
    """

    text: str = ""

    def show_error(self, error: ClmWizardError | str) -> None:
        text = error.render_for_wizard() if isinstance(error, ClmWizardError) else f"✗ {error}"
        self._show(text, "-error")

    def show_warning(self, text: str) -> None:
        self._show(f"! {text}", "-warning")

    def show_ok(self, text: str) -> None:
        self._show(f"✓ {text}", "-ok")

    def show_note(self, text: str) -> None:
        self._show(text, "")

    def clear(self) -> None:
        self.text = ""
        self.update("")
        self.remove_class("-shown", "-error", "-warning", "-ok")

    def _show(self, text: str, kind: str) -> None:
        text = visible(text, keep_newlines=True)  # an error may quote a server's text
        # The core's messages mark names as `code` (Markdown, for the command line); on screen
        # the backticks would show as they are.
        text = _CODE.sub(r"\1", text)
        self.text = text
        self.remove_class("-error", "-warning", "-ok")
        if kind:
            self.add_class(kind)
        self.add_class("-shown")
        self.update(_hanging(text))


def _hanging(text: str) -> Table | Text:
    sign, _, rest = text.partition(" ")
    if sign not in SIGNS:
        return Text(text)
    lines = [line[2:] if line.startswith("  ") else line for line in rest.split("\n")]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(sign, Text("\n".join(lines)))
    return grid
