"""An exclusive lock held through a lock file, so two clmwizard processes never interleave.

The holder writes its process id and what it is doing into the file, so a process that gives up
waiting can say who holds the lock. The file is opened without following a symlink: a link
planted where the lock file goes is refused, never created or written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path

from clmwizard.errors import ClmWizardError

DEFAULT_LOCK_TIMEOUT = 10.0
_POLL = 0.02
_HOLDER_LIMIT = 512


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    else:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def _open_flags() -> int:
    flags = os.O_RDWR | os.O_CREAT
    if sys.platform != "win32":
        flags |= os.O_NOFOLLOW  # a symlink at the lock file's place fails with ELOOP
    return flags


def _open(path: Path) -> int:
    try:
        return os.open(path, _open_flags(), 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP or (path.is_symlink() and sys.platform == "win32"):
            raise ClmWizardError(
                f"The lock file {path} is a symbolic link; clmwizard does not follow it.",
                cause="Someone (or something) put a link where clmwizard keeps its lock file.",
                fix=f"Remove the link (`rm {path}`) and check who else can write to {path.parent}.",
                code="lock_symlink",
            ) from None
        raise ClmWizardError(
            f"The lock file {path} could not be opened.",
            cause=f"{error.strerror or error}.",
            fix=f"Check that {path.parent} belongs to you and is writable (chmod 700).",
            code="lock_unavailable",
        ) from None


def describe_holder(path: Path) -> str:
    """What the lock file says about its holder ("process 123 (clmwizard refresh …)"), or ""."""
    flags = os.O_RDONLY
    if sys.platform != "win32":
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError:
        return ""
    try:
        text = os.read(fd, _HOLDER_LIMIT).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)
    pid, _, doing = text.strip().partition(" ")
    if not pid.isdigit():
        return ""
    printable = "".join(c if c.isprintable() else "?" for c in doing)[:200]
    return f"process {pid}" + (f" ({printable})" if printable else "")


def _write_holder(fd: int, doing: str) -> None:
    with contextlib.suppress(OSError):  # who holds it is a courtesy, not the lock itself
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()} {doing}\n".encode()[:_HOLDER_LIMIT])


def _clear_holder(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)


def holder_description() -> str:
    """This process, as a lock file names it: the command it runs, without its arguments'
    values (argv holds no secrets, but names are enough)."""
    argv = [os.path.basename(sys.argv[0]) if sys.argv else "python", *sys.argv[1:3]]
    return " ".join(part for part in argv if part)


@contextmanager
def file_lock(
    path: Path, *, what: str, timeout: float = DEFAULT_LOCK_TIMEOUT, doing: str | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created 0600 if missing) for the `with` block.

    `what` names the locked thing in the error, e.g. "Profile 'work'"; `doing` is written into
    the file for whoever waits (default: this process's command).
    """
    fd = _open(path)
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                holder = describe_holder(path)
                raise ClmWizardError(
                    f"{what} is in use by another clmwizard" + (f": {holder}." if holder else "."),
                    cause=f"Another clmwizard process (for example an open wizard or a "
                    f"heartbeat refresh) has held the lock file {path} for over {timeout:g} s.",
                    fix="Wait for it to finish or close it, then try again. Nothing was changed.",
                    code="locked",
                )
            time.sleep(_POLL)
        _write_holder(fd, doing if doing is not None else holder_description())
        try:
            yield
        finally:
            _clear_holder(fd)
            _unlock(fd)
    finally:
        os.close(fd)


@asynccontextmanager
async def held_in_thread(lock: AbstractContextManager[None]) -> AsyncIterator[None]:
    """A blocking lock (`file_lock`, a ProfileStore lock) for async code: waited for in a
    thread; a lock acquired after the waiter was cancelled is released at once."""
    import asyncio

    entering = asyncio.ensure_future(asyncio.to_thread(lock.__enter__))
    try:
        await asyncio.shield(entering)
    except asyncio.CancelledError:

        def release(done: asyncio.Future[None]) -> None:
            if not done.cancelled() and done.exception() is None:
                lock.__exit__(None, None, None)

        entering.add_done_callback(release)
        raise
    try:
        yield
    finally:
        lock.__exit__(None, None, None)
