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

    # From the fullest line to the shortest, the first that fits is shown: (the current step's
    # long name, done steps named: all / the last one / none, how many steps to come are named:
    # all, or the next N). With eleven steps, 80 columns keep the current step's neighbours.
    NEARS = (6, 5, 4, 3, 2)
    LEVELS: tuple[tuple[bool, str, int | None], ...] = (
        (True, "all", None),
        (False, "all", None),
        *((True, "all", near) for near in NEARS),
        *((True, "last", near) for near in NEARS),
        *((False, "none", near) for near in (*NEARS, 1)),
    )

    def render(self) -> Text:
        width = self.size.width or 100
        for long_current, done, to_come in self.LEVELS:
            text = self._line(long_current=long_current, done=done, to_come=to_come)
            if text.cell_len <= width - 2:
                return text
        return text

    def _line(self, *, long_current: bool, done: str = "all", to_come: int | None = None) -> Text:
        from clmwizard.flow import STEPS

        line = Text()
        for index, (short, long) in enumerate(self.steps or STEPS, start=1):
            if index > 1:
                line.append(" ─ ", style="dim")
            if index < self.current:
                named = done == "all" or (done == "last" and index == self.current - 1)
                line.append(f"● {short}" if named else "●", style="green")
            elif index == self.current:
                line.append(f"◉ {long if long_current else short}", style="bold reverse")
            else:
                named = to_come is None or index <= self.current + to_come
                line.append(f"○ {short}" if named else "○", style="dim")
        return line
