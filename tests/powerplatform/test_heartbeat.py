"""The heartbeat flow: its definition, create then update (never a second flow), on and off, a
run now with what CLM answered, a failing run in plain words, refusals (licence, 403)."""

from __future__ import annotations

import json

import pytest

from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.powerplatform.flows import FlowApi, heartbeat_definition, parse_every
from clmwizard.powerplatform.heartbeat import (
    HeartbeatOutcome,
    describe_result,
    heartbeat_target,
    kept_alive_lines,
    record_of,
    remember_heartbeat,
    run_and_wait,
    upsert_flow,
)
from tests.powerplatform.fake_flows import (
    CONNECTOR,
    ENV,
    FLOW,
    POWER_APPS,
    TOKEN,
    FakePlatform,
    record,
)
from tests.support.connector_profiles import ACCOUNT_ID, make_profile


def flows(fake: FakePlatform) -> FlowApi:
    return FlowApi(fake.client(), TOKEN, "oid", power_apps_url=POWER_APPS, flow_url=FLOW)


def connected_profile(layout: str = "single"):  # type: ignore[no-untyped-def]
    return make_profile(publications=[record(layout, connection_name="conn0001")])


def test_the_definition_is_a_recurrence_and_one_read_through_the_connection() -> None:
    definition = heartbeat_definition(CONNECTOR, ACCOUNT_ID, parse_every("12h"))
    assert definition["triggers"]["Recurrence"]["recurrence"] == {
        "frequency": "Hour",
        "interval": 12,
    }
    (action,) = definition["actions"].values()
    assert action["type"] == "OpenApiConnection"
    assert action["inputs"]["host"] == {
        "apiId": f"/providers/Microsoft.PowerApps/apis/{CONNECTOR}",
        "connectionName": "shared_clm",
        "operationId": "ListAttributeGroups",
    }
    assert action["inputs"]["parameters"] == {"AccountId": ACCOUNT_ID}
    assert set(definition["parameters"]) == {"$connections", "$authentication"}


@pytest.mark.parametrize("bad", ["", "0d", "daily", "5m", "1y"])
def test_a_bad_schedule_is_refused(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_every(bad)


def test_the_target_needs_a_connection_and_names_what_it_keeps_alive() -> None:
    with pytest.raises(UsageError) as caught:
        heartbeat_target(make_profile(publications=[record()]), None)
    assert caught.value.code == "not_connected" and "clmwizard connect" in caught.value.fix
    single = heartbeat_target(connected_profile(), None)
    assert single.connector.key == "clm" and not single.others
    three = heartbeat_target(connected_profile("three"), None)
    assert three.connector.key == "general"
    lines = kept_alive_lines(three, "acme")
    assert "general" in lines[0] and "upload" in lines[1] and "download" in lines[1]
    assert "clmwizard connect --profile acme" in lines[1]


async def test_create_then_update_never_a_second_flow() -> None:
    fake = FakePlatform()
    profile = connected_profile()
    target = heartbeat_target(profile, None)
    flow_id, created = await upsert_flow(flows(fake), profile, target, parse_every("1d"), on=True)
    assert created and len(fake.flows) == 1
    body = fake.flows[flow_id]["properties"]
    assert body["connectionReferences"]["shared_clm"]["connectionName"] == "conn0001"
    outcome = HeartbeatOutcome(flow_id, created, True, parse_every("1d"))
    remember_heartbeat(ENV, record_of(outcome, target), FLOW)(profile)
    target = heartbeat_target(profile, None)
    again, created = await upsert_flow(flows(fake), profile, target, parse_every("1w"), on=False)
    assert again == flow_id and not created and len(fake.flows) == 1
    stored = fake.flows[flow_id]["properties"]
    assert stored["state"] == "Stopped"
    assert stored["definition"]["triggers"]["Recurrence"]["recurrence"]["frequency"] == "Week"


@pytest.mark.parametrize("by_link", [False, True])
async def test_a_run_now_says_what_clm_answered(by_link: bool) -> None:
    fake = FakePlatform(outputs_by_link=by_link)
    profile = connected_profile()
    target = heartbeat_target(profile, None)
    api = flows(fake)
    flow_id, _ = await upsert_flow(api, profile, target, parse_every("1d"), on=True)
    run, actions = await run_and_wait(api, ENV, flow_id, timeout=5, poll=0.01)
    assert run.status == "Succeeded"
    assert describe_result(run, actions, target, "acme") == "12 attribute groups"
    # a second run is a new run, found as such
    run2, _ = await run_and_wait(api, ENV, flow_id, timeout=5, poll=0.01)
    assert run2.run_id != run.run_id
    if by_link:
        assert fake.unauthenticated_calls()  # the output link got no bearer token


async def test_a_failed_run_names_the_failing_action_in_plain_words() -> None:
    fake = FakePlatform(
        run_status="Failed",
        run_outputs={"statusCode": 401, "body": {"error": {"code": "invalid_grant"}}},
        run_error={"code": "Unauthorized", "message": "The refresh token is revoked"},
    )
    profile = connected_profile()
    target = heartbeat_target(profile, None)
    api = flows(fake)
    flow_id, _ = await upsert_flow(api, profile, target, parse_every("1d"), on=True)
    run, actions = await run_and_wait(api, ENV, flow_id, timeout=5, poll=0.01)
    words = describe_result(run, actions, target, "acme")
    assert run.status == "Failed"
    assert "revoked" in words and "clmwizard connect --profile acme" in words


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (403, "LicenseRequired", "A Premium license is required", "premium_licence_missing"),
        (400, "MissingLicense", "The user has no license", "premium_licence_missing"),
        (403, "Forbidden", "no access", "flow_forbidden"),
        (403, "ConnectionAuthorizationFailed", "not yours", "connection_not_yours"),
    ],
)
async def test_refusals_of_the_flow_api_are_plain(
    status: int, code: str, message: str, expected: str
) -> None:
    fake = FakePlatform(flow_refusal=(status, code, message))
    profile = connected_profile()
    target = heartbeat_target(profile, None)
    with pytest.raises(ClmWizardError) as caught:
        await upsert_flow(flows(fake), profile, target, parse_every("1d"), on=True)
    assert caught.value.code == expected
    assert message in caught.value.cause
    assert json.dumps(caught.value.fix)  # always a next step
    assert caught.value.fix
