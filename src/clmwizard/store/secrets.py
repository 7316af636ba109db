"""Secrets in the OS keyring: service `clmwizard`, user name `<profile>/<item>`.

Every keyring call runs in a worker thread with a timeout, because a Secret Service waiting on an
unlock prompt nobody can see would otherwise hang clmwizard for ever. Backends that cannot keep a
secret safely (none at all, the null backend that discards writes, plaintext files) are refused
instead of pretending a secret was saved.

Backends with a small value limit (Windows Credential Manager: 2,560 bytes of UTF-16, about
1,280 characters, too little for a PEM RSA key) get long values in parts: the parts are written
under a fresh generation first, then the item itself becomes a manifest naming them, so a crash
at any moment leaves the previous value readable. A `#cleanup` entry names every generation that
may exist beside the live one, and the next write or delete removes those. Backends without a
limit store every value whole, exactly as before.

Values in parts are written, deleted and repaired under one lock (a lock file beside the
profiles, and a lock within the process), so two writers never remove each other's parts. A
reader takes no lock until a manifest does not assemble; then it reads again under the lock and
removes the value only when it is broken there too (proven broken, not merely being replaced).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from clmwizard.errors import ClmWizardError, KeyringError
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


# --- value limits and values in parts -----------------------------------------------------


@dataclass(frozen=True)
class ValueLimit:
    """The most a backend stores per item, measured as it measures (bytes in its encoding)."""

    max_bytes: int
    encoding: str
    part_bytes: int  # the size of each part, below max_bytes for a margin

    def size(self, value: str) -> int:
        return len(value.encode(self.encoding, "surrogatepass"))

    def fits(self, value: str) -> bool:
        return self.size(value) <= self.max_bytes

    def split(self, value: str) -> list[str]:
        parts: list[str] = []
        start, used = 0, 0
        for index, char in enumerate(value):
            width = self.size(char)
            if used + width > self.part_bytes:
                parts.append(value[start:index])
                start, used = index, 0
            used += width
        parts.append(value[start:])
        return parts


# CRED_MAX_CREDENTIAL_BLOB_SIZE is 5 * 512 bytes; keyring writes the blob as UTF-16.
WINDOWS_LIMIT = ValueLimit(max_bytes=2560, encoding="utf-16-le", part_bytes=2048)
_LIMITS = {"keyring.backends.Windows.WinVaultKeyring": WINDOWS_LIMIT}

PARTS_PREFIX = "clmwizard-parts:1:"  # a manifest: PREFIX <generation>:<count>:<sha256>
_CLEANUP = "#cleanup"
_MANIFEST = re.compile(r"clmwizard-parts:1:([0-9a-f]{8}):([1-9][0-9]{0,3}):([0-9a-f]{64})")
_GENERATIONS = re.compile(r"([0-9a-f]{8}):([1-9][0-9]{0,3})")


def value_limit(backend: object) -> ValueLimit | None:
    """The backend's per-item limit, or None when it has none that matters."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        members = _chain_members(backend)
        return value_limit(members[0]) if members else None
    for cls in type(backend).__mro__:
        limit = _LIMITS.get(f"{cls.__module__}.{cls.__qualname__}")
        if limit is not None:
            return limit
    return None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _part_name(username: str, generation: str, index: int) -> str:
    return f"{username}#{generation}.{index}"


