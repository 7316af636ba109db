"""`status`'s judgement: ok only when everything works; each problem with what to do; the JSON
keys design.md fixes; old profiles (before connect and heartbeat) still load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.flows import FlowApi
from clmwizard.powerplatform.health import assess
from clmwizard.powerplatform.records import secret_fingerprint
from clmwizard.store.profile import HeartbeatRecord
from clmwizard.store.serialise import profile_from_dict, profile_to_dict
from tests.powerplatform.fake_flows import ENV, FLOW, POWER_APPS, TOKEN, FakePlatform, record
from tests.support.connector_profiles import INTEGRATION_KEY, SECRET_KEY, make_profile

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def apis(fake: FakePlatform) -> dict[str, tuple[PowerAppsApi, FlowApi | None]]:
    client = fake.client()
    pa = PowerAppsApi(client, TOKEN, "oid", power_apps_url=POWER_APPS, flow_url=FLOW)
    fl = FlowApi(client, TOKEN, "oid", power_apps_url=POWER_APPS, flow_url=FLOW)
    return {ENV: (pa, fl)}


class ConnectorsFake(FakePlatform):
    """Answers GET apis/{id} too (the connector exists)."""

    def handle(self, request):  # type: ignore[no-untyped-def]
        import httpx

        parts = request.url.path.strip("/").split("/")
        if len(parts) == 4 and parts[2] == "apis":
            self.requests.append(request)
            return httpx.Response(200, json={"name": parts[3], "properties": {}})
        return super().handle(request)


def healthy(fake: FakePlatform, layout: str = "single"):  # type: ignore[no-untyped-def]
    name = fake.add_connection("Connected")
    rec = record(layout, connection_name=name)
    for connector in rec.connectors:
        connector.secret_fingerprint = secret_fingerprint(INTEGRATION_KEY, SECRET_KEY)
    fake.flows["flow1"] = {
        "name": "flow1",
        "properties": {
            "state": "Started",
            "definition": {
                "triggers": {"Recurrence": {"recurrence": {"frequency": "Day", "interval": 1}}}
            },
        },
    }
    fake.runs["flow1"] = [
        {"name": "run1", "properties": {"status": "Succeeded", "startTime": "2026-02-28T10:00Z"}}
    ]
    rec.heartbeat = HeartbeatRecord("flow1", rec.connectors[0].key, "on", "1d", "Succeeded")
    return make_profile(
        publications=[rec],
        last_refresh_at=NOW - timedelta(days=1),
        refresh_token_expires_at=NOW + timedelta(days=29),
    )


async def test_everything_working_is_ok_with_the_fixed_json_keys() -> None:
    fake = ConnectorsFake()
    health = await assess(healthy(fake), stored_secret=SECRET_KEY, apis=apis(fake), now=NOW)
    assert health.verdict == "ok", [f.what for f in health.findings]
    data = health.to_json()
    assert data["verdict"] == "ok"
    assert data["connections"][0]["connector"] == "clm"
    assert data["connections"][0]["status"] == "Connected"
    assert data["heartbeat"]["state"] == "on"
    assert data["heartbeat"]["runs"] == [
        {"status": "Succeeded", "start": "2026-02-28T10:00:00Z", "end": None, "error": None}
    ]


async def test_three_connectors_with_a_heartbeat_are_ok_and_say_what_is_not_kept_alive() -> None:
    fake = ConnectorsFake()
    health = await assess(
        healthy(fake, "three"), stored_secret=SECRET_KEY, apis=apis(fake), now=NOW
    )
    assert health.verdict == "ok", [f.what for f in health.findings]
    kept = {c["connector"]: c["kept_alive_by_heartbeat"] for c in health.to_json()["connections"]}
    assert kept == {"general": True, "upload": False, "download": False}
    assert any("not kept alive" in f.what for f in health.findings)


async def test_a_dead_connection_is_broken_with_how_to_recover() -> None:
    fake = ConnectorsFake()
    profile = healthy(fake)
    name = profile.publications[0].connectors[0].connection_name
    fake.set_status(name, "Error", "invalid_grant", "The refresh token has expired")
    health = await assess(profile, stored_secret=SECRET_KEY, apis=apis(fake), now=NOW)
    assert health.verdict == "broken"
    (finding,) = [f for f in health.findings if f.level == "broken"]
    assert "expired" in finding.what and "clmwizard connect" in finding.todo


async def test_heartbeat_off_an_old_secret_or_no_sign_in_need_attention() -> None:
    fake = ConnectorsFake()
    profile = healthy(fake)
    fake.flows["flow1"]["properties"]["state"] = "Stopped"
    health = await assess(profile, stored_secret=SECRET_KEY, apis=apis(fake), now=NOW)
    assert health.verdict == "attention" and health.heartbeat.state == "off"
    health = await assess(profile, stored_secret="another-secret", apis=None, now=NOW)
    assert health.verdict == "attention"
    whats = " ".join(f.what for f in health.findings)
    assert "older secret key" in whats and "not checked" in whats


async def test_a_failed_last_run_is_broken() -> None:
    fake = ConnectorsFake()
    profile = healthy(fake)
    fake.runs["flow1"].append(
        {
            "name": "run2",
            "properties": {
                "status": "Failed",
                "startTime": "2026-02-28T11:00Z",
                "error": {"code": "ActionFailed", "message": "401 from CLM"},
            },
        }
    )
    health = await assess(profile, stored_secret=SECRET_KEY, apis=apis(fake), now=NOW)
    assert health.verdict == "broken"
    assert health.heartbeat.runs[0].status == "Failed"


async def test_without_connectors_the_grant_is_the_verdict() -> None:
    alive = make_profile(refresh_token_expires_at=NOW + timedelta(days=20))
    assert (await assess(alive, stored_secret=None, apis=None, now=NOW)).verdict == "ok"
    dead = make_profile(refresh_token_expires_at=NOW - timedelta(days=1))
    assert (await assess(dead, stored_secret=None, apis=None, now=NOW)).verdict == "broken"


def test_old_profiles_load_and_new_fields_round_trip() -> None:
    profile = make_profile(publications=[record()])
    old = profile_to_dict(profile)
    assert "heartbeat" not in old["publications"][0]  # unchanged shape when unused
    assert "connection_name" not in old["publications"][0]["connectors"][0]
    profile_from_dict(old, source="old.yaml")
    profile.publications[0].connectors[0].connection_name = "conn1"
    profile.publications[0].heartbeat = HeartbeatRecord("flow1", "clm", "on", "1d")
    again = profile_from_dict(profile_to_dict(profile), source="new.yaml")
    assert again.publications[0].heartbeat == profile.publications[0].heartbeat
    assert again.publications[0].connectors[0].connection_name == "conn1"
