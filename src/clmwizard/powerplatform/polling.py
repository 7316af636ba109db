"""Waiting on the Power Platform: the wait line ticks ~10×/s, the service is asked every few
seconds, the wait ends at a time limit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_SECONDS = 2.0  # the product's pace; tests pass a faster one through the context or cli.main
Tick = Callable[[float], None]  # seconds waited so far


async def poll_until(
    ask: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,
    tick: Tick,
    poll: float,
    timed_out: Callable[[float], Exception],
    between: Callable[[], Awaitable[bool]] | None = None,
) -> T:
    """The first answer of `ask()` that is not None. `between()` runs at every tick; True asks
    again at the next tick instead of at the next poll."""
    import asyncio

    started = time.monotonic()
    next_poll = started
    while True:
        now = time.monotonic()
        waited = now - started
        tick(waited)
        if between is not None and await between():
            next_poll = time.monotonic()
        if now >= next_poll:
            next_poll = now + poll
            answer = await ask()
            if answer is not None:
                return answer
        if waited >= timeout:
            raise timed_out(waited)
        await asyncio.sleep(min(0.1, max(0.0, timeout - waited)))
