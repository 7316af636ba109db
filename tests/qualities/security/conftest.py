"""The hostile-server tests retry fast."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""
