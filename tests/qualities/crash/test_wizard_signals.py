"""The wizard (Textual owns the terminal) stops on SIGTERM and SIGHUP like the CLI: a durable
write under way is finished first, so a signal during a start-screen refresh leaves a stored,
working grant. The real wizard runs in a pty, against the emulator in theft mode (a reused
refresh token revokes the grant) and the real Secret Service, paused before the keyring write
that stores DocuSign's new refresh token and signalled there."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.qualities.crash.harness import REPO, Scene, crash_env
from tests.support.terminal import PtyProcess

pytestmark = [pytest.mark.secret_service, pytest.mark.timeout(300)]


class PtyWizard(PtyProcess):
    """`python -m tests.qualities.crash.child --profile NAME` (the wizard) in a pseudo-terminal."""

    def __init__(self, workdir: Path, roots: list[Path], name: str, run: int, at: int) -> None:
        self.steps = workdir / f"wizard-steps-{run}.log"
        argv = [sys.executable, "-m", "tests.qualities.crash.child", "--profile", name]
        super().__init__(argv, env=crash_env(self.steps, at, roots), cwd=REPO)

    def step_lines(self) -> list[str]:
        return self.steps.read_text().splitlines() if self.steps.exists() else []


def refresh_steps(wizard: PtyWizard) -> None:
    """Wait for the start screen, then press f (refresh)."""
    # "rotate secret" is in the footer once a saved profile is highlighted (f is not shown)
    wizard.wait_for(lambda: wizard.screen_has("rotate secret"), "start screen")
    time.sleep(0.5)  # the profile list loads in a worker
    wizard.press("f")


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_during_a_wizard_refresh_keeps_the_grant(
    theft_scene: Scene, tmp_path: Path, config_dir: Path, sent: signal.Signals
) -> None:
    scene, emu, name = theft_scene, theft_scene.emu, theft_scene.name
    scene.sign_in()

    # A full refresh first, to learn which step stores the new refresh token.
    full = PtyWizard(tmp_path, [config_dir], name, 1, -1)
    refresh_steps(full)
    full.wait_for(lambda: any("replace" in line for line in full.step_lines()), "profile write")
    full.wait_for(lambda: full.screen_has("refreshed"), "refreshed message")
    full.press("\x11")  # ctrl+q
    assert full.finish() == 0
    steps = [line.split(" ", 1)[1] for line in full.step_lines()]
    at = steps.index("keyring set refresh_token")

    wizard = PtyWizard(tmp_path, [config_dir], name, 2, at)
    refresh_steps(wizard)
    wizard.wait_for(
        lambda: any(line.startswith("PAUSED ") for line in wizard.step_lines()), "pause"
    )
    os.kill(wizard.process.pid, sent)
    time.sleep(0.3)  # the signal arrives while the write is still held
    assert wizard.process.poll() is None, "the wizard died in the middle of the write"
    Path(f"{wizard.steps}.go").touch()
    code = wizard.finish()
    assert code == 128 + sent, wizard.text()[-1500:]
    written = [line for line in wizard.step_lines() if not line.startswith("PAUSED")]
    assert f"{at} keyring set refresh_token" in written
    # The stored refresh token is the one DocuSign issued last: in theft mode any other
    # would revoke the grant.
    assert scene.refresh() == 0
    assert not any(grant.revoked for grant in emu.state.grants)
