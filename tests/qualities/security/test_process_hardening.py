"""Secrets leave the process in no side channel: Textual's own log (TEXTUAL_LOG) never records
what is typed or pasted into a secret field, core dumps are off, and a child the CLI starts
never inherits a secret variable (CLMWIZARD_*SECRET*, AZURE_CLIENT_SECRET, …)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from clmwizard.secret_env import MICROSOFT_SECRETS

REPO = Path(__file__).parents[3]


def python(args: list[str], timeout: float, **env: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` from the repository with `env` added to this environment; it must exit 0."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_textual_log_never_records_a_typed_or_pasted_secret(tmp_path: Path) -> None:
    secret = "sk-" + secrets.token_hex(12)
    log = tmp_path / "textual.log"
    python(["-m", "tests.qualities.security.textual_log_typer", secret], 120, TEXTUAL_LOG=str(log))
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
    done = python(["-c", CORE_PROBE], 60, CLMWIZARD_CONFIG_DIR=str(tmp_path))
    limit, dumpable, code = done.stdout.strip().splitlines()[-1].rsplit(" ", 2)
    assert limit == "(0, 0)"  # no core file, and the limit cannot be raised again
    assert dumpable == "0"  # PR_GET_DUMPABLE: not dumpable, not ptrace-able by the user
    assert code == "0"


CHILD_PROBE = """
import os, subprocess, sys
from clmwizard.cli import main
from clmwizard.secret_env import is_secret_variable
main(["profiles", "list"])
print("in-env", [k for k in os.environ if is_secret_variable(k)])
child = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.environ))"],
                       capture_output=True, text=True)
print("child", child.stdout.strip())
"""


def test_the_secret_key_variable_leaves_the_environment_for_the_whole_process(
    tmp_path: Path,
) -> None:
    done = python(
        ["-c", CHILD_PROBE],
        60,
        CLMWIZARD_CONFIG_DIR=str(tmp_path),
        CLMWIZARD_SECRET_KEY="sk-env-secret",
        CLMWIZARD_SECRET_OTHER="sk-other",
    )
    assert "in-env []" in done.stdout
    child = done.stdout.split("child", 1)[1]
    assert "CLMWIZARD_SECRET" not in child and "sk-env-secret" not in done.stdout


SECRET_VARIABLES = [
    "CLMWIZARD_SECRET_KEY",
    "CLMWIZARD_MS_CLIENT_SECRET",
    "CLMWIZARD_SECRET_OTHER",
    "CLMWIZARD_FUTURE_SECRET_TOKEN",  # any CLMWIZARD_*SECRET*
    *sorted(MICROSOFT_SECRETS),
]


@pytest.mark.parametrize("name", SECRET_VARIABLES)
def test_every_secret_variable_leaves_the_environment_before_any_child_starts(
    tmp_path: Path, name: str
) -> None:
    """A child (the browser, xclip, the clipboard clearer) inherits os.environ: after the CLI
    started, neither this process's environment nor a child's holds the variable or its value."""
    value = f"value-of-{name.lower()}-0123456789"
    done = python(["-c", CHILD_PROBE], 60, CLMWIZARD_CONFIG_DIR=str(tmp_path), **{name: value})
    assert "in-env []" in done.stdout
    assert name not in done.stdout and value not in done.stdout


def test_a_taken_secret_is_still_read_by_the_code_that_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from clmwizard.commands.publish import read_ms_client_secret
    from clmwizard.secret_env import take_from_environment

    monkeypatch.setenv("CLMWIZARD_MS_CLIENT_SECRET", "sp-secret-from-the-environment")
    take_from_environment()
    assert "CLMWIZARD_MS_CLIENT_SECRET" not in os.environ
    assert read_ms_client_secret() == "sp-secret-from-the-environment"
