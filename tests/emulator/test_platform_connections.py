"""Power Apps connections and the consent service, over real sockets with plain httpx and the
browser stand-in: the connector's own client id, secret, scopes and redirect URL meet the
DocuSign emulator exactly as a published connector's would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import ConsentError, follow_consent_link
from tests.docusign.helpers import loopback_redirect_uri
from tests.emulator.flows import Listener
from tests.emulator.platform_helpers import (
    APIS,
    POWER_APPS,
    Tenant,
    export_bundle,
    tenant,
    user_token,
)

__all__ = ["tenant"]


@pytest.fixture
def redirect_uri() -> str:
    return loopback_redirect_uri()  # `clmwizard login` needs a free loopback port of its own


@pytest.fixture
def single(tenant: Tenant, tmp_path: Path) -> str:
    """The single-layout connector, published; its redirect URL registered at DocuSign."""
    record = tenant.publish(export_bundle(tmp_path, "single") / "clm")
    redirect = record["properties"]["connectionParameters"]["token"]["oAuthSettings"]["redirectUrl"]
    tenant.emu.register_redirect_uri(redirect)
    connector_id: str = record["name"]
    return connector_id


def test_redirect_urls_resolve_to_the_consent_service(emu: Emulator, single: str) -> None:
    (record,) = emu.power_platform.connectors()
    redirect = record["properties"]["connectionParameters"]["token"]["oAuthSettings"]["redirectUrl"]
    assert redirect == f"{emu.power_platform.consent_url}/redirect/{single.removeprefix('shared_')}"
    assert redirect.startswith("https://127.0.0.1:")


def test_a_new_connection_is_not_signed_in(tenant: Tenant, single: str) -> None:
    name = tenant.connection(single)
    status = tenant.status(single, name)
    assert status["status"] == "Error" and status["target"] == "token"
    listed = tenant.pa("GET", f"{APIS}/{single}/connections").json()["value"]
    assert [c["name"] for c in listed] == [name]
    everything = tenant.pa("GET", "/providers/Microsoft.PowerApps/connections").json()["value"]
    assert [c["properties"]["apiId"] for c in everything] == [
        f"/providers/Microsoft.PowerApps/apis/{single}"
    ]


def test_the_consent_link_signs_in_with_the_connectors_own_settings(
    emu: Emulator, tenant: Tenant, single: str
) -> None:
    name = tenant.connection(single)
    link = tenant.consent_link(single, name)
    assert link.startswith(f"{emu.power_platform.consent_url}/login?")
    first = tenant.http.get(link)
    assert first.status_code == 302
    location = first.headers["location"]
    assert location.startswith(f"{emu.auth_server}/oauth/auth?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    (record,) = emu.power_platform.connectors()
    settings = record["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert query["client_id"] == settings["clientId"] == emu.integration_key
    assert query["redirect_uri"] == settings["redirectUrl"]
    assert query["scope"].split() == settings["scopes"]
    assert query["response_type"] == "code" and query["state"]

    outcome = follow_consent_link(link, ca_cert=emu.power_platform.ca_cert)
    assert outcome.status == 200, outcome
    assert "You can close this window" in outcome.message
    assert tenant.status(single, name) == {"status": "Connected"}
    # the link works once
    again = follow_consent_link(link, ca_cert=emu.power_platform.ca_cert)
    assert again.status == 400 and "expired or was already used" in again.message


def test_an_unregistered_redirect_url_stops_at_docusign(
    emu: Emulator, tenant: Tenant, tmp_path: Path
) -> None:
    record = tenant.publish(export_bundle(tmp_path, "single") / "clm")  # not registered
    name = tenant.connection(record["name"])
    with pytest.raises(ConsentError, match="redirect URI is not registered properly"):
        tenant.sign_in(record["name"], name)
    status = tenant.status(record["name"], name)
    assert status["status"] == "Error" and status["error"]["code"] == "Unauthenticated"


def test_a_declined_consent_ends_in_error(emu: Emulator, tenant: Tenant, single: str) -> None:
    emu.revoke_consent()  # so DocuSign asks again instead of redirecting at once
    name = tenant.connection(single)
    outcome = tenant.sign_in(single, name, decision="decline")
    assert outcome.status == 400 and "access_denied" in outcome.message
    status = tenant.status(single, name)
    assert status["status"] == "Error" and status["error"]["code"] == "access_denied"


def test_a_rotated_away_secret_fails_at_the_exchange(
    emu: Emulator, tenant: Tenant, single: str
) -> None:
    emu.revoke_secret("secret_key")  # the connector still carries it
    name = tenant.connection(single)
    outcome = tenant.sign_in(single, name)
    assert outcome.status == 400 and "unauthorized_client" in outcome.message
    status = tenant.status(single, name)
    assert status["status"] == "Error" and status["error"]["code"] == "TokenExchangeFailed"


def test_the_secret_in_the_form_body_works_too(emu: Emulator, tenant: Tenant, single: str) -> None:
    emu.power_platform.set_platform(token_client_auth="body")
    name = tenant.connection(single)
    tenant.sign_in(single, name)
    assert tenant.status(single, name) == {"status": "Connected"}


def test_a_dead_grant_shows_on_read_after_its_access_token_ran_out(
    emu: Emulator, tenant: Tenant, single: str
) -> None:
    name = tenant.connection(single)
    tenant.sign_in(single, name)
    emu.revoke_consent()  # Connected Apps -> Revoke: the access token lives on
    assert tenant.status(single, name) == {"status": "Connected"}
    emu.advance_clock(8 * 3600 + 1)
    tenant.renew()
    status = tenant.status(single, name)
    assert status["status"] == "Error" and "invalid_grant" in status["error"]["message"]


def test_without_refresh_on_read_the_status_waits_for_a_run(
    emu: Emulator, tenant: Tenant, single: str
) -> None:
    emu.power_platform.set_platform(refresh_on_read=False)
    name = tenant.connection(single)
    tenant.sign_in(single, name)
    emu.revoke_consent()
    emu.advance_clock(8 * 3600 + 1)
    tenant.renew()
    assert tenant.status(single, name) == {"status": "Connected"}


def test_rules_of_the_api(emu: Emulator, tenant: Tenant, single: str) -> None:
    name = tenant.connection(single)
    path = f"{APIS}/{single}/connections/{name}"
    unfiltered = tenant.http.get(
        f"{emu.power_platform.power_apps_url}{path}",
        params={"api-version": "2016-11-01"},
        headers={"Authorization": f"Bearer {tenant.power_apps_token}"},
    )
    assert unfiltered.status_code == 400
    assert unfiltered.json()["error"]["code"] == "MissingEnvironmentFilter"
    wrong_audience = tenant.http.get(
        f"{emu.power_platform.power_apps_url}{path}",
        params={"api-version": "2016-11-01", "$filter": f"environment eq '{tenant.environment}'"},
        headers={"Authorization": f"Bearer {tenant.flow_token}"},
    )
    assert wrong_audience.status_code == 401
    missing = tenant.pa("PUT", f"{APIS}/shared_nothing-5f00/connections/x", json={"properties": {}})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ApiNotFound"
    again = tenant.pa("PUT", path, json={"properties": {"displayName": "Renamed"}})
    assert again.status_code == 200 and again.json()["properties"]["displayName"] == "Renamed"
    other = Tenant(
        emu, tenant.http, user_token(emu, tenant.http, POWER_APPS), "", tenant.environment
    )
    assert other.pa("GET", path).status_code == 404  # another user's connection is not theirs
    emu.power_platform.set_maker(tenant.environment, False)
    assert tenant.pa("GET", path).status_code == 403
    emu.power_platform.set_maker(tenant.environment, True)
    assert tenant.pa("DELETE", path).status_code == 200
    assert tenant.pa("GET", path).status_code == 404


def test_auto_register_redirects_registers_each_connector(tenant: Tenant, tmp_path: Path) -> None:
    emu = tenant.emu
    emu.power_platform.set_platform(auto_register_redirects=True)
    bundle = export_bundle(tmp_path, "three")
    records = [tenant.publish(bundle / folder) for folder in ("general", "upload", "download")]
    redirects = [
        r["properties"]["connectionParameters"]["token"]["oAuthSettings"]["redirectUrl"]
        for r in records
    ]
    assert len(set(redirects)) == 3
    assert set(redirects) <= set(emu.redirect_uris)
    for record in records:
        name = tenant.connection(record["name"])
        tenant.sign_in(record["name"], name)
        assert tenant.status(record["name"], name) == {"status": "Connected"}


def test_the_browser_stand_in_follows_a_consent_link_as_browser(
    emu: Emulator, tenant: Tenant, single: str, tmp_path: Path
) -> None:
    name = tenant.connection(single)
    link = tenant.consent_link(single, name)
    ca = tmp_path / "ca.pem"
    ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
    env = {**os.environ, "CLMWIZARD_TEST_BROWSER_CA": str(ca)}
    done = subprocess.run(
        [sys.executable, "-m", "clmwizard.emulator.browser", link],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert tenant.status(single, name) == {"status": "Connected"}


def _link_back_to(tenant: Tenant, connector: str, name: str, listener: Listener) -> str:
    response = tenant.pa(
        "POST",
        f"{APIS}/{connector}/connections/{name}/getConsentLink",
        json={"redirectUrl": listener.uri},
    )
    assert response.status_code == 200, response.text
    link: str = response.json()["consentLink"]
    return link


def test_with_a_redirect_url_the_service_finishes_then_sends_the_browser_there(
    emu: Emulator, tenant: Tenant, single: str, listener: Listener
) -> None:
    name = tenant.connection(single)
    link = _link_back_to(tenant, single, name, listener)
    outcome = follow_consent_link(link, ca_cert=emu.power_platform.ca_cert)
    assert outcome.status == 200 and outcome.url == listener.uri
    assert listener.paths == ["/callback"]
    assert tenant.status(single, name) == {"status": "Connected"}


def test_the_portals_way_confirms_a_consent_code(
    emu: Emulator, tenant: Tenant, single: str, listener: Listener
) -> None:
    emu.power_platform.set_platform(consent_finish="confirm")
    name = tenant.connection(single)
    link = _link_back_to(tenant, single, name, listener)
    follow_consent_link(link, ca_cert=emu.power_platform.ca_cert)
    (path,) = listener.paths
    code = parse_qs(urlsplit(path).query)["code"][0]
    assert tenant.status(single, name)["status"] == "Error"  # not yet
    confirm = f"{APIS}/{single}/connections/{name}/confirmConsentCode"
    wrong = tenant.pa("POST", confirm, json={"code": "not-it"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "InvalidConsentCode"
    done = tenant.pa("POST", confirm, json={"code": code})
    assert done.status_code == 200
    assert done.json()["properties"]["statuses"] == [{"status": "Connected"}]
    assert tenant.pa("POST", confirm, json={"code": code}).status_code == 400  # once
