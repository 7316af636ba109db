"""The profile as known before sign-in: a stale JWT consent record does not survive."""

from __future__ import annotations

from datetime import UTC, datetime

from clmwizard.docusign.environments import DEMO, PRODUCTION
from clmwizard.docusign.profile_settings import profile_before_login
from clmwizard.store.profile import JwtConsentRecord, Profile

KEY = "3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"
USER = "5b6c2f4e-1d3a-4c2b-8e9f-0a1b2c3d4e5f"
OTHER = "7e8f9a0b-1d3a-4c2b-8e9f-0a1b2c3d4e5f"


def stored() -> Profile:
    profile = profile_before_login(
        None, "acme", DEMO, KEY, ["signature"], "http://127.0.0.1:8765/callback",
        use_pkce=True, jwt_user_id=USER,
    )  # fmt: skip
    profile.jwt_consent = JwtConsentRecord("given", USER, datetime(2026, 11, 30, tzinfo=UTC))
    return profile


def again(existing: Profile, **changes: object) -> Profile:
    settings: dict[str, object] = {
        "env": DEMO,
        "integration_key": KEY,
        "jwt_user_id": USER,
        **changes,
    }
    return profile_before_login(
        existing,
        existing.name,
        settings["env"],  # type: ignore[arg-type]
        str(settings["integration_key"]),
        ["signature", "spring_read"],
        existing.redirect_uri,
        use_pkce=True,
        jwt_user_id=settings["jwt_user_id"],  # type: ignore[arg-type]
    )


def test_the_record_stays_while_user_key_and_environment_stay() -> None:
    existing = stored()
    assert again(existing).jwt_consent == existing.jwt_consent


def test_another_user_guid_drops_the_record() -> None:
    assert again(stored(), jwt_user_id=OTHER).jwt_consent is None
    assert again(stored(), jwt_user_id=None).jwt_consent is None


def test_another_integration_key_or_environment_drops_the_record() -> None:
    assert again(stored(), integration_key=OTHER).jwt_consent is None
    assert again(stored(), env=PRODUCTION).jwt_consent is None
