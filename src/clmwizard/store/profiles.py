"""Non-secret profiles as YAML files: `<config dir>/profiles/<name>.yaml`.

Writes are atomic (temp file in the same folder, fsync, rename) and happen under a per-profile
lock file, so a crash never leaves half a profile and two clmwizard processes never lose each
other's updates. Files are 0600 and folders 0700. Secrets never go here: they live in the keyring
(`clmwizard.store.secrets`).

A profile names the servers its secrets are sent to, so it is trusted only as ssh trusts its keys:
the folder and the file must belong to the user and be writable by nobody else, or they are
refused with the `chmod` that fixes them. A folder that is a symbolic link is never chmod-ed
through; its target is checked like any folder. Reads are capped (`MAX_PROFILE_BYTES`).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clmwizard.errors import ClmWizardError
from clmwizard.redact import redact
from clmwizard.store.locking import DEFAULT_LOCK_TIMEOUT, file_lock
from clmwizard.store.names import validate_profile_name
from clmwizard.store.profile import Profile
from clmwizard.store.serialise import profile_from_dict, profile_to_dict

if TYPE_CHECKING:  # keyring and yaml are imported only when used: the wizard opens faster
    from clmwizard.store.secrets import SecretStore

__all__ = [
    "MAX_PROFILE_BYTES",
    "ProfileListing",
    "ProfileStore",
    "ProfileWriteError",
    "config_dir",
    "profile_from_dict",
    "profile_to_dict",
    "validate_profile_name",
]

CONFIG_DIR_ENV = "CLMWIZARD_CONFIG_DIR"
SUFFIX = ".yaml"
LOCK_SUFFIX = ".lock"
GRANT_LOCK_SUFFIX = ".grant-lock"
CONNECTOR_LOCK_SUFFIX = ".connector-lock"
MAX_PROFILE_BYTES = 256 * 1024  # a real profile is under 4 KiB
# Long enough for another run's refresh or rotation to finish, short enough for cron.
GRANT_LOCK_TIMEOUT = 8.0
_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH

Writer = Callable[[int, bytes], None]


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (the default writer of a ProfileStore)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class ProfileWriteError(ClmWizardError):
    """A profile file could not be written (full disk, read-only folder, …); nothing changed."""


def config_dir() -> Path:
    """The config folder: $CLMWIZARD_CONFIG_DIR, else the platform's user config folder."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path("clmwizard")


@dataclass
class ProfileListing:
    """One profile file as listed: the profile, or the error that kept it from loading."""

    name: str
    path: Path
    profile: Profile | None
    error: ClmWizardError | None


def _not_found(name: str, path: Path) -> ClmWizardError:
    create = (
        f"`clmwizard --profile {name}` (the wizard) or `clmwizard login --profile {name} …` "
        "creates it"
    )
    close = _close_name(name, path.parent)
    if close is not None:
        fix = (
            f"Did you mean '{close}'? Run the command again with `--profile {close}`; "
            f"`clmwizard profiles list` lists them all. A new profile: {create}."
        )
    else:
        fix = f"{create[0].upper()}{create[1:]}; `clmwizard profiles list` lists the existing ones."
    return ClmWizardError(
        f"There is no profile named '{name}'.",
        cause=f"{path} does not exist.",
        fix=fix,
        field="profile",
        code="profile_not_found",
    )


def _close_name(name: str, root: Path) -> str | None:
    """The existing profile name a typo most likely meant (file names only, nothing loaded)."""
    import difflib

    try:
        names = [p.name[: -len(SUFFIX)] for p in root.glob(f"*{SUFFIX}")]
    except OSError:
        return None
    names = [n for n in names if n and not n.startswith(".") and n != name]
    matches = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return matches[0] if matches else None


