"""In-memory keyring backends for fast unit tests (the real Secret Service runs in CI too)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.backends.Windows import WinVaultKeyring
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A working keyring that keeps items in a dict. Only used when set explicitly."""

    @properties.classproperty
    def priority(cls) -> float:
        # Not viable for keyring's automatic choice: importing this module must not change
        # which backend other tests get by default.
        raise RuntimeError("test-only backend")

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            if (service, username) not in self.items:
                raise PasswordDeleteError("not found")
            del self.items[(service, username)]

    def stored(self, item: str, profile: str = "acme") -> str | None:
        """What clmwizard keeps for `profile` under `item` (`refresh_token`, `secret_key`, …)."""
        return self.items.get(("clmwizard", f"{profile}/{item}"))


class SlowKeyring(MemoryKeyring):
    """A keyring taking `delay` seconds per call, like a locked collection awaiting a prompt."""

    def __init__(self, delay: float = 10.0) -> None:
        super().__init__()
        self.delay = delay

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(self.delay)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(self.delay)
        super().set_password(service, username, password)


class FailingAfterKeyring(MemoryKeyring):
    """A keyring whose writes start failing after `ok_writes` successful ones."""

    def __init__(self, ok_writes: int) -> None:
        super().__init__()
        self.ok_writes = ok_writes

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.ok_writes <= 0:
            from keyring.errors import PasswordSetError

            raise PasswordSetError("simulated failure")
        self.ok_writes -= 1
        super().set_password(service, username, password)


class WinError(OSError):
    """How a failed Win32 call surfaces in Python on Windows: `[WinError N] message`."""

    def __init__(self, winerror: int, strerror: str) -> None:
        super().__init__(22, strerror)
        self.winerror = winerror

    def __str__(self) -> str:
        return f"[WinError {self.winerror}] {self.strerror}"


class FakeWindowsCredentialManager(WinVaultKeyring):
    """Windows Credential Manager as far as sizes go, runnable anywhere.

    A subclass of keyring's own Windows backend (so it is recognised as Windows), with its
    calls replaced by a dict: a credential blob holds at most CRED_MAX_CREDENTIAL_BLOB_SIZE
    (2,560) bytes, written as UTF-16, and a longer one fails as CredWrite does, with
    WinError 1783 "The stub received bad data.". With `path` the items live in a JSON file
    (rewritten atomically on every change), so a child process can be killed mid-write; with
    `pause_before_change` it stops dead before that change (0-based) and says so in `steps`.
    """

    MAX_BLOB = 2560

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test-only backend")

    def __init__(
        self,
        path: Path | None = None,
        *,
        pause_before_change: int = -1,
        steps: Path | None = None,
    ) -> None:
        super().__init__()
        self.path = path
        self.pause_before_change = pause_before_change
        self.steps = steps
        self.changes = 0
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def items(self) -> dict[str, str]:
        if self.path is not None and self.path.exists():
            loaded: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
            return loaded
        return dict(self._items) if self.path is None else {}

    def _save(self, items: dict[str, str]) -> None:
        if self.path is None:
            self._items = items
            return
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(items), encoding="utf-8")
        os.replace(temporary, self.path)

    def _change(self, what: str) -> None:
        if self.steps is not None:
            with self.steps.open("a", encoding="utf-8") as log:
                if self.changes == self.pause_before_change:
                    log.write(f"PAUSED {self.changes} {what}\n")
                    log.flush()
                    os.fsync(log.fileno())
                    time.sleep(3600)  # until the test kills us
                log.write(f"{self.changes} {what}\n")
        self.changes += 1

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self.items.get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            if len(password.encode("utf-16-le")) > self.MAX_BLOB:
                raise WinError(1783, "The stub received bad data.")
            self._change(f"set {username}")
            items = self.items
            items[f"{service}\n{username}"] = password
            self._save(items)

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            items = self.items
            if f"{service}\n{username}" not in items:
                raise PasswordDeleteError("Password not found")
            self._change(f"delete {username}")
            del items[f"{service}\n{username}"]
            self._save(items)
