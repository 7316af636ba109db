"""`clmwizard emulator` as a user runs it: a subprocess, its first JSON line, a clean exit."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import msal
import pytest
import requests

from clmwizard.cli import main
from tests.emulator.flows import transaction_of
from tests.emulator.platform_helpers import POWER_APPS, emulator_command, stop


def consent_request(
    info: dict[str, Any], scope: str, redirect_uri: str, **extra: str
) -> dict[str, Any]:
    """`url` and `params` of a consent request to the emulator that printed `info`."""
    query = {
        "response_type": "code",
        "scope": scope,
        "client_id": info["integration_key"],
        "redirect_uri": redirect_uri,
        **extra,
    }
    return {"url": f"{info['auth_server']}/oauth/auth", "params": query}


def test_first_line_then_requests_logged_then_clean_exit_on_sigint() -> None:
    with emulator_command() as (process, info):
        for key in (
            "auth_server",
            "clm_auth_server",
            "integration_key",
            "secret_key",
            "spare_secret_key",
            "redirect_uris",
            "user_email",
            "user_id",
            "account_id",
            "clm_hosts",
        ):
            assert info[key], key
        assert set(info["clm_hosts"]) == {"general", "upload", "download"}
        assert info["redirect_uris"] == ["http://127.0.0.1:8765/callback"]
        with httpx.Client() as client:
            page = client.get(
                **consent_request(
                    info, "signature spring_read", info["redirect_uris"][0], state="s"
                )
            )
            assert page.status_code == 200
            answer = client.post(
                f"{info['auth_server']}/oauth/consent",
                data={"transaction_id": transaction_of(page.text), "decision": "accept"},
            )
            code = answer.headers["location"].split("code=")[1].split("&")[0]
            token = client.post(
                f"{info['auth_server']}/oauth/token",
                data={"grant_type": "authorization_code", "code": code},
                auth=(info["integration_key"], info["secret_key"]),
            ).json()
        returncode, out, err = stop(process, signal.SIGINT)
    assert returncode == 0
    assert out == ""  # the JSON line was the only stdout line
    assert "clmwizard DocuSign emulator" in err
    assert "test values" in err
    assert "[auth] GET /oauth/auth 200" in err
    assert "[auth] POST /oauth/consent 302" in err
    assert "[auth] POST /oauth/token 200" in err
    for secret in (code, token["access_token"], token["refresh_token"], info["secret_key"]):
        assert secret not in err
    assert "?" not in err.split("Ctrl+C")[1]  # no query strings in the log


def test_options_and_sigterm() -> None:
    extra = "https://global.consent.azure-apim.net/redirect"
    with emulator_command("--auto-consent", "--redirect-uri", extra, "--accounts", "2") as (
        process,
        info,
    ):
        assert info["redirect_uris"] == ["http://127.0.0.1:8765/callback", extra]
        assert [a["is_default"] for a in info["accounts"]] == [False, True]
        response = httpx.get(**consent_request(info, "signature", extra))
        assert response.status_code == 302  # auto-consent: no page
        returncode, _, err = stop(process, signal.SIGTERM)
    assert returncode == 0
    assert "Emulator stopped." in err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_non_loopback_host_is_refused(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--host", host]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"The emulator refuses to listen on {host}: only on this computer." in captured.err
    assert "hands out test secret keys" in captured.err


def test_busy_port_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from clmwizard.emulator import Emulator

    with Emulator() as emu:
        port = emu.auth_server.rsplit(":", 1)[1]
        assert main(["emulator", "--port", port]) == 2
    err = capsys.readouterr().err
    assert f"could not listen on 127.0.0.1 port {port}" in err
    assert "Choose another --port" in err


def test_the_json_line_carries_power_platform_and_msal_signs_in_with_it(tmp_path: Path) -> None:
    with emulator_command() as (process, info):
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
        result = app.acquire_token_for_client([POWER_APPS])
        assert "access_token" in result, result
        bearer = {"Authorization": f"Bearer {result['access_token']}"}
        # An app-only token: the Flow API's list refuses it (T), the BAP list answers.
        refused = session.get(
            f"{pp['flow_url']}/providers/Microsoft.ProcessSimple/environments",
            params={"api-version": "2016-11-01"},
            headers=bearer,
        )
        assert refused.status_code == 403
        listed = session.get(
            f"{pp['flow_url']}/providers/Microsoft.BusinessAppPlatform/environments",
            params={"api-version": "2020-10-01"},
            headers=bearer,
        )
        assert [e["name"] for e in listed.json()["value"]] == pp["environments"]
        code, _, err = stop(process, signal.SIGINT)
    assert code == 0
    assert "[entra] POST /" in err and "Power Apps API (TLS)" in err
