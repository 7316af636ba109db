"""An Input for secrets: masked until revealed, and Ctrl+C / Ctrl+X never copy its text."""

from __future__ import annotations

from textual.widgets import Input


class SecretInput(Input):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(password=True, **kwargs)  # type: ignore[arg-type]

    def toggle_reveal(self) -> None:
        self.password = not self.password

    def action_copy(self) -> None:
        self._refuse_copy()

    def action_cut(self) -> None:
        self._refuse_copy()

    def _refuse_copy(self) -> None:
        self.app.notify(
            "Secrets are not copied from the input. Use the copy keys on the fields screen: "
            "they clear the clipboard after a short time.",
            severity="warning",
        )
