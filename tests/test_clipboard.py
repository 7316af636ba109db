"""The real X clipboard through xclip (Xvfb in CI) and the detached clear helper."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clmwizard import clipboard
from clmwizard.errors import ClmWizardError

pytestmark = pytest.mark.display


def _wait_until(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_xclip_round_trip() -> None:
    assert os.environ.get("DISPLAY"), "run under xvfb-run (scripts/test does)"
    assert clipboard.clipboard_mechanism() == "xclip"
    clipboard.copy_text("https://apiuatna11.springcm.com — ünïcode")
    assert clipboard.paste_text() == "https://apiuatna11.springcm.com — ünïcode"
    # Another program sees it too.
    seen = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"], capture_output=True, check=True, timeout=5
    )
    assert seen.stdout.decode("utf-8") == "https://apiuatna11.springcm.com — ünïcode"


def test_clear_if_unchanged_clears_our_value() -> None:
    clipboard.copy_text("sk-copied-secret-1")
    assert clipboard.clear_if_unchanged("sk-copied-secret-1") is True
    assert clipboard.paste_text() == ""


def test_clear_if_unchanged_keeps_what_the_user_copied_since() -> None:
    clipboard.copy_text("sk-copied-secret-2")
    clipboard.copy_text("something the user copied later")
    assert clipboard.clear_if_unchanged("sk-copied-secret-2") is False
    assert clipboard.paste_text() == "something the user copied later"


def test_clear_command_carries_neither_the_value_nor_its_hash() -> None:
    command = clipboard.clear_command(30)
    assert command == [sys.executable, "-m", "clmwizard.clipboard", "--after", "30"]


def test_background_clear_clears_and_never_sees_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-background-secret-4"
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", secret)
    monkeypatch.setenv("CLMWIZARD_SECRET_OTHER", "sk-other")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "ms-secret")
    monkeypatch.setenv("SOME_OTHER_VAR", f"prefix {secret}")
    clipboard.copy_text(secret)

    pid = clipboard.schedule_clear_in_background(secret, after=0.6)

    proc = Path(f"/proc/{pid}")
    assert _wait_until(lambda: b"clmwizard.clipboard" in (proc / "cmdline").read_bytes())
    argv = (proc / "cmdline").read_bytes()
    environment = (proc / "environ").read_bytes()
    assert secret.encode() not in argv
    # What `ps` shows every local user: no hash either (it would confirm a guessed secret).
    assert hashlib.sha256(secret.encode()).hexdigest().encode() not in argv
    assert secret.encode() not in environment
    assert b"sk-other" not in environment and b"ms-secret" not in environment
    assert b"DISPLAY=" in environment
    assert os.getsid(pid) == pid  # its own session: survives the CLI exiting
    assert clipboard.paste_text() == secret  # not cleared before the delay
    assert _wait_until(lambda: clipboard.paste_text() == "")


COPIER = """
import sys, time
from clmwizard.clipboard import copy_text, schedule_clear_in_background
copy_text(sys.argv[1])
schedule_clear_in_background(sys.argv[1], after=float(sys.argv[2]))
print("copied", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("how", ["SIGKILL", "SIGHUP"])
def test_a_copied_secret_is_cleared_even_when_the_copier_dies(how: str) -> None:
    import signal

    secret = f"sk-copier-dies-{how}"
    copier = subprocess.Popen(
        [sys.executable, "-c", COPIER, secret, "1.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert copier.stdout is not None
    assert copier.stdout.readline().strip() == "copied"
    # The copier alone: xclip's selection server lives on, still serving the secret.
    os.kill(copier.pid, getattr(signal, how))
    copier.wait(10)
    assert clipboard.paste_text() == secret
    assert _wait_until(lambda: clipboard.paste_text() == "", timeout=10)


def test_a_copy_with_stdout_piped_does_not_wait_for_the_selection_server() -> None:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "from clmwizard.clipboard import copy_text; copy_text('piped')"],
        capture_output=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 10  # xclip's server no longer holds our stdout open
    assert clipboard.paste_text() == "piped"


def test_background_clear_leaves_a_newer_copy_alone() -> None:
    clipboard.copy_text("sk-background-secret-5")
    pid = clipboard.schedule_clear_in_background("sk-background-secret-5", after=0.3)
    clipboard.copy_text("the user's own text")
    assert _wait_until(lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid))
    assert clipboard.paste_text() == "the user's own text"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_helper_exit_codes() -> None:
    clipboard.copy_text("value-for-helper")
    digest = hashlib.sha256(b"value-for-helper").hexdigest()
    other = hashlib.sha256(b"something else").hexdigest()
    assert clipboard._main(["--after", "0"], io.StringIO(other + "\n")) == 1
    assert clipboard.paste_text() == "value-for-helper"
    assert clipboard._main(["--after", "0"], io.StringIO("not a hash\n")) == 2
    assert clipboard.paste_text() == "value-for-helper"
    assert clipboard._main(["--after", "0"], io.StringIO(digest + "\n")) == 0
    assert clipboard.paste_text() == ""


def test_no_mechanism_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert clipboard.clipboard_mechanism() is None
    assert clipboard.paste_text() is None
    with pytest.raises(ClmWizardError) as caught:
        clipboard.copy_text("anything")
    error = caught.value
    assert error.what == "No clipboard is available here."
    assert error.cause == (
        "No clipboard program was found for this session "
        "(neither DISPLAY nor WAYLAND_DISPLAY is set, as over SSH)."
    )
    assert "install xclip or xsel" in error.fix.lower()
    assert "wl-clipboard" in error.fix
