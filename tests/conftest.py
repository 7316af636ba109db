"""Fixtures shared by every test area: the sign-in fixtures (tests/support/signin_fixtures.py:
`emu`, `redirect_uri`, `login_args`, `signed_in`, `fast_backoff`), a config folder per test,
`memory_keyring` and `secret_service`. Area-specific fixtures live in each folder's conftest;
the Power Platform, store and wizard fixtures of tests/support/ are imported by the conftests of
the folders that use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.support.keyrings import MemoryKeyring
from tests.support.signin_fixtures import emu, fast_backoff, login_args, redirect_uri, signed_in

__all__ = ["emu", "fast_backoff", "login_args", "redirect_uri", "signed_in"]


# One X display and one gnome-keyring daemon serve every xdist worker: the clipboard tests (they
# own the X selection) run on one worker, one after another; so do the Secret Service tests (spread,
# they once met gnome-keyring's "Object does not exist" with concurrent clients; together they take
# ~100 s of one worker).
SERIAL_GROUPS = ("display", "secret_service")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for group in SERIAL_GROUPS:
            if item.get_closest_marker(group) is not None:
                item.add_marker(pytest.mark.xdist_group(group))
                break


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real config folder or opens a real browser."""
    config_dir = tmp_path / "config"
    monkeypatch.setenv("CLMWIZARD_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("BROWSER", "true")  # webbrowser runs `true URL`: harmless
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)
    from clmwizard.docusign import codes

    codes.forget_all()  # a code another test sent must not make this one look "used"
    from clmwizard.redact import forget_secrets

    forget_secrets()  # a fake token of another test ("access", "secret…") must not redact here
    return config_dir


@pytest.fixture
def config_dir(isolated_environment: Path) -> Path:
    return isolated_environment


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Make the in-memory keyring the active backend for this test."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def secret_service() -> Iterator[KeyringBackend]:
    """The real Secret Service (gnome-keyring under scripts/test) as the active backend, in this
    process too (to set up and inspect the state); mark the test `secret_service`."""
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
