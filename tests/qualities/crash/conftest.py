"""What the crash tests get here: `secret_service` (the real Secret Service, in this process too),
`profile_name` (cleaned up after), `child` (tests/qualities/crash/harness.py: a clmwizard child
that stops or is killed at a durable step) and `theft` (the emulator revoking a grant whose
refresh token comes back); `microsoft` and `approver` from
tests/support/powerplatform_fixtures.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from clmwizard.emulator import Emulator
from clmwizard.store.profile import SECRET_ITEMS
from clmwizard.store.secrets import SERVICE
from tests.qualities.crash.harness import Child
from tests.support.powerplatform_fixtures import approver, microsoft

__all__ = ["approver", "microsoft"]


@pytest.fixture
def secret_service() -> Iterator[KeyringBackend]:
    """The real Secret Service, in this process too (to set up and inspect the state)."""
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def profile_name(secret_service: KeyringBackend) -> Iterator[str]:
    name = f"crash-{uuid.uuid4().hex[:10]}"
    yield name
    for item in (*SECRET_ITEMS, "selftest"):
        username = f"{name}/{item}"
        if secret_service.get_password(SERVICE, username) is not None:
            secret_service.delete_password(SERVICE, username)


@pytest.fixture
def child(tmp_path: Path, config_dir: Path) -> Child:
    """Steps are the writes under the config folder and tmp_path/out (where exports go)."""
    return Child(tmp_path, [config_dir, tmp_path / "out"])


@pytest.fixture
def theft(emu: Emulator) -> Emulator:
    emu.state.reuse_revokes_grant = True
    return emu
