"""Fixtures of the fault matrix: short client timeouts and backoff, an emulator per cell."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fast_network(fast_backoff: None) -> None:
    """Backoff and Retry-After waits in milliseconds (the drivers build the CLI and the wizard
    with harness.short_client, a client timeout of TIMEOUT)."""
