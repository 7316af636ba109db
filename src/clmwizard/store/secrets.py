"""Secrets in the OS keyring: service `clmwizard`, user name `<profile>/<item>`.

Every keyring call runs in a worker thread with a timeout, because a Secret Service waiting on an
unlock prompt nobody can see would otherwise hang clmwizard for ever. Backends that cannot keep a
secret safely (none at all, the null backend that discards writes, plaintext files) are refused
instead of pretending a secret was saved.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from clmwizard.errors import KeyringError
from clmwizard.redact import register_secret
from clmwizard.store.names import validate_profile_name
from clmwizard.store.profile import SECRET_ITEMS, SECRET_KEY

SERVICE = "clmwizard"
DEFAULT_TIMEOUT = 3.0
EPHEMERAL_DESCRIPTION = "memory — this run only"

_ITEM = re.compile(r"[a-z][a-z0-9_]{0,63}")
_T = TypeVar("_T")


class SecretStore(Protocol):
    """Where a profile's secrets live: the OS keyring, or memory for this run only."""

    description: str
    persistent: bool

    def get(self, profile: str, item: str) -> str | None: ...

    def set_many(self, profile: str, items: Mapping[str, str]) -> None: ...

    def delete(self, profile: str, items: Iterable[str]) -> None: ...

    def delete_profile(self, profile: str) -> None: ...


def _username(profile: str, item: str) -> str:
    validate_profile_name(profile)
    if not _ITEM.fullmatch(item):
        raise ValueError(f"not a keyring item name: {item!r}")
    return f"{profile}/{item}"


# --- the keyring backend: what it is and whether it is safe -------------------------------


@dataclass
class BackendReport:
    """What `keyring` would use here, in words, and whether clmwizard may store secrets in it."""

    name: str
    usable: bool
    problem: str = ""
    fix: str = ""


_KNOWN_NAMES = {
    "keyring.backends.SecretService.Keyring": "Secret Service (GNOME Keyring or compatible)",
    "keyring.backends.libsecret.Keyring": "Secret Service via libsecret",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet 4",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.fail.Keyring": "no keyring (keyring's fail backend)",
    "keyring.backends.null.Keyring": "null keyring (discards everything)",
}


def _qualname(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def backend_name(backend: object) -> str:
    """A backend's name in words, e.g. "Secret Service (GNOME Keyring or compatible)"."""
    qualname = _qualname(backend)
    if qualname in _KNOWN_NAMES:
        return _KNOWN_NAMES[qualname]
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        members = ", ".join(backend_name(member) for member in _chain_members(backend))
        return f"a chain of keyrings ({members or 'empty'})"
    return qualname


def _chain_members(chainer: object) -> list[KeyringBackend]:
    return list(getattr(chainer, "backends", []))


def _is_file_backend(backend: object) -> bool:
    for cls in type(backend).__mro__:
        module = cls.__module__
        if module == "keyrings.alt" or module.startswith("keyrings.alt."):
            return True
        if "Plaintext" in cls.__name__ or "EncryptedKeyring" in cls.__name__:
            return True
    return hasattr(backend, "file_path")


def _setup_fix() -> str:
    if sys.platform == "darwin":
        where = "The macOS Keychain works out of the box in a normal login session."
    elif sys.platform == "win32":
        where = "Windows Credential Manager works out of the box in a normal login session."
    else:
        where = (
            "Install and start a Secret Service: on Debian or Ubuntu `sudo apt install "
            "gnome-keyring`, inside a desktop session or a D-Bus session "
            "(`dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock; clmwizard'`)."
        )
    return f"{where} Or run with --ephemeral to keep secrets in memory for this run only."


def _unsafe_reason(backend: object) -> str | None:
    """Why `backend` must not hold secrets, or None when it is a real keyring."""
    from keyring.backends import fail, null
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, fail.Keyring):
        return "No keyring service was found, so secrets cannot be stored."
    if isinstance(backend, null.Keyring):
        return "The null keyring silently discards every secret written to it."
    if _is_file_backend(backend):
        return (
            "It keeps secrets in a file on disk (plaintext or weakly protected), "
            "which clmwizard never does."
        )
    if isinstance(backend, ChainerBackend):
        members = _chain_members(backend)
        if not members:
            return "The chain holds no keyring at all, so secrets cannot be stored."
        first = members[0]
        reason = _unsafe_reason(first)
        if reason is not None:
            return f"Secrets would be written to its first member, {backend_name(first)}: {reason}"
    return None


