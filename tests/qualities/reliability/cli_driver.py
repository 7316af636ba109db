"""Drives one fault-matrix cell through the command line (`clmwizard.cli.main`)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from clmwizard import http as http_layer
from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import ACCESS_TOKEN
from clmwizard.store.profiles import ProfileStore
from tests.qualities.reliability import browser
from tests.qualities.reliability.harness import (
    CONSENT_TIMEOUT,
    Snapshot,
    inject,
    requests_to,
    short_client,
)
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv

ROOT = Path(__file__).resolve().parents[3]
BROWSER = f"{sys.executable} -m tests.qualities.reliability.browser %s"
PROFILE = "acme"
LOGIN_STEPS = ("consent", "exchange", "userinfo", "discovery")
CODE_LIFETIME = 120


def wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, "the browser stand-in never finished"
        time.sleep(0.02)


@dataclass(frozen=True)
class Observed:
    exit: int
    out: str
    err: str
    requests: int
    before: Snapshot
    after: Snapshot


class CliDriver:
    def __init__(
        self,
        emu: Emulator,
        redirect_uri: str,
        keyring: MemoryKeyring,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.emu = emu
        self.redirect_uri = redirect_uri
        self.keyring = keyring
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        monkeypatch.setenv("BROWSER", BROWSER)
        monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the browser stand-in lives in tests/

    def secrets(self) -> dict[str, str]:
        prefix = f"{PROFILE}/"
        return {
            user.removeprefix(prefix): value
            for (service, user), value in self.keyring.items.items()
            if service == "clmwizard" and user.startswith(prefix)
        }

    def snapshot(self) -> Snapshot:
        return Snapshot.take(ProfileStore().path_for(PROFILE), self.secrets())

    def login_args(self, timeout: float = 10.0) -> list[str]:
        return login_argv(
            self.emu, profile=PROFILE, redirect_uri=self.redirect_uri, timeout=timeout
        )

    def sign_in(self) -> None:
        self.monkeypatch.setenv("CLMWIZARD_SECRET_KEY", self.emu.secret_key)
        code = main(self.login_args(), client_factory=short_client)
        _, err = self.capsys.readouterr()
        assert code == 0, err
        self.monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)

    def run(self, step: str, fault: str) -> Observed:
        if step in LOGIN_STEPS:
            return self._login(step, fault)
        self.sign_in()
        before = self.snapshot()
        inject(self.emu, step, fault)
        return self.again(step, before)

    def again(self, step: str, before: Snapshot) -> Observed:
        """Run the command of a step after sign-in (again, for a user who retries)."""
        since = len(self.emu.request_log)
        if step == "refresh":
            code = main(["refresh", "--profile", PROFILE], client_factory=short_client)
        elif step == "rotate":
            self.monkeypatch.setenv("CLMWIZARD_SECRET_KEY", self.emu.spare_secret_key)
            code = main(["rotate", "--profile", PROFILE], client_factory=short_client)
        else:
            code = self._clm_call(before.secrets[ACCESS_TOKEN])
        out, err = self.capsys.readouterr()
        return Observed(code, out, err, requests_to(self.emu, step, since), before, self.snapshot())

    def _login(self, step: str, fault: str) -> Observed:
        if step == "consent" and fault != "latency":
            self.monkeypatch.setenv(browser.RELOADS, "2")  # a person reloads a failed page
        if fault == "expired_code":
            self.monkeypatch.setenv(browser.LINGER, str(CODE_LIFETIME + 1))
        self.monkeypatch.setenv("CLMWIZARD_SECRET_KEY", self.emu.secret_key)
        before = self.snapshot()
        inject(self.emu, step, fault)
        since = len(self.emu.request_log)
        done = self.done_marker()
        code = main(
            self.login_args(CONSENT_TIMEOUT if step == "consent" else 10.0),
            client_factory=short_client,
        )
        wait_for(done)  # the browser may still be reloading after a timed-out wait
        out, err = self.capsys.readouterr()
        return Observed(code, out, err, requests_to(self.emu, step, since), before, self.snapshot())

    def done_marker(self) -> Path:
        marker = Path(tempfile.mkdtemp()) / "browser-done"
        self.monkeypatch.setenv(browser.DONE, str(marker))
        return marker

    def _clm_call(self, access_token: str) -> int:
        """What a CLM call through clmwizard's HTTP core does; prints like the CLI would."""
        profile = ProfileStore().load(PROFILE)
        assert profile.clm_hosts is not None
        url = f"{profile.clm_hosts.general}/v2/{profile.account_id}/attributegroups"

        async def call() -> object:
            async with short_client() as client:
                return await http_layer.get_json_with_retry(
                    client, url, headers={"Authorization": f"Bearer {access_token}"}
                )

        try:
            payload = asyncio.run(call())
        except ClmWizardError as error:
            sys.stderr.write(error.render() + "\n")
            return error.exit_code
        assert isinstance(payload, dict)
        print(f"✓ The call returned {len(payload['Items'])} attribute groups.")
        return 0
