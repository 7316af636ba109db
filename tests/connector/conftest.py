"""Fixtures for the connector tests: a fixed signed-in profile; Microsoft's schemas checked
only when asked for."""

from __future__ import annotations

import os

import pytest

from clmwizard.store.profile import Profile
from tests.support.connector_profiles import MS_SCHEMAS_ENV, make_profile

collect_ignore = [] if os.environ.get(MS_SCHEMAS_ENV) else ["test_ms_schemas.py"]


@pytest.fixture
def profile() -> Profile:
    return make_profile()
