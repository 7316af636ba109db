"""The step indicator: ● done ─ ◉ current ─ ○ to come. The steps are the flow's (flow.STEPS)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static


def step_number(short_name: str, steps: Sequence[tuple[str, str]] | None = None) -> int:
    """1-based position of a step by its short name (in `steps`, by default flow.STEPS)."""
    from clmwizard.flow import STEPS

    return [short for short, _ in steps or STEPS].index(short_name) + 1


class StepIndicator(Static):
    """One line naming every step and marking where the user is."""

    DEFAULT_CSS = "StepIndicator { height: 1; padding: 0 1; }"

    def __init__(
        self,
        current: int,
        *,
        steps: Sequence[tuple[str, str]] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.current = current
        self.steps = steps

    def render(self) -> Text:
        width = (self.size.width or 100) - 2
        # Shorter and shorter until the line fits: the current step's short name, done steps as
        # ● only, then tighter separators; every step to come keeps its name (Publish too).
        for long_current, name_done, separator in (
            (True, True, " ─ "),
            (False, True, " ─ "),
            (False, False, " ─ "),
            (False, False, "  "),
            (False, False, " "),
        ):
            text = self._line(long_current=long_current, name_done=name_done, separator=separator)
            if text.cell_len <= width:
                return text
        return text

    def _line(self, *, long_current: bool, name_done: bool = True, separator: str = " ─ ") -> Text:
        from clmwizard.flow import STEPS

        line = Text()
        for index, (short, long) in enumerate(self.steps or STEPS, start=1):
            if index > 1:
                line.append(separator, style="dim")
            if index < self.current:
                line.append(f"● {short}" if name_done else "●", style="green")
            elif index == self.current:
                line.append(f"◉ {long if long_current else short}", style="bold reverse")
            else:
                line.append(f"○ {short}", style="dim")
        return line
