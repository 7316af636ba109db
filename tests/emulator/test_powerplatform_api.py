"""The emulator's Power Apps API, Flow environments and blob storage, over TLS with httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.platform_helpers import (
    APIS,
    FLOW,
    POWER_APPS,
    V,
    api_properties,
    httpx_client,
    principal_token,
    swagger,
)


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx_client(emu) as plain:
        token = principal_token(emu, plain, POWER_APPS)
    with httpx_client(emu) as authed:
        authed.headers["Authorization"] = f"Bearer {token}"
        yield authed


def env_filter(env: str) -> dict[str, str]:
    return {**V, "$filter": f"environment eq '{env}'"}


def objects(emu: Emulator, api: str) -> str:
    pp = emu.power_platform
    oid = pp.service_principal_oid
    return f"{pp.power_apps_url}/providers/Microsoft.PowerApps/objectIds/{oid}/{api}"


def create_body(env: str, title: str = "Northwind Contracts", icon: str = "") -> dict[str, Any]:
    definition = swagger(title)
    properties = api_properties()
    properties.update(
        {
            "openApiDefinition": definition,
            "backendService": {"serviceUrl": "https://apiuatna11.springcm.com/"},
            "environment": {"name": env},
            "displayName": title,
            "description": definition["info"]["description"],
            "iconUri": icon,
            "scriptDefinitionUrl": "",
        }
    )
    return {"properties": properties}


def create(emu: Emulator, client: httpx.Client, title: str = "Northwind Contracts") -> Any:
    pp = emu.power_platform
    env = pp.default_environment
    response = client.post(
        f"{pp.power_apps_url}{APIS}", params=env_filter(env), json=create_body(env, title)
    )
    assert response.status_code == 201, response.text
    return response.json()


def all_pages(client: httpx.Client, url: str, params: dict[str, str]) -> list[list[Any]]:
    pages = []
    answer = client.get(url, params=params)
    while True:
        assert answer.status_code == 200, answer.text
        data = answer.json()
        pages.append(data["value"])
        if "nextLink" not in data:
            return pages
        assert data["nextLink"].startswith(url + "?") and "%24skiptoken=" in data["nextLink"]
        answer = client.get(data["nextLink"])


def test_environments_are_listed_through_bap_not_flow_for_an_app(
    emu: Emulator, client: httpx.Client
) -> None:
    pp = emu.power_platform
    flow = client.get(f"{pp.flow_url}/providers/Microsoft.ProcessSimple/environments", params=V)
    assert flow.status_code == 403 and "app-only" in flow.json()["error"]["message"]
    response = client.get(
        f"{pp.flow_url}/providers/Microsoft.BusinessAppPlatform/environments",
        params={"api-version": "2020-10-01"},
    )
    assert response.status_code == 200, response.text
    names = [(e["name"], e["properties"]["displayName"]) for e in response.json()["value"]]
    assert [n for n, _ in names] == pp.environments
    assert all(display for _, display in names)
    pp.set_behaviour(flow_refuses_app_tokens=False)
    flow = client.get(f"{pp.flow_url}/providers/Microsoft.ProcessSimple/environments", params=V)
    assert [e["name"] for e in flow.json()["value"]] == pp.environments


def test_the_list_is_the_paged_catalogue_then_the_tenants_own(
    emu: Emulator, client: httpx.Client
) -> None:
    pp = emu.power_platform
    env = pp.default_environment
    mine = create(emu, client)["name"]
    url = f"{pp.power_apps_url}{APIS}"
    started = time.perf_counter()
    pages = all_pages(client, url, env_filter(env))
    elapsed = time.perf_counter() - started
    entries = [entry for page in pages for entry in page]
    assert len(pages) == 6 and len(entries) == 1301 and elapsed < 5
    assert entries[-1]["name"] == mine and entries[-1]["properties"]["isCustomApi"] is True
    assert not any(entry["properties"]["isCustomApi"] for entry in entries[:-1])
    sizes = [len(json.dumps(entry)) for entry in entries[:-1]]
    assert 1500 < sum(sizes) / len(sizes) < 5000  # a few KB each, as real entries are
    again = [e["name"] for page in all_pages(client, url, env_filter(env)) for e in page]
    assert again == [e["name"] for e in entries]  # deterministic
    custom = {**V, "$filter": f"environment eq '{env}' and IsCustomApi eq 'True'"}
    assert all_pages(client, url, custom) == [[entries[-1]]]
    pp.set_behaviour(page_size=1000, honour_custom_filter=False)
    pages = all_pages(client, url, custom)
    assert [len(page) for page in pages] == [1000, 301]
    bad = client.get(url, params={**env_filter(env), "$skiptoken": "junk"})
    assert bad.status_code == 400


@pytest.mark.parametrize("answer", ["connector", "empty", "204"])
def test_patch_answers_are_switchable_and_display_names_refused(
    answer: str, emu: Emulator, client: httpx.Client
) -> None:
    pp = emu.power_platform
    env = pp.default_environment
    pp.set_behaviour(patch_answer=answer)
    connector_id = create(emu, client)["name"]
    url = f"{pp.power_apps_url}{APIS}/{connector_id}"
    body = create_body(env, "Northwind Contracts")
    refused = client.patch(url, params=env_filter(env), json=body)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "CannotUpdateApiDisplayName"
    del body["properties"]["displayName"]
    patched = client.patch(url, params=env_filter(env), json=body)
    expected = {"connector": 200, "empty": 200, "204": 204}[answer]
    assert patched.status_code == expected
    assert bool(patched.content) is (answer == "connector")
    (stored,) = pp.connectors(env)
    settings = stored["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["redirectMode"] == "GlobalPerConnector"  # sent as Global


@pytest.mark.parametrize("form", ["text", "json"])
def test_validation_can_carry_warnings_and_errors(
    form: str, emu: Emulator, client: httpx.Client
) -> None:
    pp = emu.power_platform
    pp.set_behaviour(
        validation_format=form,
        validation_findings=["Warning: paths./a.get: summary is long.", "Error: host: bad."],
    )
    answer = client.post(objects(emu, "validateApiSwagger"), params=V, json=swagger("X"))
    data = answer.json()
    if form == "text":
        assert data == "Warning: paths./a.get: summary is long.\r\nError: host: bad."
    else:
        assert data == [
            {"level": "Warning", "location": "paths./a.get", "message": "summary is long."},
            {"level": "Error", "location": "host", "message": "bad."},
        ]


def test_without_or_with_a_bad_token_401(emu: Emulator) -> None:
    url = f"{emu.power_platform.power_apps_url}{APIS}"
    with httpx_client(emu) as client:
        missing = client.get(url, params=V)
        forged = client.get(url, params=V, headers={"Authorization": "Bearer a.b.c"})
    assert missing.status_code == 401 and forged.status_code == 401
    assert forged.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_an_expired_token_401(emu: Emulator, client: httpx.Client) -> None:
    emu.advance_clock(3601)
    response = client.get(f"{emu.power_platform.power_apps_url}{APIS}", params=V)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "ExpiredAuthenticationToken"


def test_a_token_for_another_audience_401(emu: Emulator) -> None:
    pp = emu.power_platform
    with httpx_client(emu) as client:
        token = principal_token(emu, client, FLOW)
        response = client.get(
            f"{pp.power_apps_url}{APIS}", params=V, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_api_version_is_required(emu: Emulator, client: httpx.Client) -> None:
    response = client.get(f"{emu.power_platform.power_apps_url}{APIS}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_validate_swagger(emu: Emulator, client: httpx.Client) -> None:
    url = objects(emu, "validateApiSwagger")
    headers = {"x-ms-origin": "paconn-cli"}
    assert client.post(url, params=V, json=swagger(), headers=headers).content == b""
    broken = swagger()
    del broken["paths"]["/v2/{AccountId}/folders"]["get"]["responses"]
    answer = client.post(url, params=V, json=broken, headers=headers)
    assert answer.status_code == 200 and "has no responses" in answer.json()
    noisy = swagger("Northwind Contracts API")
    noisy["paths"]["/v2/{AccountId}/folders"]["get"]["operationId"] = "list_folders"
    plain = client.post(url, params=V, json=noisy)
    certified = client.post(
        url, params={**V, "enableConnectorCertificationRules": "true"}, json=noisy
    )
    assert plain.content == b""
    problems = certified.json().split("\r\n")
    assert any("info.title" in p and "'API'" in p for p in problems)
    assert any("operationId" in p and "PascalCase" in p for p in problems)


def test_icon_storage_upload_and_read(emu: Emulator, client: httpx.Client) -> None:
    pp = emu.power_platform
    storage = client.post(
        objects(emu, "generateResourceStorage"),
        params=V,
        json={"environment": {"name": pp.default_environment}},
    )
    assert storage.status_code == 200, storage.text
    sas = httpx.URL(storage.json()["sharedAccessSignature"])
    assert {"sv", "sr", "sig", "se", "sp"} <= set(sas.params)
    blob_url = sas.copy_with(path=sas.path + "/icon.png")
    with httpx_client(emu) as storage_client:
        untyped = storage_client.put(blob_url, content=b"\x89PNG")
        put = storage_client.put(
            blob_url,
            content=b"\x89PNG-bytes",
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "image/png"},
        )
        forged = storage_client.get(blob_url.copy_set_param("sig", "forged"))
        read = storage_client.get(blob_url)
    assert untyped.status_code == 400 and "MissingRequiredHeader" in untyped.text
    assert put.status_code == 201 and put.headers["ETag"]
    assert forged.status_code == 403
    assert read.content == b"\x89PNG-bytes" and read.headers["content-type"] == "image/png"
    assert pp.blob(str(blob_url)) == b"\x89PNG-bytes"


def test_create_get_list_update(emu: Emulator, client: httpx.Client) -> None:
    pp = emu.power_platform
    env = pp.default_environment
    created = create(emu, client)
    connector_id = created["name"]
    assert connector_id.startswith("shared_northwind-20contracts-5f")
    token = created["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    derived = connector_id.removeprefix("shared_")
    # the shape of global.consent.azure-apim.net/redirect/<name>, on the emulator's consent origin
    assert token["redirectUrl"] == f"{pp.consent_url}/redirect/{derived}"
    assert "clientSecret" not in token
    url = f"{pp.power_apps_url}{APIS}/{connector_id}"
    read = client.get(url, params=env_filter(env)).json()
    assert (
        "clientSecret" not in read["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    )
    assert read["properties"]["displayName"] == "Northwind Contracts"
    listed = [
        c for page in all_pages(client, f"{pp.power_apps_url}{APIS}", env_filter(env)) for c in page
    ]
    unfiltered = [c for page in all_pages(client, f"{pp.power_apps_url}{APIS}", V) for c in page]
    assert connector_id in [c["name"] for c in listed]
    assert connector_id not in [c["name"] for c in unfiltered]
    body = create_body(env, "A new title")
    del body["properties"]["displayName"]
    token_settings = body["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    del token_settings["clientSecret"]
    patched = client.patch(url, params=env_filter(env), json=body)
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["displayName"] == "Northwind Contracts"
    (stored,) = pp.connectors(env)
    assert stored["clientSecrets"] == {"token": "s3cret-value"}  # kept without a new one
    assert stored["properties"]["openApiDefinition"]["info"]["title"] == "A new title"
    swagger_url = read["properties"]["apiDefinitions"]["originalSwaggerUrl"]
    assert b"Northwind" in (pp.blob(swagger_url) or b"")


def test_create_refuses_a_broken_definition(emu: Emulator, client: httpx.Client) -> None:
    pp = emu.power_platform
    env = pp.default_environment
    body = create_body(env)
    body["properties"]["openApiDefinition"]["swagger"] = "3.0"
    response = client.post(f"{pp.power_apps_url}{APIS}", params=env_filter(env), json=body)
    assert response.status_code == 400 and "Swagger 2.0" in response.json()["error"]["message"]
    assert pp.connectors(env) == []


def test_unknown_environment_404_and_no_maker_role_403(emu: Emulator, client: httpx.Client) -> None:
    pp = emu.power_platform
    missing = client.post(
        f"{pp.power_apps_url}{APIS}", params=env_filter("nope"), json=create_body("nope")
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "EnvironmentNotFound"
    sandbox = pp.environments[1]
    pp.set_maker(sandbox, False)
    denied = client.post(
        f"{pp.power_apps_url}{APIS}", params=env_filter(sandbox), json=create_body(sandbox)
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "EnvironmentAccess"
    assert "does not have access to permission" in denied.json()["error"]["message"]


def test_faults_throttle_fail_and_slow_down(emu: Emulator, client: httpx.Client) -> None:
    pp = emu.power_platform
    url = f"{pp.power_apps_url}{APIS}"
    emu.inject_fault("powerapps", APIS, status=429, retry_after=7)
    throttled = client.get(url, params=V)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "7"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    emu.inject_fault("powerapps", APIS, status=503)
    assert client.get(url, params=V).status_code == 503
    emu.inject_fault("powerapps", APIS, latency=0.3)
    started = time.perf_counter()
    assert client.get(url, params=V).status_code == 200
    assert time.perf_counter() - started >= 0.3
    emu.inject_fault("entra", "/", status=503)
    with httpx_client(emu) as plain:
        failed = plain.post(f"{pp.authority}/oauth2/v2.0/token", data={"grant_type": "x"})
    assert failed.status_code == 503 and failed.json()["error"] == "temporarily_unavailable"


def test_http_controls_and_json_line(emu: Emulator) -> None:
    info = emu.info()["power_platform"]
    assert set(info) >= {
        "authority",
        "tenant",
        "client_id",
        "client_secret",
        "power_apps_url",
        "flow_url",
        "environments",
        "ca_cert",
    }
    assert info["authority"].startswith("https://") and info["power_apps_url"].startswith("https")
    pp = emu.power_platform
    with httpx_client(emu) as client:
        client.post(
            f"{pp.authority}/oauth2/v2.0/devicecode",
            data={
                "client_id": pp.public_client_id,
                "scope": "https://service.powerapps.com/.default",
            },
        )
    with httpx.Client(trust_env=False) as control:
        pending = control.get(f"{emu.auth_server}/_emulator/powerplatform/device-codes").json()
        approved = control.post(
            f"{emu.auth_server}/_emulator/powerplatform/device-codes/approve", json={}
        ).json()
        policies = control.post(
            f"{emu.auth_server}/_emulator/powerplatform/policies",
            json={"admin_consent_required": True},
        ).json()
    assert approved["approved"] == pending["pending"][0]
    assert policies["admin_consent_required"] is True
    assert pp.client_secret in emu.issued_secrets()


def test_issued_secrets_cover_the_power_platform(emu: Emulator, client: httpx.Client) -> None:
    pp = emu.power_platform
    token = client.headers["Authorization"].removeprefix("Bearer ")
    create(emu, client)
    issued = emu.issued_secrets()
    assert {pp.client_secret, token, "s3cret-value"} <= issued


def test_certification_rules_name_products_not_words(emu: Emulator, client: httpx.Client) -> None:
    url = objects(emu, "validateApiSwagger")
    params = {**V, "enableConnectorCertificationRules": "true"}
    fine = swagger()
    fine["info"]["description"] = "Starts contract workflows and files the signed documents."
    named = swagger()
    named["info"]["description"] = "Use these actions from Power Automate to file contracts."
    assert client.post(url, params=params, json=fine).content == b""
    assert "must not name Power Apps" in client.post(url, params=params, json=named).json()
