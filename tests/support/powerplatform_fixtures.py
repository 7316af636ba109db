"""Fixtures of the local Power Platform: the emulator's Power Platform over TLS (its per-start
CA trusted via CLMWIZARD_CA_BUNDLE) with a stand-in user who approves device codes as they
appear, and the `publish` command line that points at it.

Imported by the conftest.py of each folder that uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from clmwizard.emulator import Emulator

# How often the client asks the emulator whether a connection or a run is done (the product's
# 2 s would make each wait in a test last seconds; the emulator answers the same either way).
FAST_POLL = 0.1


@pytest.fixture
def microsoft(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Trust the emulator's CA (only through clmwizard's own setting) and poll fast."""
    ca = tmp_path / "emulator-ca.pem"
    ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
    monkeypatch.setenv("CLMWIZARD_CA_BUNDLE", str(ca))
    emu.power_platform.set_policies(device_code_interval=0)
    return emu


class DeviceCodeSignIns:
    """The device-code sign-ins the emulated user approved: len() counts them."""

    def __init__(self, microsoft: Emulator) -> None:
        self._power_platform = microsoft.power_platform

    def __len__(self) -> int:
        return len(self._power_platform.issued_device_codes())


@pytest.fixture
def approver(microsoft: Emulator) -> DeviceCodeSignIns:
    """The user entering each device code in a browser elsewhere, before clmwizard first asks:
    the emulator approves each code as it issues it. (A user approving after the first poll
    would add MSAL's one-second wait to every sign-in; tests/commands/test_publish.py's sign-in
    troubles and the Pilot tests with `codes_wait` sign in that way.)"""
    microsoft.power_platform.set_policies(auto_approve_device_codes=True)
    return DeviceCodeSignIns(microsoft)


@pytest.fixture
def acme_publish(
    signed_in: Callable[..., None],
    approver: DeviceCodeSignIns,
    publish_argv: Callable[..., list[str]],
) -> Callable[..., list[str]]:
    """`publish_argv` once profile acme is signed in to DocuSign, with a user approving device
    codes."""
    signed_in()
    return publish_argv


def microsoft_argv(emu: Emulator) -> list[str]:
    """The settings that point `publish` at the emulator's Power Platform."""
    pp = emu.power_platform
    return [
        "--authority",
        pp.authority_host,
        "--tenant",
        pp.tenant,
        "--power-apps-url",
        pp.power_apps_url,
        "--flow-url",
        pp.flow_url,
    ]


@pytest.fixture
def publish_argv(microsoft: Emulator) -> Callable[..., list[str]]:
    def build(*extra: str, profile: str = "acme", environment: str | None = "default") -> list[str]:
        env = (
            microsoft.power_platform.default_environment
            if environment == "default"
            else environment
        )
        where = ["--environment", env] if env else []
        return ["publish", "--profile", profile, *where, *microsoft_argv(microsoft), *extra]

    return build
