"""Fixtures for driving the wizard with Pilot against a real emulator over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clmwizard.context import DemoSetup, WizardContext
from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.support.powerplatform_fixtures import FAST_POLL


@pytest.fixture
def demo_context(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WizardContext:
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []
    context = WizardContext(
        profiles=ProfileStore(tmp_path / "profiles"),
        open_secrets=MemorySecretStore,
        demo=DemoSetup.from_emulator(emu),
        open_browser=lambda url: opened.append(url) is None,
        consent_timeout=30.0,
        poll_seconds=FAST_POLL,
    )
    return context


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WizardContext]:
    """A wizard for a real account (no demo): no emulator of its own (a test gives it a client
    factory or its answers), secrets in memory, run from tmp_path."""
    monkeypatch.chdir(tmp_path)
    secrets = MemorySecretStore()
    yield WizardContext(profiles=ProfileStore(tmp_path / "profiles"), open_secrets=lambda: secrets)