def _generations(text: str | None) -> dict[str, int]:
    found: dict[str, int] = {}
    for word in (text or "").split():
        match = _GENERATIONS.fullmatch(word)
        if match:
            found[match[1]] = int(match[2])
    return found


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
    for cls in type(backend).__mro__:  # a subclass of a known backend is named after it
        known = _KNOWN_NAMES.get(f"{cls.__module__}.{cls.__name__}")
        if known is not None:
            return known
    qualname = _qualname(backend)
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
        self,
        backend: KeyringBackend | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        lock_file: Path | None = None,
    ) -> None:
        self.backend: KeyringBackend = backend if backend is not None else keyring.get_keyring()
        self.timeout = timeout
        self.description = backend_name(self.backend)
        self.limit = value_limit(self.backend)
        self.notices: list[str] = []  # repairs of half-written values, in plain words
        self.lock_file = lock_file  # None: writers in other processes are not excluded
        self._stuck: threading.Thread | None = None
        self._holding = threading.local()

    @contextmanager
    def _parts_lock(self) -> Iterator[None]:
        """Held while values in parts change (re-entrant within a thread)."""
        depth = int(vars(self._holding).get("depth", 0))
        if self.limit is None or depth:
            self._holding.depth = depth + 1
            try:
                yield
            finally:
                self._holding.depth = depth
            return
        with _PARTS_LOCK, self._file_lock():
            self._holding.depth = 1
            try:
                yield
            finally:
                self._holding.depth = 0

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self.lock_file is None:
            yield
            return
        from clmwizard.store.locking import file_lock

        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(file_lock(self.lock_file, what="The keyring's long values"))
            except ClmWizardError as error:
                raise KeyringError(
                    error.what, cause=error.cause, fix=error.fix, code=error.code
                ) from None
            yield

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

    def _raw(self, username: str) -> str | None:
        return self._call(lambda: self.backend.get_password(SERVICE, username), f"read {username}")

    def _get(self, profile: str, item: str) -> str | None:
        value = self._read(_username(profile, item))
        register_secret(value)
        return value

    def _read(self, username: str) -> str | None:
        raw = self._raw(username)
        if raw is None or not raw.startswith(PARTS_PREFIX):
            return raw  # a value stored whole (by any clmwizard version)
        value = self._assemble(username, raw)
        if value is not None:
            return value
        with self._parts_lock():  # no writer now: what does not assemble here is broken
            raw = self._raw(username)
            if raw is None or not raw.startswith(PARTS_PREFIX):
                return raw  # a writer replaced it meanwhile
            value = self._assemble(username, raw)
            if value is not None:
                return value
            self._discard(username, raw)
        raise KeyringError(
            f"The keyring ({self.description}) held only part of {username}.",
            cause="Some of the parts clmwizard stores a long value in were missing or did not "
            "match; the incomplete value was removed rather than used.",
            fix="Store it again: sign in again for tokens, add the RSA key again on the Key "
            "screen → Advanced, or `clmwizard rotate` for the secret key.",
            code="incomplete_secret",
        )

    def _assemble(self, username: str, manifest: str) -> str | None:
        """The whole value a manifest names, or None when a part is missing or wrong."""
        match = _MANIFEST.fullmatch(manifest)
        if match is None:
            return None
        generation, count, digest = match[1], int(match[2]), match[3]
        parts: list[str] = []
        for index in range(count):
            part = self._raw(_part_name(username, generation, index))
            if part is None:
                return None
            parts.append(part)
        value = "".join(parts)
        return value if _digest(value) == digest else None

    def _set(self, username: str, value: str) -> None:
        try:
            self._call(
                lambda: self.backend.set_password(SERVICE, username, value), f"store {username}"
            )
        except KeyringError as error:
            if error.code == "backend_error":
                error.what = (
                    f"The keyring ({self.description}) refused to store {username}, a value of "
                    f"{len(value):,} characters ({self._size_words(value)})."
                )
            raise

    def _size_words(self, value: str) -> str:
        if self.limit is None:
            return f"{len(value.encode('utf-8', 'surrogatepass')):,} bytes as UTF-8"
        return (
            f"{self.limit.size(value):,} bytes as {self.limit.encoding}; this keyring holds at "
            f"most {self.limit.max_bytes:,} per item"
        )

    def _delete(self, username: str) -> None:
        def delete() -> None:
            try:
                self.backend.delete_password(SERVICE, username)
            except keyring.errors.PasswordDeleteError:
                if self.backend.get_password(SERVICE, username) is not None:
                    raise

        self._call(delete, f"delete {username}")

    def _write(self, username: str, value: str) -> None:
        """Store `value` whole, or in parts when the backend's limit needs it (all-or-nothing)."""
        if self.limit is None:
            self._set(username, value)
            return
        with self._parts_lock():
            self._write_parts(username, value)

    def _write_parts(self, username: str, value: str) -> None:
        assert self.limit is not None
        old = _generations(self._live_generation(username))
        pending = _generations(self._raw(username + _CLEANUP))
        unfinished = {g: n for g, n in pending.items() if g not in old}
        stale = {**pending, **old}
        if self.limit.fits(value) and not value.startswith(PARTS_PREFIX):
            if stale:
                self._set(username + _CLEANUP, _words(stale))
            self._set(username, value)
            self._remove_parts(username, stale, marked=bool(stale), unfinished=unfinished)
            return
        parts = self.limit.split(value)
        generation = secrets.token_hex(4)
        self._set(username + _CLEANUP, _words({**stale, generation: len(parts)}))
        for index, part in enumerate(parts):
            self._set(_part_name(username, generation, index), part)
        self._set(username, f"{PARTS_PREFIX}{generation}:{len(parts)}:{_digest(value)}")
        stale.pop(generation, None)
        self._remove_parts(username, stale, marked=True, unfinished=unfinished)

    def _live_generation(self, username: str) -> str:
        """`generation:count` of the manifest stored at `username`, or ""."""
        match = _MANIFEST.fullmatch(self._raw(username) or "")
        return f"{match[1]}:{match[2]}" if match else ""

    def _remove_parts(
        self,
        username: str,
        generations: Mapping[str, int],
        *,
        marked: bool,
        unfinished: Mapping[str, int],
    ) -> None:
        """Delete the parts of `generations` except the live one, then the cleanup note."""
        live = self._live_generation(username).split(":")[0]
        if unfinished:
            self.notices.append(
                f"Removed the parts of an unfinished write of {username} (a run stopped while "
                "storing it); the value stored before it had been kept."
            )
        for generation, count in generations.items():
            if generation == live:
                continue
            for index in range(count):
                self._delete(_part_name(username, generation, index))
        if marked or unfinished:
            self._delete(username + _CLEANUP)

    def _discard(self, username: str, manifest: str) -> None:
        """Remove a manifest whose parts are incomplete, and whatever parts of it exist."""
        with contextlib.suppress(KeyringError):
            pending = _generations(self._raw(username + _CLEANUP))
            match = _MANIFEST.fullmatch(manifest)
            named = {match[1]: int(match[2])} if match else {}
            self._delete(username)
            self._remove_parts(username, {**pending, **named}, marked=bool(pending), unfinished={})
            self.notices.append(f"Removed the incomplete value of {username}.")

    def _erase(self, username: str) -> None:
        """Delete an item whole: the value, every part of it and the cleanup note."""
        if self.limit is None:
            self._delete(username)
            return
        with self._parts_lock():
            self._erase_parts(username)

    def _erase_parts(self, username: str) -> None:
        pending = _generations(self._raw(username + _CLEANUP))
        live = _generations(self._live_generation(username))
        every = {**pending, **live}
        if every:
            self._set(username + _CLEANUP, _words(every))
        self._delete(username)
        self._remove_parts(username, every, marked=bool(every), unfinished={})

    def get(self, profile: str, item: str) -> str | None:
        return self._get(profile, item)

    def set_many(self, profile: str, items: Mapping[str, str]) -> None:
        usernames = {item: _username(profile, item) for item in items}
        for value in items.values():
            register_secret(value)
        if len(items) == 1:  # nothing to put back: one write, no read before it
            ((item, value),) = items.items()
            self._write(usernames[item], value)
            return
        previous = {item: self._get(profile, item) for item in items}
        written: list[str] = []
        try:
            for item, value in items.items():
                written.append(item)
                self._write(usernames[item], value)
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
                    self._erase(usernames[item])
                else:
                    self._write(usernames[item], before)
            except KeyringError:
                failed.append(item)
        return failed

    def delete(self, profile: str, items: Iterable[str]) -> None:
        for item in items:
            self._erase(_username(profile, item))

    def delete_profile(self, profile: str) -> None:
        self.delete(profile, SECRET_ITEMS)


def _words(generations: Mapping[str, int]) -> str:
    return " ".join(f"{generation}:{count}" for generation, count in generations.items())


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
_PARTS_LOCK = threading.Lock()  # values in parts change one at a time within a process


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
    from clmwizard.store.profiles import config_dir

    return KeyringSecretStore(timeout=timeout, lock_file=_lock_file(config_dir()))


def _lock_file(folder: Path) -> Path | None:
    """The lock file for values in parts, beside the profiles (None when it cannot be made)."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return folder / "keyring-parts.lock"


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
