"""The command line's wait clock: spinner, time waited and limit; the hint once."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

from clmwizard.wait_clock import WaitClock, clock, gives_up


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_clock_and_give_up_wording() -> None:
    assert clock(0.3) == "0:00" and clock(75) == "1:15" and clock(3725) == "1:02:05"
    start = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    assert gives_up(300, start) == "gives up after 5:00, at 14:05 UTC"


def test_a_terminal_gets_the_clock_the_hint_once_and_a_clean_line() -> None:
    terminal = Terminal()
    with WaitClock(
        "Waiting for DocuSign",
        300,
        hint="Still waiting? …",
        hint_after=0.05,
        stream=terminal,
        interval=0.01,
    ):
        time.sleep(0.3)
    text = terminal.getvalue()
    assert "Waiting for DocuSign  0:00 of 5:00" in text
    assert text.count("Still waiting? …\n") == 1
    assert text.endswith("\r\x1b[K")


def test_a_pipe_gets_only_the_hint() -> None:
    log = io.StringIO()
    with WaitClock(
        "Waiting", 300, hint="Still waiting?", hint_after=0.05, stream=log, interval=0.01
    ):
        time.sleep(0.2)
    assert log.getvalue() == "Still waiting?\n"


def test_a_closed_stream_does_not_break_the_wait() -> None:
    terminal = Terminal()
    terminal.close()
    with WaitClock("Waiting", 300, stream=terminal, interval=0.01) as running:
        time.sleep(0.05)
    assert not running.hinted
