"""End-to-end fixtures: a DocuSign sign-in through `clmwizard login` against the emulator, and
the emulator's local Power Platform over TLS (its per-start CA trusted via CLMWIZARD_CA_BUNDLE)
with a stand-in user who approves device codes as they appear."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv
from tests.support.signin_fixtures import emu, fast_backoff, redirect_uri

BROWSER = f"{sys.executable} -m clmwizard.emulator.browser %s"


@pytest.fixture
def microsoft(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Trust the emulator's CA (only through clmwizard's own setting) and poll fast."""
    ca = tmp_path / "emulator-ca.pem"
    ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
    monkeypatch.setenv("CLMWIZARD_CA_BUNDLE", str(ca))
    emu.power_platform.set_policies(device_code_interval=0)
    return emu


@pytest.fixture
def approver(microsoft: Emulator) -> Iterator[list[str]]:
    """The user entering each device code in a browser elsewhere: approves every pending one."""
    approved: list[str] = []
    stop = threading.Event()

    def approve() -> None:
        while not stop.wait(0.05):
            for code in microsoft.power_platform.pending_device_codes():
                approved.append(microsoft.power_platform.approve_device_code(code))

    thread = threading.Thread(target=approve, daemon=True)
    thread.start()
    yield approved
    stop.set()
    thread.join(2)


@pytest.fixture
def signed_in(
    emu: Emulator,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., None]:
    """`clmwizard login` for profile `acme` through the browser stand-in."""

    def sign_in(profile: str = "acme") -> None:
        monkeypatch.setenv("BROWSER", BROWSER)
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        argv = login_argv(emu, profile=profile, redirect_uri=redirect_uri)
        assert main(argv) == 0, capsys.readouterr().err
        capsys.readouterr()
        monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)

    return sign_in


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
