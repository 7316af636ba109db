"""Loopback ports for redirect URIs in tests.

A port the kernel hands out for `bind(("127.0.0.1", 0))` comes from the ephemeral range, so
after it is released the emulator (which binds port 0 for its servers) can be given the very
same number before the test's listener binds it. Redirect ports are therefore taken below the
ephemeral range (Linux: 32768–60999), checked free, and never handed out twice in one run.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading

_lock = threading.Lock()


def _own_range() -> range:
    """Each xdist worker its own slice of 20000–32000 (two workers never hand out one port);
    a lone pytest process starts at an offset of its own, for parallel runs of the suite."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        size = 12000 // count
        start = 20000 + int(worker[2:]) % count * size
        return range(start, start + size)
    return range(20000 + (os.getpid() % 50) * 200, 32000)


_candidates = itertools.cycle(_own_range())


def free_port() -> int:
    """A loopback port outside the ephemeral range that is free right now."""
    with _lock:
        for port in _candidates:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port")
