"""A clock for the command line's waits: a spinner, the time waited and the limit, on one line.

The clock writes to standard error, and redraws its line only when that is a terminal (a log or
a pipe gets the hint, never a stream of carriage returns). It writes past the CLI's
VisibleWriter (which would show a carriage return as ␍): its own text holds no server string.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TextIO

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
HINT_AFTER = 20.0  # seconds before the usual causes are named


def clock(seconds: float) -> str:
    """`m:ss` (or `h:mm:ss` past an hour)."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


def gives_up(limit: float, now: datetime | None = None) -> str:
    """When a wait of `limit` seconds started `now` gives up, in words: for the wait's line."""
    moment = (now or datetime.now(UTC)) + timedelta(seconds=limit)
    return f"gives up after {clock(limit)}, at {moment.astimezone(UTC):%H:%M} UTC"


def _raw(stream: TextIO) -> TextIO:
    target = getattr(stream, "target", None)  # the CLI's VisibleWriter wraps the real stream
    return target if target is not None else stream


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class WaitClock:
    """`with WaitClock("Waiting for DocuSign", 300): …` shows `⠋ Waiting for DocuSign 0:05 of
    5:00` on a terminal's standard error while the block runs, and `hint` once `hint_after`
    seconds have passed (on any standard error). The line is cleared when the block ends."""

    def __init__(
        self,
        label: str,
        limit: float,
        *,
        hint: str | None = None,
        hint_after: float = HINT_AFTER,
        stream: TextIO | None = None,
        interval: float = 0.25,
    ) -> None:
        self.label = label
        self.limit = limit
        self.hint = hint
        self.hint_after = hint_after
        self._stream = stream
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self._frame = 0
        self._drawn = False
        self.hinted = False

    @property
    def stream(self) -> TextIO:
        return _raw(self._stream if self._stream is not None else sys.stderr)

    def line(self, waited: float) -> str:
        self._frame = (self._frame + 1) % len(SPINNER)
        return f"  {SPINNER[self._frame]} {self.label}  {clock(waited)} of {clock(self.limit)}"

    def start(self) -> WaitClock:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True, name="wait-clock")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        if self._drawn:
            self._write("\r\x1b[K")

    def __enter__(self) -> WaitClock:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        tty = _is_tty(self.stream)
        while not self._stop.wait(self._interval):
            waited = time.monotonic() - self._started
            if self.hint and not self.hinted and waited >= self.hint_after:
                self.hinted = True
                self._write(("\r\x1b[K" if self._drawn else "") + self.hint + "\n")
            if tty:
                self._drawn = True
                self._write("\r" + self.line(waited) + "\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken standard error: the wait goes on
            self._stop.set()
