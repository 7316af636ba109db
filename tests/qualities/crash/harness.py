"""Running clmwizard in child processes against the real Secret Service: `start`/`finish` (plain
`python -m clmwizard`, for races), and `Child`, stopped, killed (-9) or signalled at a chosen
durable step (see tests/qualities/crash/child.py for how the steps are counted; `crash_env` is
its environment); the sign-ins a crash test starts from, and `Scene` (the `scene` fixture)."""

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
from subprocess import Popen

import pytest

from clmwizard.cli import main
from clmwizard.docusign.oauth import TokenSet
from clmwizard.docusign.session import store_login
from clmwizard.emulator import Emulator
from clmwizard.emulator.state import Grant
from clmwizard.store.profile import Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import KeyringSecretStore, SecretStore
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


def crash_env(steps_file: Path, kill_at: int, roots: list[Path]) -> dict[str, str]:
    """The environment of `python -m tests.qualities.crash.child`: steps logged to `steps_file`,
    a pause before step `kill_at` (-1: none), the writes under `roots` counted, the real Secret
    Service, the emulator's browser, and no secret key but the one a test hands over."""
    env = {
        **os.environ,
        "CRASH_STEPS": str(steps_file),
        "CRASH_AT": str(kill_at),
        "CRASH_ROOTS": os.pathsep.join(str(root) for root in roots),
        "PYTHON_KEYRING_BACKEND": SECRET_SERVICE,
        "BROWSER": BROWSER,
    }
    env.pop("CLMWIZARD_SECRET_KEY", None)
    return env


def spawn(module: str, argv: list[str], env: dict[str, str], stdin: str = "") -> Popen[str]:
    """`python -m MODULE ARGV` in the repository, `stdin` written and closed, the output piped."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *argv],
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
    process.stdin = None  # communicate() must not touch it again
    return process


def start(argv: list[str], stdin: str = "") -> Popen[str]:
    """`python -m clmwizard ARGV` against the real Secret Service, not waited for."""
    return spawn("clmwizard", argv, {**os.environ, "PYTHON_KEYRING_BACKEND": SECRET_SERVICE}, stdin)


def finish(process: Popen[str]) -> tuple[int, str]:
    """The exit code and stderr of a `start`ed process."""
    _, stderr = process.communicate(timeout=90)
    return process.returncode, stderr


class Child:
    """`python -m tests.qualities.crash.child ARGS` with the test's config folder and emulator."""

    def __init__(self, workdir: Path, roots: list[Path]) -> None:
        self.workdir = workdir
        self.roots = roots
        self.runs = 0
        self.steps_file = workdir / "steps-0.log"

    def start(
        self, argv: list[str], *, kill_at: int = -1, stdin: str = "", secret: str | None = None
    ) -> Popen[str]:
        """The child, not waited for: it stops before step `kill_at` until `go()`."""
        self.runs += 1
        self.steps_file = self.workdir / f"steps-{self.runs}.log"
        env = crash_env(self.steps_file, kill_at, self.roots)
        if secret is not None:
            env["CLMWIZARD_SECRET_KEY"] = secret
        return spawn("tests.qualities.crash.child", argv, env, stdin)

    def paused_at(self) -> str | None:
        """The step the last child started is stopped before, if it is."""
        text = self.steps_file.read_text() if self.steps_file.exists() else ""
        paused = [line for line in text.splitlines() if line.startswith("PAUSED ")]
        return paused[0].split(" ", 2)[2] if paused else None

    def go(self) -> None:
        """Let the last child started go on from the step it is stopped before."""
        Path(f"{self.steps_file}.go").touch()

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
        process = self.start(argv, kill_at=kill_at, stdin=stdin, secret=secret)
        killed_at = None
        deadline = time.monotonic() + 30
        while kill_at >= 0 and process.poll() is None and time.monotonic() < deadline:
            killed_at = self.paused_at()
            if killed_at is not None:
                os.kill(process.pid, send)
                if send != signal.SIGKILL:
                    time.sleep(0.05)  # the handler runs in the child's main thread
                    self.go()
                break
            time.sleep(0.01)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        lines = self.steps_file.read_text().splitlines() if self.steps_file.exists() else []
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


def new_consent(emu: Emulator, name: str) -> tuple[Profile, TokenSet]:
    """What a new sign-in of signed-in profile `name` hands to storage: the stored profile with
    its new consent time, and a new grant's tokens. The consent itself (a browser child, the
    loopback listener) was done by the test's first `sign_in_here` and is not what a crash test
    is about."""
    tokens = new_grant(emu)
    profile = dataclasses.replace(ProfileStore().load(name), consented_at=tokens.obtained_at)
    return profile, tokens


def sign_in_again(emu: Emulator, name: str, secret: str, secrets: SecretStore) -> None:
    """What a new sign-in of signed-in profile `name` with `secret` leaves behind: a new
    consent's tokens stored by the sign-in's own storage step (`store_login`)."""
    profile, tokens = new_consent(emu, name)
    store_login(ProfileStore(), secrets, profile, secret, tokens)


@dataclass
class Scene:
    """What a crash test works on: the emulator, the test's own profile `name` (cleaned up
    after) with its secrets in the real Secret Service (`store`), and this process's CLI."""

    emu: Emulator
    name: str
    store: KeyringSecretStore
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def sign_in(self, secret: str | None = None) -> None:
        """Sign in here with `secret` (the emulator's secret key by default)."""
        sign_in_here(self.emu, self.name, secret or self.emu.secret_key, self.monkeypatch)

    def sign_in_again(self, secret: str | None = None) -> None:
        sign_in_again(self.emu, self.name, secret or self.emu.secret_key, self.store)

    def refresh(self) -> int:
        """`clmwizard refresh` of the profile, here (`err()` has what it said)."""
        return main(["refresh", "--profile", self.name])

    def err(self) -> str:
        """What the CLI here wrote to stderr since the last call (and forget its stdout)."""
        return self.capsys.readouterr().err
