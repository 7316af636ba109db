"""A wait in the wizard as one line: a spinner, what is awaited, the time waited and its limit.

`⠋ Finding the CLM hosts…  0:03 of 3:10`, the same clock as the command line's waits
(wait_clock). The limit is the caller's real deadline: the wait ends by then, one way or another.
"""

from __future__ import annotations

from time import monotonic

from textual.timer import Timer
from textual.widgets import Static

from clmwizard.safe_text import markup_escaped as escape
from clmwizard.wait_clock import SPINNER, clock


class WaitLine(Static):
    """A line of text that, between `start` and `stop`, shows the wait's clock."""

    def __init__(self, content: str = "", *, id: str | None = None) -> None:
        super().__init__(content, id=id)
        self.label = ""
        self.limit = 0.0
        self.started = 0.0
        self._frame = 0
        self._timer: Timer | None = None

    @property
    def waiting(self) -> bool:
        return self._timer is not None

    def start(self, label: str, limit: float) -> None:
        """Wait for `label` (plain text), giving up after `limit` seconds."""
        self.label, self.limit, self.started = label, limit, monotonic()
        self.display = True
        if self._timer is None:
            self._timer = self.set_interval(0.25, self._tick)
        self._tick()

    def stop(self, text: str | None = None) -> None:
        """The wait is over: `text` (markup) takes the clock's place; None hides the line."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if text is None:
            self.update("")
            self.display = False
        else:
            self.update(text)

    def line(self, waited: float) -> str:
        return (
            f"  {SPINNER[self._frame]} {escape(self.label)}  {clock(waited)} of {clock(self.limit)}"
        )

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self.update(self.line(monotonic() - self.started))
