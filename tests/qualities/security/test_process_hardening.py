"""Secrets leave the process in no side channel: Textual's own log (TEXTUAL_LOG) never records
what is typed or pasted into a secret field, core dumps are off, and a child the CLI starts
never inherits a CLMWIZARD_SECRET* variable."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[3]


def test_textual_log_never_records_a_typed_or_pasted_secret(tmp_path: Path) -> None:
    secret = "sk-" + secrets.token_hex(12)
    log = tmp_path / "textual.log"
    done = subprocess.run(
        [sys.executable, "-m", "tests.qualities.security.textual_log_typer", secret],
        cwd=REPO,
        env={**os.environ, "TEXTUAL_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    text = log.read_text(encoding="utf-8")
    assert "SecretInput" in text and "Key(" in text  # the log was written, events and all
    assert secret not in text
    # Not even a character at a time: no Key event with a character of the secret's tail.
    assert "character='" not in text.split("SecretInput", 1)[1]


CORE_PROBE = """
import ctypes, resource, sys
from clmwizard.cli import main
code = main(["profiles", "list"])
libc = ctypes.CDLL(None)
print(resource.getrlimit(resource.RLIMIT_CORE), libc.prctl(3, 0, 0, 0, 0), code)
"""


def test_core_dumps_are_off_for_the_cli_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CORE_PROBE],
        cwd=REPO,
        env={**os.environ, "CLMWIZARD_CONFIG_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    limit, dumpable, code = done.stdout.strip().splitlines()[-1].rsplit(" ", 2)
    assert limit == "(0, 0)"  # no core file, and the limit cannot be raised again
    assert dumpable == "0"  # PR_GET_DUMPABLE: not dumpable, not ptrace-able by the user
    assert code == "0"


CHILD_PROBE = """
import os, subprocess, sys
from clmwizard.cli import main
main(["profiles", "list"])
print("in-env", [k for k in os.environ if k.startswith("CLMWIZARD_SECRET")])
child = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.environ))"],
                       capture_output=True, text=True)
print("child", child.stdout.strip())
"""


def test_the_secret_key_variable_leaves_the_environment_for_the_whole_process(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD_PROBE],
        cwd=REPO,
        env={
            **os.environ,
            "CLMWIZARD_CONFIG_DIR": str(tmp_path),
            "CLMWIZARD_SECRET_KEY": "sk-env-secret",
            "CLMWIZARD_SECRET_OTHER": "sk-other",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "in-env []" in done.stdout
    child = done.stdout.split("child", 1)[1]
    assert "CLMWIZARD_SECRET" not in child and "sk-env-secret" not in done.stdout
