"""Messages shown beside the field they concern: errors (what, cause, fix), warnings, notes."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from clmwizard.errors import ClmWizardError


class FieldMessage(Static):
    """An empty line until it holds an error, a warning or a confirmation."""

    DEFAULT_CSS = """
    FieldMessage { height: auto; padding: 0 1; display: none; }
    FieldMessage.-shown { display: block; }
    FieldMessage.-error { color: $error; }
    FieldMessage.-warning { color: $warning; }
    FieldMessage.-ok { color: $success; }
    """

    def show_error(self, error: ClmWizardError | str) -> None:
        text = error.render() if isinstance(error, ClmWizardError) else f"✗ {error}"
        self._show(text, "-error")

    def show_warning(self, text: str) -> None:
        self._show(f"! {text}", "-warning")

    def show_ok(self, text: str) -> None:
        self._show(f"✓ {text}", "-ok")

    def show_note(self, text: str) -> None:
        self._show(text, "")

    def clear(self) -> None:
        self.update("")
        self.remove_class("-shown", "-error", "-warning", "-ok")

    def _show(self, text: str, kind: str) -> None:
        self.remove_class("-error", "-warning", "-ok")
        if kind:
            self.add_class(kind)
        self.add_class("-shown")
        self.update(escape(text))
