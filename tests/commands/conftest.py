"""What the command tests get here: `cli` (tests/support/cli.py: a command line through
`cli.main()` → Ran(code, out, err)), and fast retries for every test. The emulator (`emu`),
`login_args`, `signed_in`, `memory_keyring` and the Power Platform fixtures come from
tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.support.cli import cli

__all__ = ["cli"]


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""
