"""What this process knows about the authorization codes it handled: when each arrived and
whether it was already sent. Codes are kept only as SHA-256 digests, a few dozen at most."""

from __future__ import annotations

import hashlib
import time
from typing import Any

_KEPT = 64
_received: dict[str, float] = {}
_sent: dict[str, None] = {}


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()


def _trim(table: dict[str, Any]) -> None:
    while len(table) > _KEPT:
        del table[next(iter(table))]


def note_received(code: str) -> None:
    """The loopback listener (or a paste) delivered `code` now."""
    _received.setdefault(_digest(code), time.monotonic())
    _trim(_received)


def received_at(code: str) -> float | None:
    """`time.monotonic()` when `code` arrived, or None when this process did not see it arrive."""
    return _received.get(_digest(code))


def note_sent(code: str) -> bool:
    """Remember that `code` is being sent; True when it was sent before."""
    digest = _digest(code)
    before = digest in _sent
    _sent[digest] = None
    _trim(_sent)
    return before


def forget_all() -> None:
    """Forget every code (a new sign-in session; tests start each case from nothing)."""
    _received.clear()
    _sent.clear()
