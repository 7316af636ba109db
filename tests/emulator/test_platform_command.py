"""`clmwizard emulator --auto-register-redirects` as a user runs it, driven over HTTP only: its
JSON line, the Power Apps API, the controls (switches, clock)."""

from __future__ import annotations

import ssl

import httpx

from tests.emulator.platform_helpers import POWER_APPS, V, api_properties, emulator_command, swagger


def test_auto_register_redirects_from_the_command_line() -> None:
    with emulator_command("--auto-register-redirects") as (_, info):
        pp = info["power_platform"]
        assert pp["consent_url"].startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cadata=pp["ca_cert"])
        with httpx.Client(verify=context, timeout=10, trust_env=False) as client:
            token = client.post(
                f"{pp['authority']}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": pp["client_id"],
                    "client_secret": pp["client_secret"],
                    "scope": POWER_APPS,
                },
            ).json()["access_token"]
            env = pp["environments"][0]
            properties = api_properties()
            definition = swagger()
            properties.update(
                {
                    "openApiDefinition": definition,
                    "backendService": {"serviceUrl": "https://apiuatna11.springcm.com/"},
                    "environment": {"name": env},
                    "displayName": definition["info"]["title"],
                    "description": definition["info"]["description"],
                }
            )
            created = client.post(
                f"{pp['power_apps_url']}/providers/Microsoft.PowerApps/apis",
                params={**V, "$filter": f"environment eq '{env}'"},
                json={"properties": properties},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 201, created.text
            redirect = created.json()["properties"]["connectionParameters"]["token"][
                "oAuthSettings"
            ]["redirectUrl"]
            assert redirect.startswith(f"{pp['consent_url']}/redirect/")
            controls = f"{info['auth_server']}/_emulator"
            assert redirect in client.get(f"{controls}/info").json()["redirect_uris"]
            switches = client.post(
                f"{controls}/powerplatform/platform", json={"refresh_when": "always"}
            ).json()
            assert switches["refresh_when"] == "always"
            assert switches["auto_register_redirects"] is True
            bad = client.post(f"{controls}/powerplatform/platform", json={"refresh_when": "x"})
            assert bad.status_code == 400
            before = client.post(f"{controls}/clock", json={"advance": 0}).json()["now"]
            after = client.post(f"{controls}/clock", json={"advance": 86400}).json()["now"]
            assert after - before >= 86400
