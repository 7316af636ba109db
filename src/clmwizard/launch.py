"""The console entry point: answers `--version`, `--help` and `COMMAND --help` without importing
argparse or the command's module.

Everything else goes to `clmwizard.cli.main`, and `leave` ends the process. The help texts are
generated from the real parsers (`scripts/generate_help.py`) and a test keeps them identical, so
this fast path cannot drift.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: `--help` must not pay for importing typing (~8 ms)
if TYPE_CHECKING:
    from typing import NoReturn


def main() -> int:
    argv = sys.argv[1:]
    try:
        answer = fast_answer(argv)
        if answer is not None:
            sys.stdout.write(answer)
            sys.stdout.flush()
            return 0
    except BrokenPipeError:
        from clmwizard.pipes import reader_gone

        return reader_gone()
    from clmwizard.cli import main as cli_main

    leave(cli_main(argv))


def leave(code: int) -> NoReturn:
    """End the process with `code` as interpreter shutdown would, but without its last part.

    Shutdown first waits for the threads that are not daemons (as here); then it finalizes,
    stopping daemon threads by unwinding their C stacks. Our keyring calls run in daemon threads
    (store/secrets.py), often inside `cryptography`'s Rust code (secretstorage decrypts the
    answer), and that code cannot take the unwinding: the process aborted ("FATAL: exception not
    rethrown", SIGABRT) instead of exiting with `code` — with the thread still running, and with
    it just finished but not yet gone. Nothing of ours needs finalization: files are written
    and closed where they are written, and no atexit handler is ours.
    """
    import contextlib
    import threading

    stop_other_threads = getattr(threading, "_shutdown", None)  # what shutdown does first
    if stop_other_threads is not None:
        stop_other_threads()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, a closed stream
            stream.flush()
    os._exit(code)


def fast_answer(argv: list[str]) -> str | None:
    """What argparse prints for these arguments at the help's width, or None: argparse answers.

    argparse wraps help to the terminal's width. A terminal as wide or wider gets the text laid
    out at WIDTH (as `clmwizard --help` always was); a narrower one, argparse's own wrapping."""
    if argv == ["--version"]:
        from clmwizard import __version__

        return f"clmwizard {__version__}\n"
    if not 1 <= len(argv) <= 2 or argv[-1] not in ("--help", "-h"):
        return None
    from clmwizard import help_text

    if terminal_columns() < help_text.WIDTH or sys.version_info[:2] != help_text.PYTHON:
        return None
    if len(argv) == 1:
        return help_text.TOP_LEVEL_HELP
    return help_text.COMMAND_HELP.get(argv[0])


def terminal_columns() -> int:
    """The width argparse wraps help to: shutil.get_terminal_size's columns (its fallback 80),
    found the same way without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, closed, or not a terminal
        return 80
