"""Profiles and keyring backends for the store, clipboard and profiles/doctor command tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import keyring
import pytest
from keyring.backend import KeyringBackend

from clmwizard.store.profile import SECRET_ITEMS, ClmHosts, ExportRecord, Profile
from clmwizard.store.secrets import SERVICE
from tests.support.keyrings import MemoryKeyring

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_profile(name: str, *, signed_in: bool = True, **changes: object) -> Profile:
    profile = Profile(
        name=name,
        environment="demo",
        auth_server="https://account-d.docusign.com",
        clm_auth_server="https://authuat.springcm.com",
        integration_key="4c6d1b0e-3a5f-4c5e-9b1a-2f7e8d9c0a1b",
        scopes=["signature", "spring_read", "spring_write", "extended"],
        redirect_uri="http://127.0.0.1:8765/callback",
    )
    if signed_in:
        profile.user_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        profile.user_email = "admin@example.com"
        profile.account_id = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
        profile.account_name = "Contoso Legal"
        profile.esign_base_uri = "https://demo.docusign.net"
        profile.clm_hosts = ClmHosts(
            general="https://apiuatna11.springcm.com",
            upload="https://apiuploaduatna11.springcm.com",
            download="https://apidownloaduatna11.springcm.com",
        )
        profile.consented_at = NOW
        profile.last_refresh_at = NOW + timedelta(days=1)
        profile.refresh_token_expires_at = NOW + timedelta(days=31)
        profile.access_token_expires_at = NOW + timedelta(days=1, hours=8)
        profile.exports = [ExportRecord(path="/tmp/bundle", layout="three", at=NOW)]
    for key, value in changes.items():
        setattr(profile, key, value)
    return profile


class Backends:
    """The keyring backend under test plus the profile names to clean up afterwards."""

    def __init__(self, kind: str, backend: KeyringBackend) -> None:
        self.kind = kind
        self.backend = backend
        self.names: list[str] = []

    def name(self) -> str:
        name = unique_name(self.kind[:3])
        self.names.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.names:
            for item in SECRET_ITEMS:
                username = f"{name}/{item}"
                if self.backend.get_password(SERVICE, username) is not None:
                    self.backend.delete_password(SERVICE, username)


def real_secret_service() -> KeyringBackend:
    from keyring.backends import SecretService

    return SecretService.Keyring()


@pytest.fixture(params=["memory", pytest.param("secret_service", marks=pytest.mark.secret_service)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backends]:
    """The active keyring: in-memory, or the real Secret Service (gnome-keyring in CI)."""
    chosen = MemoryKeyring() if request.param == "memory" else real_secret_service()
    previous = keyring.get_keyring()
    keyring.set_keyring(chosen)
    backends = Backends(request.param, chosen)
    try:
        yield backends
    finally:
        keyring.set_keyring(previous)
        backends.cleanup()
