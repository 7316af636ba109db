"""The real Secret Service for the crash tests, and a profile name it cleans up after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from clmwizard.store.profile import SECRET_ITEMS
from clmwizard.store.secrets import SERVICE


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
