"""Fixtures for driving the wizard with Pilot against a real emulator over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from clmwizard.app import ClmWizardApp
from clmwizard.context import DemoSetup, WizardContext
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import follow_consent
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.support.ports import free_port


def loopback_redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


@pytest.fixture
def wizard_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    accounts = getattr(request, "param", 1)
    with Emulator(redirect_uris=[loopback_redirect_uri()], accounts=accounts) as emu:
        yield emu


@pytest.fixture
def demo_context(
    wizard_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> WizardContext:
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []
    context = WizardContext(
        profiles=ProfileStore(tmp_path / "profiles"),
        open_secrets=MemorySecretStore,
        demo=DemoSetup.from_emulator(wizard_emulator),
        open_browser=lambda url: opened.append(url) is None,
        consent_timeout=30.0,
    )
    return context


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Let the app run until `condition()` holds; fail with the current screen otherwise."""
    steps = int(timeout / 0.05)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.05)
    from clmwizard.widgets.field_message import FieldMessage

    shown = [m.text for m in pilot.app.screen.query(FieldMessage) if m.has_class("-shown")]
    raise AssertionError(f"timed out on {type(pilot.app.screen).__name__}; messages: {shown}")


def make_app(context: WizardContext) -> ClmWizardApp:
    return ClmWizardApp(context)
