"""What the crash tests get here: `profile_name` (cleaned up after), `child`
(tests/qualities/crash/harness.py: a clmwizard child that stops or is killed at a durable step),
`scene` (harness.Scene: the emulator, the profile and its secrets, the CLI here) and
`theft_scene` (the same with the emulator revoking a grant whose refresh token comes back);
`secret_service` (the real Secret Service, in this process too) from tests/conftest.py,
`microsoft` and `approver` from tests/support/powerplatform_fixtures.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from clmwizard.emulator import Emulator
from clmwizard.store.profile import SECRET_ITEMS
from clmwizard.store.secrets import SERVICE, KeyringSecretStore
from tests.qualities.crash.harness import Child, Scene
from tests.support.powerplatform_fixtures import approver, microsoft

__all__ = ["approver", "microsoft"]


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
def scene(
    emu: Emulator,
    profile_name: str,
    secret_service: KeyringBackend,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Scene:
    return Scene(emu, profile_name, KeyringSecretStore(secret_service), monkeypatch, capsys)


@pytest.fixture
def theft_scene(scene: Scene) -> Scene:
    """The emulator in theft mode: a reused refresh token revokes the whole grant."""
    scene.emu.state.reuse_revokes_grant = True
    return scene
