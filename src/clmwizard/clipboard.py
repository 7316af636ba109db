"""The system clipboard through pyperclip, and clearing a copied secret after a while.

Blocking: callers with a UI run these in worker threads. OSC 52 (the terminal's own clipboard)
is sent by the TUI; whether the terminal probably honours it is `osc52_trusted`, here.

`python -m clmwizard.clipboard --after S` is the detached helper that
`schedule_clear_in_background` starts at copy time: in its own session (a closed terminal's
SIGHUP does not reach it, and the copier may die any way it likes), it reads the secret's SHA-256
from a pipe on stdin (never argv or the environment, which other local users can read) and
never sees the secret itself.

The X and Wayland copy programs (xclip, xsel, wl-copy) fork a child that serves the selection
until something else is copied: it is started here with stdout and stderr on /dev/null, so a
`clmwizard … --copy … | cat` does not wait for it, and without secret environment variables.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import pyperclip

from clmwizard.errors import ClmWizardError

CALL_TIMEOUT = 5.0
SETTLE_TIMEOUT = 1.0
# Environment variables that may hold a secret: never handed to the helper process.
_SECRET_ENV = ("CLMWIZARD_SECRET_KEY",)

_MECHANISMS = {
    "copy_xclip": "xclip",
    "copy_xsel": "xsel",
    "copy_wl": "wl-copy",
    "copy_klipper": "klipper",
    "copy_qt": "qt",
    "copy_osx_pbcopy": "pbcopy",
    "copy_osx_pyobjc": "pyobjc",
    "copy_windows": "windows",
    "copy_wsl": "wsl (clip.exe)",
    "copy_dev_clipboard": "/dev/clipboard",
}

NO_CLIPBOARD_FIX = (
    "Install xclip or xsel (X11) or wl-clipboard (Wayland), e.g. `sudo apt install xclip`; "
    "over SSH without a display, select the value with the mouse instead."
)


def _no_clipboard(detail: str = "") -> ClmWizardError:
    cause = "No clipboard program was found for this session"
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        cause += " (neither DISPLAY nor WAYLAND_DISPLAY is set, as over SSH)"
    return ClmWizardError(
        "No clipboard is available here.",
        cause=cause + (f": {detail}" if detail else "."),
        fix=NO_CLIPBOARD_FIX,
        code="no_clipboard",
    )


def _functions() -> tuple[Callable[[str], None], Callable[[], str]] | None:
    """pyperclip's copy and paste for this environment now, or None when it has none."""
    copy, paste = pyperclip.determine_clipboard()
    try:
        if not copy:  # pyperclip's "no clipboard" stand-in is falsy and raises when called
            copy("")
    except pyperclip.PyperclipException:
        return None
    return copy, paste


def missing_reason() -> tuple[str, str]:
    """Why no clipboard program works here: (what is missing, what to do), in plain words.

    Without a display (neither DISPLAY nor WAYLAND_DISPLAY) no clipboard program can work, even
    when one is installed; with a display, none of xclip, xsel or wl-copy is installed.
    """
    import shutil

    if sys.platform not in ("darwin", "win32") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        installed = [name for name in ("xclip", "xsel", "wl-copy") if shutil.which(name)]
        have = f" ({', '.join(installed)} is installed, but needs one)" if installed else ""
        return (
            f"no display: neither DISPLAY nor WAYLAND_DISPLAY is set, as over SSH{have}",
            "over SSH, select the value with the mouse, or use a terminal that honours OSC 52; "
            "on a desktop, run clmwizard inside the graphical session",
        )
    return (
        "no clipboard program: none of xclip, xsel or wl-copy is installed",
        "install one, e.g. `sudo apt install xclip` (X11) or `sudo apt install wl-clipboard` "
        "(Wayland)",
    )


def clipboard_mechanism() -> str | None:
    """The program behind the clipboard ("xclip", "wl-copy", "pbcopy", …), or None."""
    functions = _functions()
    if functions is None:
        return None
    name = getattr(functions[0], "__name__", type(functions[0]).__name__)
    return _MECHANISMS.get(name, name.removeprefix("copy_"))


def _run(function: Callable[[], Any], doing: str) -> Any:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name="clmwizard-clipboard", daemon=True)
    thread.start()
    thread.join(CALL_TIMEOUT)
    if thread.is_alive():
        raise ClmWizardError(
            f"The clipboard did not answer in {CALL_TIMEOUT:g} s when clmwizard tried to {doing}.",
            cause="The clipboard program (or the display it talks to) is not responding.",
            fix="Check the display session, or select the value with the mouse instead.",
            code="clipboard_timeout",
        )
    error = outcome.get("error")
    if isinstance(error, pyperclip.PyperclipException):
        raise _no_clipboard(str(error).split("\n", 1)[0]) from error
    if isinstance(error, OSError):
        raise ClmWizardError(
            f"The clipboard failed when clmwizard tried to {doing}.",
            cause=f"{error.strerror or error}.",
            fix=NO_CLIPBOARD_FIX,
            code="clipboard_failed",
        ) from error
    if error is not None:
        raise error
    return outcome.get("value")