class ProfileStore:
    """The profile files under one folder (default: `config_dir()/profiles`)."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        grant_lock_timeout: float = GRANT_LOCK_TIMEOUT,
        writer: Writer = write_all,
    ):
        self.root = root if root is not None else config_dir() / "profiles"
        self.lock_timeout = lock_timeout
        self.grant_lock_timeout = grant_lock_timeout
        self.writer = writer  # a seam: tests hand in one that fails like a full disk

    def path_for(self, name: str) -> Path:
        return self.root / f"{validate_profile_name(name)}{SUFFIX}"

    def _lock_path(self, name: str) -> Path:
        return self.root / f"{validate_profile_name(name)}{LOCK_SUFFIX}"

    def _grant_lock_path(self, name: str) -> Path:
        return self.root / f".{validate_profile_name(name)}{GRANT_LOCK_SUFFIX}"

    def exists(self, name: str) -> bool:
        return self.path_for(name).is_file()

    def _ensure_root(self) -> None:
        missing = [p for p in (self.root, *self.root.parents) if not p.exists()]
        try:
            self.root.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
        except OSError as error:
            raise ProfileWriteError(
                f"The profile folder {self.root} could not be created.",
                cause=f"{error.strerror or error}.",
                fix=f"Check that {self.root.parent} is yours and writable, or set "
                f"{CONFIG_DIR_ENV} to a folder that is.",
                code="profile_folder_unwritable",
            ) from error
        for folder in missing:  # mkdir's mode is filtered by the umask
            with contextlib.suppress(OSError):
                folder.chmod(_PRIVATE_DIR)
        if sys.platform != "win32" and not self.root.is_symlink():
            # Tighten our own folder; never chmod through a link (it may be a shared folder).
            # A folder others could write is refused below, not quietly fixed: a profile in
            # it may already have been changed.
            with contextlib.suppress(OSError):
                info = self.root.stat()
                if info.st_uid == os.geteuid() and not info.st_mode & _OTHERS_WRITE:
                    self.root.chmod(_PRIVATE_DIR)
        check_private(self.root)

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        self._ensure_root()
        with file_lock(self._lock_path(name), what=f"Profile '{name}'", timeout=self.lock_timeout):
            yield

    @contextlib.contextmanager
    def grant_lock(self, name: str, doing: str | None = None) -> Iterator[None]:
        """Hold profile `name`'s grant lock: every read-then-write of its tokens happens under
        it, across processes, so no run ever uses or overwrites a token another run replaced."""
        self._ensure_root()
        with file_lock(
            self._grant_lock_path(name),
            what=f"The sign-in of profile '{name}'",
            timeout=self.grant_lock_timeout,
            doing=doing,
        ):
            yield

    @contextlib.contextmanager
    def task_lock(self, name: str, task: str, *, timeout: float = 0.5) -> Iterator[None]:
        """Hold profile `name`'s lock for one long task (e.g. "connect"), so two runs of it
        never work on the same connections at once; a second run fails at once, naming the
        first. The profile file and the grant stay free for other commands meanwhile."""
        if not task.isalpha():
            raise ValueError(f"not a task name: {task!r}")
        self._ensure_root()
        with file_lock(
            self.root / f".{validate_profile_name(name)}.{task}-lock",
            what=f"`clmwizard {task}` for profile '{name}'",
            timeout=timeout,
            doing=f"clmwizard {task} --profile {name}",
        ):
            yield

    @contextlib.contextmanager
    def connector_lock(self, name: str, doing: str | None = None) -> Iterator[None]:
        """Hold profile `name`'s connector lock, the grant lock's sibling: one publish or
        rotation (of connectors) per profile at a time, across processes, so two runs never
        both create the same connector. Separate from the grant lock, which a refresh must
        get while a publish runs."""
        self._ensure_root()
        with file_lock(
            self.root / f".{validate_profile_name(name)}{CONNECTOR_LOCK_SUFFIX}",
            what=f"The connectors of profile '{name}'",
            timeout=self.grant_lock_timeout,
            doing=doing,
        ):
            yield

    # --- reading -------------------------------------------------------------------------

    def load(self, name: str) -> Profile:
        path = self.path_for(name)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise _not_found(name, path) from None
        except OSError as error:
            raise _unreadable(path, error) from error
        try:
            check_private(self.root)
            check_private(path, os.fstat(fd))
            raw = _read_capped(fd, path)
        except OSError as error:
            raise _unreadable(path, error) from error
        finally:
            os.close(fd)
        return _parse(raw, path, name)

    def list(self) -> builtins.list[ProfileListing]:
        """Every profile file, sorted by name; unreadable ones carry their error."""
        if not self.root.is_dir():
            return []
        listings: list[ProfileListing] = []
        for path in sorted(self.root.glob(f"*{SUFFIX}")):
            name = path.name[: -len(SUFFIX)]
            if name.startswith("."):
                continue  # an unfinished temp file of another process
            try:
                validate_profile_name(name)
                listings.append(ProfileListing(name, path, self.load(name), None))
            except ClmWizardError as error:
                listings.append(ProfileListing(name, path, None, error))
        return listings

    # --- writing -------------------------------------------------------------------------

    def save(self, profile: Profile) -> None:
        with self._locked(profile.name):
            self._write(profile)

    def update(self, name: str, change: Callable[[Profile], None]) -> Profile:
        """Load, apply `change`, and save, all under the profile's lock."""
        with self._locked(name):
            profile = self.load(name)
            change(profile)
            if profile.name != name:
                raise ValueError("update() cannot rename a profile")
            self._write(profile)
            return profile

    def delete(self, name: str, secrets: SecretStore | None = None) -> None:
        """Remove the profile file and, when `secrets` is given, its keyring items first."""
        path = self.path_for(name)
        with self.grant_lock(name, f"deleting profile {name}"), self._locked(name):
            if not path.is_file():
                raise _not_found(name, path)
            if secrets is not None:
                secrets.delete_profile(name)
            path.unlink()
            _fsync_folder(self.root)
            with contextlib.suppress(OSError):
                self._lock_path(name).unlink()
            with contextlib.suppress(OSError):
                self._grant_lock_path(name).unlink()
            for task_lock in self.root.glob(f".{name}.*-lock"):
                with contextlib.suppress(OSError):
                    task_lock.unlink()
            with contextlib.suppress(OSError):
                (self.root / f".{name}{CONNECTOR_LOCK_SUFFIX}").unlink()

    def _write(self, profile: Profile) -> None:
        path = self.path_for(profile.name)
        text = dump_profile_yaml(profile)
        try:
            self._write_file(path, profile.name, text.encode("utf-8"))
        except OSError as error:
            raise _write_failed(path, error) from error

    def _write_file(self, path: Path, name: str, data: bytes) -> None:
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=f".{name}.", suffix=".tmp")
        try:
            try:
                if sys.platform != "win32":
                    os.fchmod(fd, _PRIVATE_FILE)
                self.writer(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        _fsync_folder(self.root)


def _write_failed(path: Path, error: OSError) -> ProfileWriteError:
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    read_only = error.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    if full:
        fix = f"Free some space on the disk that holds {path.parent}."
    elif read_only:
        fix = f"Make {path.parent} writable for you (`chmod 700 {path.parent}`)."
    else:
        fix = f"Check {path.parent} (space, permissions) and try again."
    return ProfileWriteError(
        f"The profile file {path} could not be written.",
        cause=f"{error.strerror or error}. The file is unchanged (old or absent, never half).",
        fix=fix,
        code="disk_full" if full else "profile_unwritable",
    )


def _unreadable(path: Path, error: OSError) -> ClmWizardError:
    return ClmWizardError(
        f"The profile file {path} could not be read.",
        cause=f"{error.strerror or error}.",
        fix="Check the file's permissions (it should belong to you, mode 600).",
        code="unreadable_profile",
    )


def _read_capped(fd: int, path: Path) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_PROFILE_BYTES:
        chunk = os.read(fd, MAX_PROFILE_BYTES + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise ClmWizardError(
        f"The profile file {path} is too large to be a profile.",
        cause=f"It is over {MAX_PROFILE_BYTES // 1024} KiB; a profile is a few KiB.",
        fix="Delete it and set the profile up again with `clmwizard`, or correct it by hand.",
        code="invalid_profile",
    )


def check_private(path: Path, status: os.stat_result | None = None) -> None:
    """Refuse a profile folder or file that another local user could change (as ssh does).

    A link's target is what counts (stat follows it); `status` may be an fstat of an open file.
    """
    if sys.platform == "win32":
        return  # folder ACLs there come from the user profile; not checked
    else:
        info = status if status is not None else os.stat(path)
        folder = stat.S_ISDIR(info.st_mode)
        mode = "700" if folder else "600"
        what = "folder" if folder else "file"
        if info.st_uid != os.geteuid():
            raise ClmWizardError(
                f"The profile {what} {path} belongs to another user, so clmwizard does not "
                "trust it.",
                cause="A profile says which servers get your secret key and tokens; whoever "
                "owns it could send them elsewhere.",
                fix=f"If it is yours, take it back (`sudo chown $USER {path}`, then "
                f"`chmod {mode} {path}`); otherwise move it away and set the profile up again.",
                field="profile",
                code="unsafe_permissions",
            )
        if info.st_mode & _OTHERS_WRITE:
            raise ClmWizardError(
                f"The profile {what} {path} can be changed by other users, so clmwizard does "
                "not trust it.",
                cause=f"Its permissions are {stat.filemode(info.st_mode)}; a profile says which "
                "servers get your secret key and tokens, so only you may write it.",
                fix=f"Run `chmod {mode} {path}` and check the profile "
                "(`clmwizard profiles show NAME`) before using it.",
                field="profile",
                code="unsafe_permissions",
            )


def dump_profile_yaml(profile: Profile) -> str:
    """The YAML text of a profile, refusing to produce one that contains a known secret."""
    import yaml

    validate_profile_name(profile.name)
    text = yaml.safe_dump(
        profile_to_dict(profile), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    if redact(text) != text:
        raise ClmWizardError(
            f"Refusing to save profile '{profile.name}': it would contain a secret.",
            cause="A field of the profile holds a value registered as a secret (a key or token).",
            fix="This is a bug in clmwizard; please report it. Nothing was written.",
            code="secret_in_profile",
        )
    return text


def _parse(raw: bytes, path: Path, name: str) -> Profile:
    import yaml

    fix = "Correct the file by hand, or delete it and set the profile up again with `clmwizard`."
    try:
        data: Any = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ClmWizardError(
            f"The profile file {path} is not valid.",
            cause="It is not UTF-8 text.",
            fix=fix,
            code="invalid_profile",
        ) from None
    except RecursionError:
        raise ClmWizardError(
            f"The profile file {path} is not valid YAML.",
            cause="Its lists or mappings are nested too deeply to read.",
            fix=fix,
            code="invalid_profile",
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise ClmWizardError(
            f"The profile file {path} is not valid YAML.",
            cause=f"The YAML parser stopped{where}: {problem}.",
            fix=fix,
            code="invalid_profile",
        ) from None
    profile = profile_from_dict(data, source=str(path))
    if profile.name != name:
        raise ClmWizardError(
            f"The profile file {path} is not valid.",
            cause=f"It says it is profile '{profile.name}', but its file name says '{name}'.",
            fix=f"Set `name: {name}` in the file, or rename the file to {profile.name}{SUFFIX}.",
            field="name",
            code="invalid_profile",
        )
    return profile


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