def describe_backend(backend: object) -> BackendReport:
    """Judge one keyring backend (see `check_keyring_backend`)."""
    name = backend_name(backend)
    reason = _unsafe_reason(backend)
    if reason is None:
        return BackendReport(name=name, usable=True)
    return BackendReport(name=name, usable=False, problem=reason, fix=_setup_fix())


def check_keyring_backend(*, timeout: float = DEFAULT_TIMEOUT) -> BackendReport:
    """Name the keyring backend `keyring` would use here and say whether it is safe."""
    try:
        backend = _call_with_timeout(keyring.get_keyring, timeout)
    except _Timeout:
        return BackendReport(
            name="unknown (the keyring did not answer)",
            usable=False,
            problem=f"Looking up the keyring took longer than {timeout:g} s.",
            fix="Check that the keyring service (e.g. gnome-keyring) is running and unlocked. "
            + _setup_fix(),
        )
    return describe_backend(backend)


# --- calls with a timeout ------------------------------------------------------------------


class _Timeout(Exception):
    def __init__(self, thread: threading.Thread) -> None:
        super().__init__("timed out")
        self.thread = thread


def _call_with_timeout(function: Callable[[], _T], timeout: float) -> _T:
    """Run `function` in a daemon thread; raise _Timeout if it does not return in time.

    A daemon thread, not an executor: a call stuck on an unlock prompt must not keep the
    program from exiting.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="clmwizard-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _Timeout(thread)
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


# --- the stores ----------------------------------------------------------------------------


class KeyringSecretStore:
    """Secrets in the OS keyring, every call bounded by `timeout` seconds."""

    persistent = True

    def __init__(
        self, backend: KeyringBackend | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.backend: KeyringBackend = backend if backend is not None else keyring.get_keyring()
        self.timeout = timeout
        self.description = backend_name(self.backend)
        self._stuck: threading.Thread | None = None

    def _timeout_error(self) -> KeyringError:
        return KeyringError(
            f"The keyring did not answer in {self.timeout:g} s.",
            cause="It may be locked and waiting for a password prompt nobody can see.",
            fix=f"The keyring here is {self.description}: unlock it (log in to the desktop "
            "session, or run `gnome-keyring-daemon --unlock`) and try again, or run with "
            "--ephemeral to keep secrets in memory for this run only.",
            code="timeout",
        )

    def _call(self, function: Callable[[], _T], doing: str) -> _T:
        # After one call hung, later ones would hang too: fail at once while it is still stuck.
        if self._stuck is not None and self._stuck.is_alive():
            raise self._timeout_error()
        try:
            return _call_with_timeout(function, self.timeout)
        except _Timeout as timeout:
            self._stuck = timeout.thread
            raise self._timeout_error() from None
        except keyring.errors.KeyringLocked as error:
            raise KeyringError(
                f"The keyring is locked, so clmwizard could not {doing}.",
                cause=f"The keyring here is {self.description}; its unlock prompt was "
                "dismissed or could not be shown.",
                fix="Unlock the keyring (log in to the desktop session, or run "
                "`gnome-keyring-daemon --unlock`) and try again, or run with --ephemeral to keep "
                "secrets in memory for this run only.",
                code="locked",
            ) from error
        except keyring.errors.NoKeyringError as error:
            raise KeyringError(
                f"There is no keyring here, so clmwizard could not {doing}.",
                cause=f"The keyring here is {self.description}, and it found no keyring service.",
                fix=_setup_fix(),
                code="no_keyring",
            ) from error
        except Exception as error:
            raise KeyringError(
                f"The keyring ({self.description}) failed when clmwizard tried to {doing}.",
                cause=f"It reported {type(error).__name__}: {error}",
                fix="Check that the keyring service is running and unlocked, then try again; "
                "`clmwizard doctor` checks it.",
                code="backend_error",
            ) from error

    def _get(self, profile: str, item: str) -> str | None:
        username = _username(profile, item)
        value = self._call(lambda: self.backend.get_password(SERVICE, username), f"read {username}")
        register_secret(value)
        return value

    def _set(self, username: str, value: str) -> None:
        self._call(lambda: self.backend.set_password(SERVICE, username, value), f"store {username}")

    def _delete(self, username: str) -> None:
        def delete() -> None:
            try:
                self.backend.delete_password(SERVICE, username)
            except keyring.errors.PasswordDeleteError:
                if self.backend.get_password(SERVICE, username) is not None:
                    raise

        self._call(delete, f"delete {username}")

    def get(self, profile: str, item: str) -> str | None:
        return self._get(profile, item)

    def set_many(self, profile: str, items: Mapping[str, str]) -> None:
        usernames = {item: _username(profile, item) for item in items}
        for value in items.values():
            register_secret(value)
        if len(items) == 1:  # nothing to put back: one write, no read before it
            ((item, value),) = items.items()
            self._set(usernames[item], value)
            return
        previous = {item: self._get(profile, item) for item in items}
        written: list[str] = []
        try:
            for item, value in items.items():
                written.append(item)
                self._set(usernames[item], value)
        except KeyringError as error:
            failed_restores = self._restore(usernames, previous, written)
            if failed_restores:
                error.cause = (
                    f"{error.cause} Putting back the items already written also failed for: "
                    f"{', '.join(failed_restores)}."
                ).strip()
            raise

    def _restore(
        self, usernames: Mapping[str, str], previous: Mapping[str, str | None], written: list[str]
    ) -> list[str]:
        failed: list[str] = []
        for item in reversed(written):
            before = previous[item]
            try:
                if before is None:
                    self._delete(usernames[item])
                else:
                    self._set(usernames[item], before)
            except KeyringError:
                failed.append(item)
        return failed

    def delete(self, profile: str, items: Iterable[str]) -> None:
        for item in items:
            self._delete(_username(profile, item))

    def delete_profile(self, profile: str) -> None:
        self.delete(profile, SECRET_ITEMS)


class MemorySecretStore:
    """Secrets held in this process's memory only: gone when clmwizard exits."""

    description = EPHEMERAL_DESCRIPTION
    persistent = False

    def __init__(self) -> None:
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, profile: str, item: str) -> str | None:
        username = _username(profile, item)
        with self._lock:
            return self._items.get(username)

    def set_many(self, profile: str, items: Mapping[str, str]) -> None:
        usernames = {_username(profile, item): value for item, value in items.items()}
        for value in items.values():
            register_secret(value)
        with self._lock:
            self._items.update(usernames)

    def delete(self, profile: str, items: Iterable[str]) -> None:
        usernames = [_username(profile, item) for item in items]
        with self._lock:
            for username in usernames:
                self._items.pop(username, None)

    def delete_profile(self, profile: str) -> None:
        self.delete(profile, SECRET_ITEMS)


