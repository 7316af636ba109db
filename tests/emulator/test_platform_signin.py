"""One Microsoft sign-in serves both APIs: MSAL's device code for the Power Apps scope, then a
silent token for the Flow API from the same account (the refresh token, another resource)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msal
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.powerplatform_helpers import (
    POWER_APPS_SCOPE,
    claims,
    httpx_client,
    msal_http_client,
)

FLOW_SCOPE = "https://service.flow.microsoft.com/.default"


@pytest.fixture
def signin_emu() -> Iterator[Emulator]:
    """The emulator with device codes polled at once (not after the default interval)."""
    with Emulator() as emulator:
        emulator.power_platform.set_policies(device_code_interval=0)
        yield emulator


def test_a_flow_token_comes_silently_from_the_power_apps_sign_in(
    signin_emu: Emulator, tmp_path: Path
) -> None:
    pp = signin_emu.power_platform
    app = msal.PublicClientApplication(
        pp.public_client_id,
        authority=pp.authority,
        instance_discovery=False,
        http_client=msal_http_client(signin_emu, tmp_path),
    )
    flow = app.initiate_device_flow(scopes=[POWER_APPS_SCOPE])
    pp.approve_device_code(flow["user_code"])
    first = app.acquire_token_by_device_flow(flow)
    assert "access_token" in first, first
    silent = app.acquire_token_silent([FLOW_SCOPE], account=app.get_accounts()[0])
    assert silent is not None and "access_token" in silent, silent
    token = claims(silent["access_token"])
    assert token["aud"] == "https://service.flow.microsoft.com/"
    assert token["oid"] == pp.user_oid
    flows = f"{pp.flow_url}/providers/Microsoft.ProcessSimple/environments/"
    flows += f"{pp.default_environment}/flows"
    with httpx_client(signin_emu) as client:
        ok = client.get(
            flows,
            params={"api-version": "2016-11-01"},
            headers={"Authorization": f"Bearer {silent['access_token']}"},
        )
        refused = client.get(
            flows,
            params={"api-version": "2016-11-01"},
            headers={"Authorization": f"Bearer {first['access_token']}"},
        )
    assert ok.status_code == 200 and ok.json() == {"value": []}
    assert refused.status_code == 401
