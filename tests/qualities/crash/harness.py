"""Running clmwizard in a child process against the real Secret Service and killing it (-9) at a
chosen durable step; see tests/qualities/crash/child.py for how the steps are counted."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clmwizard.cli import main
from clmwizard.docusign.oauth import TokenSet
from clmwizard.docusign.session import store_login
from clmwizard.emulator import Emulator
from clmwizard.emulator.state import Grant
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import SecretStore
from tests.support.login import login_argv as shared_login_argv

REPO = Path(__file__).parents[3]
BROWSER = f"{sys.executable} -m clmwizard.emulator.browser %s"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


@dataclass
class Outcome:
    steps: list[str]  # the steps done before the kill (or all of them)
    killed_at: str | None  # the step it was killed before, None when it ran to the end
    returncode: int
    stderr: str


class Child:
    """`python -m tests.qualities.crash.child ARGS` with the test's config folder and emulator."""

    def __init__(self, workdir: Path, roots: list[Path]) -> None:
        self.workdir = workdir
        self.roots = roots
        self.runs = 0

    def run(
        self,
        argv: list[str],
        *,
        kill_at: int = -1,
        stdin: str = "",
        secret: str | None = None,
        send: signal.Signals = signal.SIGKILL,
    ) -> Outcome:
        """Run to the end, or stop before step `kill_at` and `send` a signal there: SIGKILL
        kills it; any other signal is delivered and the child goes on from that step."""
        self.runs += 1
        steps_file = self.workdir / f"steps-{self.runs}.log"
        env = {
            **os.environ,
            "CRASH_STEPS": str(steps_file),
            "CRASH_AT": str(kill_at),
            "CRASH_ROOTS": os.pathsep.join(str(root) for root in self.roots),
            "PYTHON_KEYRING_BACKEND": SECRET_SERVICE,
            "BROWSER": BROWSER,
        }
        env.pop("CLMWIZARD_SECRET_KEY", None)
        if secret is not None:
            env["CLMWIZARD_SECRET_KEY"] = secret
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.qualities.crash.child", *argv],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
        process.stdin = None  # communicate() below must not touch it again
        killed_at = None
        deadline = time.monotonic() + 30
        while kill_at >= 0 and process.poll() is None and time.monotonic() < deadline:
            text = steps_file.read_text() if steps_file.exists() else ""
            paused = [line for line in text.splitlines() if line.startswith("PAUSED ")]
            if paused:
                killed_at = paused[0].split(" ", 2)[2]
                os.kill(process.pid, send)
                if send != signal.SIGKILL:
                    time.sleep(0.05)  # the handler runs in the child's main thread
                    Path(f"{steps_file}.go").touch()
                break
            time.sleep(0.01)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        lines = steps_file.read_text().splitlines() if steps_file.exists() else []
        steps = [line.split(" ", 1)[1] for line in lines if not line.startswith("PAUSED ")]
        if killed_at is not None and send == signal.SIGKILL:
            assert process.returncode == -signal.SIGKILL
        return Outcome(steps, killed_at, process.returncode, stderr)


def login_argv(emu: Emulator, name: str) -> list[str]:
    return shared_login_argv(emu, profile=name, timeout=15)


def sign_in_here(emu: Emulator, name: str, secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sign-in in this process (the state a crash test starts from)."""
    monkeypatch.setenv("BROWSER", BROWSER)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", secret)
    try:
        assert main(login_argv(emu, name)) == 0
    finally:
        monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)


def new_grant(emu: Emulator) -> TokenSet:
    """The tokens of a new consent (a new grant of the emulator's last consented user), issued
    by the emulator directly: what a sign-in's consent hands to storage."""
    with emu.state.lock:
        last = emu.state.grants[-1]
        grant = Grant(last.client_id, last.user_id, last.scopes, last.first_refresh_expiry)
        emu.state.grants.append(grant)
        access, refresh = emu.state.issue_tokens(grant, last.first_refresh_expiry)
    return TokenSet(access, refresh, 28800, datetime.now(UTC))


def sign_in_again(emu: Emulator, name: str, secret: str, secrets: SecretStore) -> None:
    """What a new sign-in of signed-in profile `name` with `secret` leaves behind: a new grant's
    tokens stored by the sign-in's own storage step (`store_login`). The consent itself (a
    browser child, the loopback listener) was done by the test's first `sign_in_here` and is not
    what a crash test is about."""
    tokens = new_grant(emu)
    profiles = ProfileStore()
    profile = dataclasses.replace(profiles.load(name), consented_at=tokens.obtained_at)
    store_login(profiles, secrets, profile, secret, tokens)
