"""In-memory keyring backends for fast unit tests (the real Secret Service runs in CI too)."""

from __future__ import annotations

import threading
import time

from jaraco.classes import properties
from keyring.backend import KeyringBackend
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
