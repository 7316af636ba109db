"""Non-secret profiles as YAML files: `<config dir>/profiles/<name>.yaml`.

Writes are atomic (temp file in the same folder, fsync, rename) and happen under a per-profile
lock file, so a crash never leaves half a profile and two clmwizard processes never lose each
other's updates. Files are 0600 and folders 0700. Secrets never go here: they live in the keyring
(`clmwizard.store.secrets`).
"""

from __future__ import annotations

import builtins
import contextlib
import os
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
    "ProfileListing",
    "ProfileStore",
    "config_dir",
    "profile_from_dict",
    "profile_to_dict",
    "validate_profile_name",
]

CONFIG_DIR_ENV = "CLMWIZARD_CONFIG_DIR"
SUFFIX = ".yaml"
LOCK_SUFFIX = ".lock"
_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600


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
    return ClmWizardError(
        f"There is no profile named '{name}'.",
        cause=f"{path} does not exist.",
        fix=f"Run `clmwizard --profile {name}` (the wizard) or `clmwizard login --profile {name} "
        "…` to create it; `clmwizard profiles` lists the existing ones.",
        field="profile",
        code="profile_not_found",
    )


class ProfileStore:
    """The profile files under one folder (default: `config_dir()/profiles`)."""

    def __init__(self, root: Path | None = None, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT):
        self.root = root if root is not None else config_dir() / "profiles"
        self.lock_timeout = lock_timeout

    def path_for(self, name: str) -> Path:
        return self.root / f"{validate_profile_name(name)}{SUFFIX}"

    def _lock_path(self, name: str) -> Path:
        return self.root / f"{validate_profile_name(name)}{LOCK_SUFFIX}"

    def exists(self, name: str) -> bool:
        return self.path_for(name).is_file()

    def _ensure_root(self) -> None:
        missing = [p for p in (self.root, *self.root.parents) if not p.exists()]
        self.root.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
        for folder in missing:  # mkdir's mode is filtered by the umask
            with contextlib.suppress(OSError):
                folder.chmod(_PRIVATE_DIR)
        if sys.platform != "win32":
            self.root.chmod(_PRIVATE_DIR)

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        self._ensure_root()
        with file_lock(self._lock_path(name), what=f"Profile '{name}'", timeout=self.lock_timeout):
            yield

    # --- reading -------------------------------------------------------------------------

    def load(self, name: str) -> Profile:
        path = self.path_for(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise _not_found(name, path) from None
        except OSError as error:
            raise ClmWizardError(
                f"The profile file {path} could not be read.",
                cause=f"{error.strerror or error}.",
                fix="Check the file's permissions (it should belong to you, mode 600).",
                code="unreadable_profile",
            ) from error
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
        with self._locked(name):
            if not path.is_file():
                raise _not_found(name, path)
            if secrets is not None:
                secrets.delete_profile(name)
            path.unlink()
            _fsync_folder(self.root)
            with contextlib.suppress(OSError):
                self._lock_path(name).unlink()

    def _write(self, profile: Profile) -> None:
        path = self.path_for(profile.name)
        text = dump_profile_yaml(profile)
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=f".{profile.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                if sys.platform != "win32":
                    os.fchmod(handle.fileno(), _PRIVATE_FILE)
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        _fsync_folder(self.root)


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
