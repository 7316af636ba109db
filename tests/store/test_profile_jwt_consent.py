"""The profile's record of the last JWT consent check: additive, round-trips, optional."""

from __future__ import annotations

from datetime import UTC, datetime

import yaml

from clmwizard.store.profile import JwtConsentRecord
from clmwizard.store.profiles import ProfileStore
from tests.support.store_fixtures import make_profile, unique_name


def test_the_jwt_consent_record_round_trips_and_older_files_load_without_it() -> None:
    store = ProfileStore()
    name = unique_name()
    profile = make_profile(name, jwt_user_id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    store.save(profile)
    assert store.load(name).jwt_consent is None  # written without it, read without it
    text = store.path_for(name).read_text()
    assert "jwt_consent: null" in text or "jwt_consent" not in text

    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    record = JwtConsentRecord(state="needed", user_id=profile.jwt_user_id or "", checked_at=at)
    store.update(name, lambda p: setattr(p, "jwt_consent", record))
    loaded = store.load(name).jwt_consent
    assert loaded == record
    data = yaml.safe_load(store.path_for(name).read_text())
    assert data["jwt_consent"] == {
        "state": "needed",
        "user_id": profile.jwt_user_id,
        "checked_at": "2026-12-01T09:30:00Z",
    }
    del data["jwt_consent"]  # a file from before this field
    store.path_for(name).write_text(yaml.safe_dump(data))
    assert store.load(name).jwt_consent is None
