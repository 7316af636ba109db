"""The footer of key hints, redrawn only when the hints change."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyHints(Footer):
    """Textual's Footer, which rebuilds all its keys at every bindings update of its screen:
    a focus move, a screen pushed over it, each phase a step sets. Most change nothing shown
    (a demo tour to the heartbeat rebuilt it 109 times); this one rebuilds only when they do."""

    _shown: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        will_recompose = screen.app.app_focus and self.is_attached and screen is self.screen
        if will_recompose:
            shown = self._hints()
            if shown == self._shown:
                self._bindings_ready = True
                return
            self._shown = shown
        super().bindings_changed(screen)

    def _hints(self) -> tuple[Any, ...]:
        return (
            self.compact,
            self.show_command_palette,
            *(
                (b.key, b.action, b.description, b.group, on, tip, self.app.get_key_display(b))
                for _, b, on, tip in self.screen.active_bindings.values()
                if b.show
            ),
        )
