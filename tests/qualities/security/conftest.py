"""The hostile-server tests retry fast; the leak scans get `scan` (a LeakScan of
tests/qualities/security/leaks.py over capsys, caplog and tmp_path); the Power Platform fixtures
(`microsoft`, `approver`, `acme_publish`, `publish_argv`) come from tests/support/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.qualities.security.leaks import LeakScan
from tests.support.powerplatform_fixtures import acme_publish, approver, microsoft, publish_argv

__all__ = ["acme_publish", "approver", "microsoft", "publish_argv"]


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""


@pytest.fixture
def scan(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> LeakScan:
    return LeakScan(capsys, caplog, tmp_path)
