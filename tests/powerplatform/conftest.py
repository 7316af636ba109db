"""The Power Platform client tests retry fast; they get `microsoft` and `publish_argv`
(tests/support/powerplatform_fixtures.py) and `store` (profiles holding `acme`, whom
tests/powerplatform/publishing.py publishes)."""

from __future__ import annotations

import pytest

from clmwizard.store.profiles import ProfileStore
from tests.support.powerplatform_fixtures import microsoft, publish_argv
from tests.support.store_fixtures import make_profile

__all__ = ["microsoft", "publish_argv"]


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""


@pytest.fixture
def store() -> ProfileStore:
    profiles = ProfileStore()
    profiles.save(make_profile("acme"))
    return profiles