_ephemeral_store: MemorySecretStore | None = None
_ephemeral_lock = threading.Lock()


def open_secret_store(*, ephemeral: bool = False, timeout: float = DEFAULT_TIMEOUT) -> SecretStore:
    """The store for this run: the OS keyring, or (ephemeral) memory shared by the whole run.

    Raises KeyringError with what was found, why it is unsafe and what to do when the keyring
    cannot keep secrets safely.
    """
    global _ephemeral_store
    if ephemeral:
        with _ephemeral_lock:
            if _ephemeral_store is None:
                _ephemeral_store = MemorySecretStore()
            return _ephemeral_store
    report = check_keyring_backend(timeout=timeout)
    if not report.usable:
        raise KeyringError(
            f"clmwizard will not store secrets in this keyring: {report.name}.",
            cause=report.problem,
            fix=report.fix,
            code="unsafe_backend",
        )
    return KeyringSecretStore(timeout=timeout)


def keyring_round_trip(store: SecretStore) -> None:
    """Write, read back and delete a throwaway secret; raise KeyringError if any step fails."""
    profile = f"clmwizard-selftest-{secrets.token_hex(6)}"
    value = secrets.token_urlsafe(24)
    try:
        store.set_many(profile, {SECRET_KEY: value})
        read_back = store.get(profile, SECRET_KEY)
        if read_back != value:
            raise KeyringError(
                f"The keyring ({store.description}) did not give back a test secret it was given.",
                cause="It accepted the write but returned "
                + ("nothing" if read_back is None else "a different value")
                + ", so secrets stored there would be lost.",
                fix=_setup_fix(),
                code="round_trip",
            )
    finally:
        with contextlib.suppress(KeyringError):
            store.delete(profile, [SECRET_KEY])
    if store.get(profile, SECRET_KEY) is not None:
        raise KeyringError(
            f"The keyring ({store.description}) did not delete a test secret.",
            cause="Deleting a profile would leave its secrets behind.",
            fix=_setup_fix(),
            code="round_trip",
        )
