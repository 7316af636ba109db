"""SIGINT, SIGTERM and SIGHUP stop the command line the same way, but never inside a durable step.

`install()` (the CLI calls it) makes the three signals raise `Interrupted`, a KeyboardInterrupt
that knows its signal. Code that must not be cut in half (a refresh DocuSign may already have
answered, and the keyring write that stores its new refresh token) runs inside `deferred()`: a
signal received there is held and raised when the block ends. kill -9 cannot be held; what it can
still lose is said in docs/reliability.md.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_BASE = 128

# Reentrant: the handler runs in the main thread, possibly while that thread holds the lock.
_lock = threading.RLock()
_depth = 0
_pending: int | None = None
_installed = False


class Interrupted(KeyboardInterrupt):
    """A stopping signal (SIGINT, SIGTERM or SIGHUP) received by the CLI."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return EXIT_BASE + self.signum  # 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP


def _handle(signum: int, frame: FrameType | None) -> None:
    global _pending
    with _lock:
        if _depth > 0:
            _pending = _pending or signum
            return
    raise Interrupted(signum)


def stopping_signals() -> list[signal.Signals]:
    if sys.platform == "win32":
        return [signal.SIGINT, signal.SIGTERM]
    else:
        return [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def install() -> None:
    """Route the stopping signals through `_handle` (main thread only; idempotent)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in stopping_signals():
        signal.signal(signum, _handle)
    _installed = True


def holding() -> bool:
    """Whether a `deferred()` block is running (in any thread or coroutine) right now."""
    with _lock:
        return _depth > 0


def pending() -> int | None:
    """A stopping signal held by `deferred()` and not raised yet (the block failed)."""
    return _pending


@contextmanager
def deferred() -> Iterator[None]:
    """Hold stopping signals until the block ends, then raise the first one received.

    When the block raises, its own error goes on and the signal stays `pending()`.
    """
    global _depth, _pending
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
    with _lock:
        signum, _pending = (_pending, None) if _depth == 0 else (None, _pending)
    if signum is not None:
        raise Interrupted(signum)
