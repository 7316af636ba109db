"""`clmwizard <command> | head -1`: a reader that goes away ends every command quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clmwizard.cli import COMMANDS
from clmwizard.emulator import Emulator
from clmwizard.pipes import EXIT_READER_GONE

QUIET = (0, EXIT_READER_GONE)


def run(argv: list[str], tmp_path: Path, *, head: bool, env: dict[str, str]) -> tuple[int, str]:
    """The command in a child; with `head`, its stdout is a pipe whose reader went away."""
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "clmwizard", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if head else subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        if head:  # closed before the child can write (it takes longer to start): every
            assert child.stdout is not None  # write meets the closed pipe, as after `head -1`
            child.stdout.close()
        code = child.wait(timeout=60)
    return code, errors.read_text(encoding="utf-8", errors="replace")


def test_every_command_ends_quietly_when_its_reader_goes_away(
    emu: Emulator,
    signed_in: Callable[..., None],
    login_args: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    signed_in()
    env = {
        **os.environ,
        "CLMWIZARD_SECRET_KEY": emu.secret_key,  # for login only; never in argv
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "CLMWIZARD_MS_CLIENT_SECRET": "",
    }
    runs: list[list[str]] = [["--help"], ["--version"]]
    runs += [[command, "--help"] for command in COMMANDS]
    runs += [
        ["emulator"],
        login_args("--no-browser", "--ephemeral", profile="other"),
        ["fields", "--profile", "acme"],
        ["fields", "--profile", "acme", "--format", "json"],
        ["export", "--profile", "acme", "--out", str(tmp_path / "bundle")],
        ["credentials", "--profile", "acme"],
        ["refresh", "--profile", "acme"],
        ["jwt", "--profile", "acme"],
        ["rotate", "--profile", "acme", "--secret-key-stdin"],
        ["publish", "--profile", "acme", "--service-principal", "--dry-run"],
        ["profiles", "list"],
        ["profiles", "show", "acme"],
        ["doctor"],
        ["doctor", "--profile", "acme"],
    ]
    assert {argv[0] for argv in runs} >= set(COMMANDS)
    for argv in runs:
        code, err = run(argv, tmp_path, head=True, env=env)
        for bad in ("Traceback", "This is a bug", "Exception ignored", "BrokenPipe"):
            assert bad not in err, (argv, err)
        if code not in QUIET:  # the command's own answer (no keyring here), pipe or not
            alone, _ = run(argv, tmp_path, head=False, env=env)
            assert code == alone, (argv, code, err)


@pytest.mark.parametrize("argv", [["--help"], ["profiles", "--help"]])
def test_a_closed_pipe_is_exit_141_or_0(argv: list[str], tmp_path: Path) -> None:
    code, err = run(argv, tmp_path, head=True, env=dict(os.environ))
    assert code in QUIET and err == ""


def test_the_emulator_stops_when_the_reader_of_its_json_line_goes_away(tmp_path: Path) -> None:
    """`clmwizard emulator | head -1` does not leave an emulator running for nobody."""
    child = subprocess.Popen(
        [sys.executable, "-m", "clmwizard", "emulator"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith(b'{"auth_server"')
        child.stdout.close()
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
