"""The Power Platform client tests retry fast; they get `microsoft` and `publish_argv`
(tests/support/powerplatform_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.support.powerplatform_fixtures import microsoft, publish_argv

__all__ = ["microsoft", "publish_argv"]


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""
