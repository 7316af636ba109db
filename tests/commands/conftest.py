"""What the command tests get here: `cli` (tests/support/cli.py: a command line through
`cli.main()` → Ran(code, out, err)), `saved` (the connector tests' profile acme-demo with its
secrets, tests/support/connector_profiles.py), and fast retries for every test; the Power
Platform fixtures (`microsoft`, `approver`, `acme_publish`, `publish_argv`) and the keyring
`backend` from tests/support/. The emulator (`emu`), `login_args`, `signed_in` and
`memory_keyring` come from tests/conftest.py."""

from __future__ import annotations

import pytest

from clmwizard.store.profile import ACCESS_TOKEN, REFRESH_TOKEN, SECRET_KEY, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import open_secret_store
from tests.support import connector_profiles
from tests.support.cli import cli
from tests.support.keyrings import MemoryKeyring
from tests.support.powerplatform_fixtures import acme_publish, approver, microsoft, publish_argv
from tests.support.store_fixtures import backend

__all__ = ["acme_publish", "approver", "backend", "cli", "microsoft", "publish_argv"]


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""


@pytest.fixture
def saved(memory_keyring: MemoryKeyring) -> Profile:
    """acme-demo saved, its secret key and tokens in the keyring."""
    profile = connector_profiles.make_profile()
    ProfileStore().save(profile)
    open_secret_store().set_many(
        profile.name,
        {
            SECRET_KEY: connector_profiles.SECRET_KEY,
            REFRESH_TOKEN: connector_profiles.REFRESH_TOKEN,
            ACCESS_TOKEN: connector_profiles.ACCESS_TOKEN,
        },
    )
    return profile
