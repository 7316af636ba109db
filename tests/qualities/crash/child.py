"""`python -m tests.qualities.crash.child ARGS…` runs `clmwizard ARGS…` exactly as
`python -m clmwizard` does, with one addition for the crash tests: every durable step (a
keyring write or delete, a file
written for the bundle, a rename into place, a folder removed) is numbered and logged to
$CRASH_STEPS, and the process stops dead before step $CRASH_AT, announcing `PAUSED n name`, so
the test can kill -9 it at exactly that moment, or send it a signal and let it go on (the test
creates `$CRASH_STEPS.go`). Nothing here changes what clmwizard does."""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

_counter = 0


def _step(name: str) -> None:
    global _counter
    at = int(os.environ.get("CRASH_AT", "-1"))
    with open(os.environ["CRASH_STEPS"], "a", encoding="utf-8") as log:
        if _counter == at:
            log.write(f"PAUSED {_counter} {name}\n")
            log.flush()
            os.fsync(log.fileno())
            go = os.environ["CRASH_STEPS"] + ".go"
            deadline = time.monotonic() + 3600  # until the test kills us, or lets us go on
            while not os.path.exists(go) and time.monotonic() < deadline:
                time.sleep(0.01)
        log.write(f"{_counter} {name}\n")
    _counter += 1


def _ours(path: object) -> bool:
    roots = [root for root in os.environ.get("CRASH_ROOTS", "").split(os.pathsep) if root]
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    return any(str(text).startswith(root) for root in roots)


def _stable(name: str) -> str:
    """A temp file or folder name without its random part: `.work.*.tmp`, `.out.new-*`."""
    return re.sub(r"(\.new-|\.old-|\.)[a-z0-9_]{8}(?=\.tmp$|$)", r"\1*", name)


def _path_step(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function(path, …)` with a step before it when `path` is under $CRASH_ROOTS."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if args and _ours(args[0]):
            names = [_stable(os.path.basename(os.fspath(a))) for a in args[:2] if _ours(a)]
            _step(f"{name} {' -> '.join(names)}")
        return function(*args, **kwargs)

    return wrapper


def _keyring_step(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A KeyringSecretStore method `(self, username, …)` with a step before it."""

    @functools.wraps(function)
    def wrapper(self: Any, username: str, *args: Any) -> Any:
        profile, item = username.split("/", 1)
        _step(f"{name} {item}" + (" (self-test)" if "selftest" in profile else ""))
        return function(self, username, *args)

    return wrapper


def main() -> int:
    from clmwizard.connector import bundle
    from clmwizard.store import secrets

    os.replace = _path_step("replace", os.replace)  # type: ignore[assignment]
    os.rename = _path_step("rename", os.rename)  # type: ignore[assignment]
    shutil.rmtree = _path_step("rmtree", shutil.rmtree)  # type: ignore[assignment]
    bundle._write_file = _path_step("write", bundle._write_file)  # type: ignore[attr-defined]
    store = secrets.KeyringSecretStore
    store._set = _keyring_step("keyring set", store._set)  # type: ignore[method-assign]
    store._delete = _keyring_step("keyring delete", store._delete)  # type: ignore[method-assign]

    from clmwizard.cli import main as clmwizard

    return clmwizard(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
