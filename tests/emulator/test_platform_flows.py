"""The Flow API and the runner over real sockets with plain httpx: a heartbeat flow through a
signed-in connection calls CLM as the connector's swagger and policies say, and the emulator
clock drives its Recurrence trigger."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from clmwizard.emulator import Emulator
from tests.docusign.helpers import loopback_redirect_uri
from tests.emulator.flows import bearer, tokens
from tests.emulator.platform_helpers import POWER_APPS, Tenant, export_bundle, tenant, user_token

__all__ = ["tenant"]
DAY = 86400


@pytest.fixture
def redirect_uri() -> str:
    return loopback_redirect_uri()


def connected(tenant: Tenant, folder: Path) -> tuple[str, str]:
    """Publish one bundle folder, register its redirect URL, connect: (connector, connection)."""
    record = tenant.publish(folder)
    settings = record["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    tenant.emu.register_redirect_uri(settings["redirectUrl"])
    name = tenant.connection(record["name"])
    assert tenant.sign_in(record["name"], name).status == 200
    return record["name"], name


@pytest.fixture
def single(tenant: Tenant, tmp_path: Path) -> tuple[str, str]:
    return connected(tenant, export_bundle(tmp_path, "single") / "clm")


def wait_for_run(tenant: Tenant, flow: str, run: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        response = tenant.flows(
            "GET", f"/{flow}/runs/{run}", params={"$expand": "properties/actions"}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if answer["properties"]["status"] != "Running" or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def run_now(tenant: Tenant, flow: str) -> dict[str, Any]:
    started = tenant.flows("POST", f"/{flow}/triggers/Recurrence/run")
    assert started.status_code == 202, started.text
    return wait_for_run(tenant, flow, started.headers["x-ms-workflow-run-id"])


def clm_attribute_groups(emu: Emulator, client: httpx.Client) -> list[str]:
    """What CLM itself answers, asked directly with a DocuSign token of our own."""
    access = tokens(emu, client)["access_token"]
    answer = client.get(
        f"{emu.clm_hosts['general']}/v2/{emu.account_id}/attributegroups",
        params={"expand": "Attributes"},
        headers=bearer(access),
    )
    assert answer.status_code == 200, answer.text
    return [g["Name"] for g in answer.json()["Items"]]


def test_a_heartbeat_flow_runs_list_attribute_groups_through_the_connection(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    connector, connection = single
    created = tenant.heartbeat(connector, connection)
    assert created.status_code == 201, created.text
    flow = created.json()["name"]
    assert created.json()["properties"]["state"] == "Started"
    listed = tenant.flows("GET").json()["value"]
    assert [f["name"] for f in listed] == [flow]

    run = run_now(tenant, flow)
    assert run["properties"]["status"] == "Succeeded", run
    action = run["properties"]["actions"]["List_attribute_groups"]
    assert action["status"] == "Succeeded" and action["code"] == "OK"
    outputs = tenant.http.get(action["outputsLink"]["uri"])  # signed: no bearer
    assert outputs.status_code == 200
    assert outputs.json()["statusCode"] == 200
    names = [g["Name"] for g in outputs.json()["body"]["Items"]]
    assert names == clm_attribute_groups(emu, tenant.http)
    assert ("general", "GET", f"/v2/{emu.account_id}/attributegroups") in emu.request_log
    forged = tenant.http.get(action["outputsLink"]["uri"].replace("sig=", "sig=x"))
    assert forged.status_code == 403

    runs = tenant.flows("GET", f"/{flow}/runs").json()
    assert [r["name"] for r in runs["value"]] == [run["name"]]
    assert "nextLink" not in runs


def test_inline_outputs_when_switched(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    emu.power_platform.set_platform(action_outputs="inline")
    flow = tenant.heartbeat(*single).json()["name"]
    action = run_now(tenant, flow)["properties"]["actions"]["List_attribute_groups"]
    assert "outputsLink" not in action
    assert action["outputs"]["body"]["Items"]


def test_update_start_stop_and_no_duplicate(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    flow = tenant.heartbeat(*single).json()["name"]
    patched = tenant.flows(
        "PATCH", f"/{flow}", json={"properties": {"displayName": "CLM heartbeat (daily)"}}
    )
    assert patched.status_code == 200
    assert patched.json()["properties"]["displayName"] == "CLM heartbeat (daily)"
    assert len(tenant.flows("GET").json()["value"]) == 1
    assert tenant.flows("POST", f"/{flow}/stop").status_code == 200
    assert tenant.flows("GET", f"/{flow}").json()["properties"]["state"] == "Stopped"
    refused = tenant.flows("POST", f"/{flow}/triggers/Recurrence/run")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "FlowNotStarted"
    emu.advance_clock(3 * DAY)
    tenant.renew()
    assert tenant.flows("GET", f"/{flow}/runs").json()["value"] == []  # off: nothing fired
    assert tenant.flows("POST", f"/{flow}/start").status_code == 200
    assert run_now(tenant, flow)["properties"]["status"] == "Succeeded"
    missing = tenant.flows("POST", f"/{flow}/triggers/Manual/run")
    assert missing.status_code == 404
    assert tenant.flows("DELETE", f"/{flow}").status_code == 200
    assert tenant.flows("GET", f"/{flow}").status_code == 404


def test_sixty_days_with_the_heartbeat_on_stays_connected(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    connector, connection = single
    flow = tenant.heartbeat(connector, connection).json()["name"]
    emu.advance_clock(60 * DAY)
    tenant.renew()
    assert tenant.status(connector, connection) == {"status": "Connected"}
    first = tenant.flows("GET", f"/{flow}/runs").json()
    assert len(first["value"]) == 50 and "nextLink" in first  # page size 50 (U)
    rest = tenant.http.get(
        first["nextLink"], headers={"Authorization": f"Bearer {tenant.flow_token}"}
    ).json()
    runs = first["value"] + rest["value"]
    assert len(runs) == 60 and "nextLink" not in rest
    assert {r["properties"]["status"] for r in runs} == {"Succeeded"}
    starts = sorted(r["properties"]["startTime"] for r in runs)
    assert starts[0][:10] != starts[1][:10]  # one a day, not sixty at once


def test_sixty_days_with_the_heartbeat_off_the_grant_dies(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    connector, connection = single
    flow = tenant.heartbeat(connector, connection).json()["name"]
    assert tenant.flows("POST", f"/{flow}/stop").status_code == 200
    emu.advance_clock(60 * DAY)
    tenant.renew()
    status = tenant.status(connector, connection)
    assert status["status"] == "Error"
    assert "expired" in status["error"]["message"]
    assert tenant.flows("POST", f"/{flow}/start").status_code == 200
    run = run_now(tenant, flow)
    assert run["properties"]["status"] == "Failed"
    assert run["properties"]["error"]["code"] == "ActionFailed"
    action = run["properties"]["actions"]["List_attribute_groups"]
    assert action["status"] == "Failed" and action["code"] == "Unauthorized"
    # signing in again through a new consent link brings it back
    assert tenant.sign_in(connector, connection).status == 200
    assert run_now(tenant, flow)["properties"]["status"] == "Succeeded"


def test_a_rotated_away_secret_fails_the_refresh(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    connector, connection = single
    flow = tenant.heartbeat(connector, connection).json()["name"]
    emu.revoke_secret("secret_key")
    # The access token the connection holds is still good: no refresh, the run succeeds.
    assert run_now(tenant, flow)["properties"]["status"] == "Succeeded"
    emu.advance_clock(8 * 3600 - 120)
    tenant.renew()
    assert run_now(tenant, flow)["properties"]["status"] == "Succeeded"
    emu.advance_clock(180)  # now it ran out (DocuSign's 8 hours): the refresh needs the secret
    tenant.renew()
    run = run_now(tenant, flow)
    action = run["properties"]["actions"]["List_attribute_groups"]
    assert action["status"] == "Failed"
    assert "unauthorized_client" in action["error"]["message"]
    assert tenant.status(connector, connection)["status"] == "Error"


def test_a_clm_refusal_is_the_failing_actions_error(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    flow = tenant.heartbeat(*single).json()["name"]
    emu.inject_fault("general", f"/v2/{emu.account_id}/attributegroups", status=503)
    run = run_now(tenant, flow)
    assert run["properties"]["status"] == "Failed"
    action = run["properties"]["actions"]["List_attribute_groups"]
    assert action["code"] == "ServiceUnavailable" and "503" in action["error"]["message"]


def test_the_single_layout_routes_downloads_to_the_download_host(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    access = tokens(emu, tenant.http)["access_token"]
    found = tenant.http.get(
        f"{emu.clm_hosts['general']}/v2/{emu.account_id}/documents",
        params={"path": "/Contracts/Active/Mutual NDA - Fabrikam.pdf"},
        headers=bearer(access),
    )
    assert found.status_code == 200, found.text
    document = found.json()["Href"].rsplit("/", 1)[-1]
    created = tenant.heartbeat(*single, operation="DownloadDocumentText")
    body = created.json()
    assert created.status_code == 201, body
    definition = body["properties"]["definition"]
    definition["actions"]["List_attribute_groups"]["inputs"]["parameters"] = {
        "DocumentId": document
    }
    flow = body["name"]
    assert (
        tenant.flows("PATCH", f"/{flow}", json={"properties": {"definition": definition}})
    ).status_code == 200
    run = run_now(tenant, flow)
    assert run["properties"]["status"] == "Succeeded", run
    # dynamichosturl sent it to the download host; routerequesttoendpoint dropped "/text"
    assert ("download", "GET", f"/v2/{emu.account_id}/documents/{document}") in emu.request_log
    link = run["properties"]["actions"]["List_attribute_groups"]["outputsLink"]["uri"]
    assert "Fabrikam" in str(tenant.http.get(link).json()["body"])


def test_the_three_layout_heartbeat_keeps_only_its_own_connection_alive(
    emu: Emulator, tenant: Tenant, tmp_path: Path
) -> None:
    bundle = export_bundle(tmp_path, "three")
    general = connected(tenant, bundle / "general")
    upload = connected(tenant, bundle / "upload")
    flow = tenant.heartbeat(*general).json()["name"]
    assert run_now(tenant, flow)["properties"]["status"] == "Succeeded"
    emu.advance_clock(60 * DAY)
    tenant.renew()
    assert tenant.status(*general) == {"status": "Connected"}
    assert tenant.status(*upload)["status"] == "Error"


def test_a_connection_of_someone_else_is_refused(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    connector, connection = single
    other = Tenant(
        emu,
        tenant.http,
        "",
        user_token(emu, tenant.http, "https://service.flow.microsoft.com/.default"),
        tenant.environment,
    )
    refused = other.heartbeat(connector, connection)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ConnectionAuthorizationFailed"


def test_the_flow_api_wants_a_flow_token(tenant: Tenant, single: tuple[str, str]) -> None:
    refused = tenant.flows("GET", token=tenant.power_apps_token)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert tenant.flows("GET", token=tenant.flow_token).status_code == 200
    assert POWER_APPS  # the Power Apps token is for the connections API


def test_no_premium_licence_is_switchable(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    emu.power_platform.set_platform(premium_licence=False)
    refused = tenant.heartbeat(*single)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "MissingPremiumLicense"
    emu.power_platform.set_platform(premium_licence=True)
    flow = tenant.heartbeat(*single).json()["name"]
    emu.power_platform.set_platform(premium_licence=False)
    assert tenant.flows("POST", f"/{flow}/triggers/Recurrence/run").status_code == 403


def test_a_running_run_is_seen_running(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    emu.power_platform.set_platform(run_delay=0.5)
    flow = tenant.heartbeat(*single).json()["name"]
    started = tenant.flows("POST", f"/{flow}/triggers/Recurrence/run")
    run = started.headers["x-ms-workflow-run-id"]
    first = tenant.flows("GET", f"/{flow}/runs").json()["value"][0]
    assert first["name"] == run and first["properties"]["status"] == "Running"
    assert "endTime" not in first["properties"]
    assert wait_for_run(tenant, flow, run)["properties"]["status"] == "Succeeded"


def test_fire_on_start_is_switchable(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    emu.power_platform.set_platform(recurrence_fires_on_start=True)
    flow = tenant.heartbeat(*single).json()["name"]
    deadline = time.monotonic() + 10
    while not tenant.flows("GET", f"/{flow}/runs").json()["value"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_bad_definition_is_refused(tenant: Tenant, single: tuple[str, str]) -> None:
    unknown = tenant.heartbeat(*single, operation="NoSuchOperation")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "InvalidTemplate"
    bad_schedule = tenant.heartbeat(*single, every="Fortnight")
    assert bad_schedule.status_code == 400


def test_a_jump_fires_at_most_its_limit_and_skips_the_rest_at_once(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    emu.power_platform.set_platform(max_runs_per_jump=5)
    flow = tenant.heartbeat(*single, every="Minute").json()["name"]
    started = time.monotonic()
    emu.advance_clock(30 * DAY)  # 43,200 occurrences
    assert time.monotonic() - started < 20
    tenant.renew()
    assert len(tenant.flows("GET", f"/{flow}/runs").json()["value"]) == 5
    emu.power_platform.set_platform(premium_licence=False)
    emu.advance_clock(DAY)  # an unlicensed owner's flow is suspended (U)
    tenant.renew()
    assert len(tenant.flows("GET", f"/{flow}/runs").json()["value"]) == 5


def test_concurrent_runs_never_send_one_refresh_token_twice(
    emu: Emulator, tenant: Tenant, single: tuple[str, str]
) -> None:
    with emu.state.lock:
        emu.state.reuse_revokes_grant = True  # a refresh token sent twice kills the grant
    emu.power_platform.set_platform(refresh_when="always")
    connector, connection = single
    flow = tenant.heartbeat(connector, connection).json()["name"]
    started = [tenant.flows("POST", f"/{flow}/triggers/Recurrence/run") for _ in range(6)]
    names = [s.headers["x-ms-workflow-run-id"] for s in started]
    finished = [wait_for_run(tenant, flow, name) for name in names]
    assert {r["properties"]["status"] for r in finished} == {"Succeeded"}
    assert tenant.status(connector, connection) == {"status": "Connected"}
