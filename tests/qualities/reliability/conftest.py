"""Fixtures of the fault matrix: short client timeouts and backoff, an emulator per cell, and
`cli_driver` (cli_driver.py) over it that the wizard's driver builds on."""

from __future__ import annotations

import pytest

from clmwizard.emulator import Emulator
from tests.qualities.reliability.cli_driver import CliDriver
from tests.support.keyrings import MemoryKeyring


@pytest.fixture(autouse=True)
def fast_network(fast_backoff: None) -> None:
    """Backoff and Retry-After waits in milliseconds (the drivers build the CLI and the wizard
    with harness.short_client, a client timeout of TIMEOUT)."""


@pytest.fixture
def cli_driver(
    emu: Emulator,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> CliDriver:
    return CliDriver(emu, redirect_uri, memory_keyring, monkeypatch, capsys)