# pyperclip's copy functions that start a selection-serving program, and that program's command.
_SERVER_COMMANDS = {
    "copy_xclip": ["xclip", "-selection", "c"],
    "copy_xsel": ["xsel", "-b", "-i"],
    "copy_wl": ["wl-copy"],
}


def _detached_copy(command: list[str]) -> Callable[[str], None]:
    def copy(text: str) -> None:
        from clmwizard.secret_env import child_environment

        subprocess.run(
            command,
            input=text.encode("utf-8"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=child_environment(),
            close_fds=True,
            check=False,
            timeout=CALL_TIMEOUT,
        )

    return copy


def copy_text(text: str) -> None:
    """Put `text` on the clipboard; ClmWizardError when there is no clipboard."""
    functions = _functions()
    if functions is None:
        raise _no_clipboard()
    copy, paste = functions
    command = _SERVER_COMMANDS.get(getattr(copy, "__name__", ""))
    if command is not None:
        copy = _detached_copy(command)
    _run(lambda: copy(text), "copy")
    # xclip and xsel hand the selection to a forked child; wait until it is really serving it,
    # so a read right after (or the helper that clears it) sees the new value.
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline and _run(paste, "read the clipboard") != text:
        time.sleep(0.02)


def paste_text() -> str | None:
    """The clipboard's text, or None when there is no clipboard."""
    functions = _functions()
    if functions is None:
        return None
    paste = functions[1]
    value = _run(paste, "read the clipboard")
    return value if isinstance(value, str) else None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _clear_if(matches: Callable[[str], bool]) -> bool:
    current = paste_text()
    if current is None or not matches(current):
        return False
    copy_text("")
    return True


def clear_if_unchanged(value: str) -> bool:
    """Empty the clipboard if it still holds exactly `value`; True when it did."""
    return _clear_if(lambda current: current == value)


def clear_command(after: float) -> list[str]:
    """The helper's command line: the delay only; the hash comes through its stdin."""
    return [sys.executable, "-m", "clmwizard.clipboard", "--after", f"{after:g}"]


def _helper_environment(value: str) -> dict[str, str]:
    from clmwizard.secret_env import child_environment

    return {
        key: item
        for key, item in child_environment().items()
        if key not in _SECRET_ENV and (not value or value not in item)
    }


def schedule_clear_in_background(value: str, after: float = 30.0) -> int:
    """Start a detached helper that clears the clipboard in `after` s if it still holds `value`.

    Called at copy time (CLI and wizard alike), so the clearing does not depend on the copier
    living on. Returns the helper's process id.
    """
    options: dict[str, Any] = {}
    if sys.platform == "win32":
        options["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    process = subprocess.Popen(
        clear_command(after),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_helper_environment(value),
        cwd=os.path.abspath(os.sep),
        close_fds=True,
        **options,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(f"{_digest(value)}\n".encode("ascii"))
        process.stdin.close()
    except OSError as error:
        raise ClmWizardError(
            "The helper that clears the clipboard could not be started.",
            cause=f"{error.strerror or error}.",
            fix="Clear the clipboard yourself (copy something else).",
            code="clipboard_helper_failed",
        ) from error
    _helpers.append(process)  # kept referenced: no "still running" warning when collected
    return process.pid


_helpers: list[subprocess.Popen[bytes]] = []


def _main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clmwizard.clipboard",
        description="Clear the clipboard after a delay if it still holds the value whose "
        "SHA-256 is the first line of standard input.",
    )
    parser.add_argument("--after", type=float, default=30.0, metavar="S")
    args = parser.parse_args(argv)
    expected = (stdin or sys.stdin).readline(80).strip().lower()
    if len(expected) != 64:
        return 2
    if sys.platform != "win32":
        import signal

        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # belt and braces: it has no terminal
    time.sleep(max(0.0, args.after))
    try:
        return 0 if _clear_if(lambda current: _digest(current) == expected) else 1
    except ClmWizardError:
        return 2


_OSC52_TERMINALS = ("iTerm.app", "WezTerm", "kitty", "ghostty", "vscode", "alacritty", "foot")


def osc52_trusted() -> bool:
    """Whether the terminal probably honours OSC 52 (clipboard via escape sequence)."""
    choice = os.environ.get("CLMWIZARD_CLIPBOARD", "auto")
    if choice in ("osc52", "manual"):
        return choice == "osc52"
    if os.environ.get("TERM_PROGRAM") == "Apple_Terminal":
        return False
    if os.environ.get("TMUX"):
        return False  # tmux passes OSC 52 on only with `set-clipboard on`
    term = os.environ.get("TERM", "") + " " + os.environ.get("TERM_PROGRAM", "")
    known = any(name.lower() in term.lower() for name in _OSC52_TERMINALS)
    return known or bool(os.environ.get("WT_SESSION") or os.environ.get("SSH_TTY"))


if __name__ == "__main__":
    raise SystemExit(_main())
