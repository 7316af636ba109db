"""`clmwizard emulator` runs the Power Platform side too: its JSON line is enough for MSAL."""

from __future__ import annotations

import signal
from pathlib import Path

import msal
import requests

from tests.emulator.powerplatform_helpers import POWER_APPS_SCOPE
from tests.emulator.test_command import running, stop


def test_the_json_line_carries_power_platform_and_msal_signs_in_with_it(tmp_path: Path) -> None:
    with running() as (process, info):
        pp = info["power_platform"]
        assert pp["authority"].startswith("https://127.0.0.1:")
        assert pp["power_apps_url"].startswith("https://") and pp["flow_url"].startswith("https")
        assert len(pp["environments"]) == 2
        ca = tmp_path / "ca.pem"
        ca.write_text(pp["ca_cert"], encoding="ascii")
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        session.verify = str(ca)
        app = msal.ConfidentialClientApplication(
            pp["client_id"],
            client_credential=pp["client_secret"],
            authority=pp["authority"],
            instance_discovery=False,
            http_client=session,
        )
        result = app.acquire_token_for_client([POWER_APPS_SCOPE])
        assert "access_token" in result, result
        listed = session.get(
            f"{pp['flow_url']}/providers/Microsoft.ProcessSimple/environments",
            params={"api-version": "2016-11-01"},
            headers={"Authorization": f"Bearer {result['access_token']}"},
        )
        assert [e["name"] for e in listed.json()["value"]] == pp["environments"]
        code, _, err = stop(process, signal.SIGINT)
    assert code == 0
    assert "[entra] POST /" in err and "Power Apps API (TLS)" in err
