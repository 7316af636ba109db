"""`python -m tests.store.parts_child KEYRING_FILE STEPS_FILE PAUSE_AT VALUE_FILE`: store the value
in VALUE_FILE as `crash/rsa_private_key` through a KeyringSecretStore on the fake Windows backend
kept in KEYRING_FILE, stopping dead before change PAUSE_AT (see FakeWindowsCredentialManager)."""

from __future__ import annotations

import sys
from pathlib import Path

from clmwizard.store.secrets import KeyringSecretStore
from tests.support.keyrings import FakeWindowsCredentialManager


def main() -> int:
    keyring_file, steps, pause_at, value_file = sys.argv[1:5]
    backend = FakeWindowsCredentialManager(
        Path(keyring_file), pause_before_change=int(pause_at), steps=Path(steps)
    )
    store = KeyringSecretStore(backend, timeout=30)
    store.set_many("crash", {"rsa_private_key": Path(value_file).read_text(encoding="utf-8")})
    return 0


if __name__ == "__main__":
    sys.exit(main())
