"""The command line itself: help, version, and what `--help` must not import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clmwizard import __version__, cli, help_text, launch
from clmwizard.cli import main

COMMANDS = (
    "emulator",
    "login",
    "fields",
    "export",
    "credentials",
    "refresh",
    "rotate",
    "profiles",
    "doctor",
)


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert f"    {command} " in out, command
    assert "--demo" in out and "CLMWIZARD_SECRET_KEY" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"clmwizard {__version__}"


@pytest.mark.parametrize("argv", [["--help"], *([name, "--help"] for name in cli.COMMANDS)])
def test_help_imports_neither_textual_nor_httpx(argv: list[str]) -> None:
    """Through argparse, as at a terminal of another width than the generated help's."""
    probe = (
        "import sys\n"
        "from clmwizard.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'textual', 'httpx', 'rich', 'yaml', 'keyring', 'jwt', 'cryptography'}\n"
        "print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stdout, result.stdout[-500:]


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clmwizard", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"clmwizard {__version__}"


def test_unknown_profile_name_is_refused_before_the_wizard_opens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--profile", "../etc"]) == 2
    err = capsys.readouterr().err
    assert "✗" in err and "Traceback" not in err


def test_the_fast_help_is_the_parsers_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """`clmwizard [COMMAND] --help` answers from a generated text; it must equal argparse's own,
    for the top level and every command."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "generate_help.py"
    spec = importlib.util.spec_from_file_location("generate_help", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("COLUMNS", "80")
    expected = module.render()
    actual = (Path(__file__).resolve().parents[1] / "src/clmwizard/help_text.py").read_text()
    assert actual == expected, "run: .venv/bin/python scripts/generate_help.py"
    assert set(help_text.COMMAND_HELP) == set(cli.COMMANDS)


@pytest.mark.parametrize("command", [None, *cli.COMMANDS])
def test_the_fast_answer_is_what_argparse_prints(
    command: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(help_text.WIDTH))
    for flag in ("--help", "-h"):
        argv = [command, flag] if command else [flag]
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        assert launch.fast_answer(argv) == capsys.readouterr().out


def test_a_narrower_terminal_gets_argparses_wrapping(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse wraps to COLUMNS (or the terminal's width): below 80 the text would overflow."""
    monkeypatch.setenv("COLUMNS", "60")
    assert launch.fast_answer(["--help"]) is None
    assert launch.fast_answer(["login", "--help"]) is None
    with pytest.raises(SystemExit):
        main(["login", "--help"])
    out = capsys.readouterr().out
    assert out != help_text.COMMAND_HELP["login"]
    assert max(len(line) for line in out.splitlines()) <= 60


def test_a_wider_terminal_gets_the_80_column_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    assert launch.fast_answer(["--help"]) == help_text.TOP_LEVEL_HELP
    assert launch.fast_answer(["login", "-h"]) == help_text.COMMAND_HELP["login"]


def test_the_width_is_found_as_argparse_finds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    for columns in ("100", "0", "x", None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert launch.terminal_columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("argv", [["--debug", "--help"], ["login", "--profile", "x", "-h"], []])
def test_other_arguments_go_to_argparse(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(help_text.WIDTH))
    assert launch.fast_answer(argv) is None


@pytest.mark.parametrize(
    "argv", [["--help"], ["-h"], ["--version"], ["login", "--help"], ["doctor", "-h"]]
)
def test_console_script_fast_path(argv: list[str]) -> None:
    probe = (
        "import sys\n"
        f"sys.argv = ['clmwizard', *{argv!r}]\n"
        "from clmwizard.launch import main\n"
        "code = main()\n"
        "print('ARGPARSE', 'argparse' in sys.modules, code)\n"
        "print('COMMAND MODULES', sorted(m for m in sys.modules if '.commands' in m))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": str(help_text.WIDTH)},
    )
    assert "ARGPARSE False 0" in result.stdout
    assert "COMMAND MODULES []" in result.stdout
    assert ("usage: clmwizard" in result.stdout) or (__version__ in result.stdout)


def test_every_environment_variable_read_is_documented() -> None:
    """A name read from os.environ anywhere in the program appears in --help and the README."""
    import re
    from pathlib import Path

    from clmwizard.help_text import TOP_LEVEL_HELP

    root = Path(__file__).resolve().parents[1]
    source = "\n".join(p.read_text() for p in (root / "src/clmwizard").rglob("*.py"))
    read = set(re.findall(r"environ(?:\.get|\.pop)?\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
    read |= set(re.findall(r"environ\[\"([A-Z][A-Z0-9_]+)\"\]", source))
    read |= set(re.findall(r"_ENV = \"([A-Z][A-Z0-9_]+)\"", source))
    assert {"CLMWIZARD_CLIPBOARD", "CLMWIZARD_DEBUG", "CLMWIZARD_CONFIG_DIR"} <= read
    readme = (root / "README.md").read_text()
    assert sorted(name for name in read if name not in TOP_LEVEL_HELP) == []
    assert sorted(name for name in read if f"`{name}`" not in readme) == []
    assert "test only" in TOP_LEVEL_HELP and "**test only**" in readme


@pytest.mark.parametrize("command", ["connect", "heartbeat", "rotate"])
def test_waits_ask_the_power_platform_every_two_seconds_unless_main_is_told(command: str) -> None:
    """The product's pace is 2 s; only a caller of `cli.main` (the tests) asks faster."""
    import importlib

    from clmwizard.commands.common import CommandOptions

    module = importlib.import_module(f"clmwizard.commands.{command}")
    options_type = getattr(module, f"{command.capitalize()}Options")
    assert issubclass(options_type, CommandOptions)
    args = cli.parse_args([command, "--profile", "acme"])
    assert options_type.from_args(args).poll_seconds == 2.0
    args.poll_seconds = 0.1  # what main(poll_seconds=0.1) sets
    assert options_type.from_args(args).poll_seconds == 0.1


def test_the_wizard_asks_the_power_platform_every_two_seconds_by_default() -> None:
    from clmwizard.context import WizardContext
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore

    assert WizardContext(profiles=ProfileStore(), open_secrets=MemorySecretStore).poll_seconds == 2
