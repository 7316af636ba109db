"""What an export may replace or remove: only what clmwizard itself wrote.

A bundle carries a mark file listing the files written. A folder is replaceable only when it is
clmwizard's own bundle: marked (and holding nothing the mark does not list), or written by the
version before the mark (holding only that version's known files). The working folder, any
folder above it and the home folder are never replaced, whatever they hold. Staging and
set-aside folders an interrupted export left beside the bundle are recognised by name and
content and cleaned up; paconn's `connectorId` and `environment` are kept across a re-export.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clmwizard.connector.properties import (
    API_DEFINITION_FILE,
    API_PROPERTIES_FILE,
    ICON_FILE,
    SETTINGS_FILE,
)
from clmwizard.connector.readme import SINGLE_FOLDER
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import CONNECTOR_NAMES

MARK_FILE = ".clmwizard-bundle.json"
MARK_VERSION = 1
README_FILE = "README.md"
CONNECTOR_FILES = (API_DEFINITION_FILE, API_PROPERTIES_FILE, ICON_FILE, SETTINGS_FILE)
BUNDLE_FOLDERS: tuple[str, ...] = (*CONNECTOR_NAMES, SINGLE_FOLDER)
# Every path a bundle of any clmwizard version holds. A `settings.json` at the top is paconn's:
# the previous README ran `paconn create` from the bundle's top folder, which writes it there.
KNOWN_FILES = frozenset(
    {README_FILE, MARK_FILE, SETTINGS_FILE}
    | {f"{folder}/{name}" for folder in BUNDLE_FOLDERS for name in CONNECTOR_FILES}
)
KNOWN_FOLDERS = frozenset(BUNDLE_FOLDERS)
MAX_ENTRIES = 200  # a bundle holds about 15; a folder with far more is not one
MAX_SMALL_FILE = 256 * 1024  # mark and settings.json are a few hundred bytes
# What tempfile.mkdtemp puts after the prefix (8 characters of this alphabet).
_LEFTOVER = r"\.(?P<kind>new|old)-[a-z0-9_]{8}"
_CONNECTOR_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
KEPT_SETTINGS = ("connectorId", "environment")


def _refusal(what: str, fix: str, code: str, cause: str = "") -> ClmWizardError:
    return ClmWizardError(what, cause=cause, fix=fix, field="out", code=code)


@dataclass(frozen=True)
class Contents:
    """A folder's entries, read without following symbolic links."""

    files: frozenset[str] = frozenset()
    folders: frozenset[str] = frozenset()
    other: frozenset[str] = frozenset()  # symbolic links, sockets, devices
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not (self.files or self.folders or self.other)

    def strangers(self, allowed: frozenset[str]) -> list[str]:
        """Entries that are not in `allowed` (files) or KNOWN_FOLDERS (folders)."""
        extra = [name for name in self.files if name not in allowed]
        extra += [f"{name}/" for name in self.folders if name not in KNOWN_FOLDERS]
        extra += [f"{name} (a link or special file)" for name in self.other]
        return sorted(extra)


def read_contents(folder: Path) -> Contents:
    files: set[str] = set()
    folders: set[str] = set()
    other: set[str] = set()
    count = 0
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(folder / relative if relative else folder) as entries:
            for entry in entries:
                count += 1
                if count > MAX_ENTRIES:
                    return Contents(frozenset(files), frozenset(folders), frozenset(other), True)
                name = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_symlink():
                    other.add(name)
                elif entry.is_dir(follow_symlinks=False):
                    folders.add(name)
                    pending.append(name)
                elif entry.is_file(follow_symlinks=False):
                    files.add(name)
                else:
                    other.add(name)
    return Contents(frozenset(files), frozenset(folders), frozenset(other))


def _read_small_json(path: Path) -> Any:
    """The JSON in a regular file of at most MAX_SMALL_FILE bytes, or None."""
    flags = os.O_RDONLY
    if sys.platform != "win32":
        flags |= os.O_NOFOLLOW
    try:
        if path.is_symlink():  # O_NOFOLLOW's job where there is no O_NOFOLLOW
            return None
        descriptor = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(MAX_SMALL_FILE + 1)
    if len(data) > MAX_SMALL_FILE:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def mark_bytes(files: Mapping[str, bytes]) -> bytes:
    """The mark written into every bundle: who wrote it and which files."""
    document = {
        "written_by": "clmwizard",
        "version": MARK_VERSION,
        "files": sorted(name for name in files if name != MARK_FILE),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _marked_files(folder: Path) -> frozenset[str] | None:
    """The files the mark lists, or None when there is no valid mark."""
    document = _read_small_json(folder / MARK_FILE)
    if not isinstance(document, dict) or document.get("written_by") != "clmwizard":
        return None
    listed = document.get("files")
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        return None
    if not set(listed) <= KNOWN_FILES:  # never trust a mark to name other files
        return None
    return frozenset(listed)


@dataclass(frozen=True)
class Existing:
    """What the export folder holds now."""

    path: Path
    contents: Contents = field(default_factory=Contents)
    owned: bool = False  # clmwizard's own bundle: may be replaced with --force
    found: str = ""  # in plain words, for messages

    @property
    def absent_or_empty(self) -> bool:
        return self.contents.empty


def _same_or_above(path: Path, other: Path) -> bool:
    return other == path or path in other.parents


def guard_location(out_dir: Path) -> None:
    """Refuse the working folder, a folder above it and the home folder, even when empty."""
    target = out_dir.resolve()
    with contextlib.suppress(OSError):
        cwd = Path.cwd().resolve()
        if _same_or_above(target, cwd):
            here = "the current folder" if target == cwd else "a folder above the current one"
            raise _refusal(
                f"{out_dir} is {here}; clmwizard will not write a bundle over it.",
                "Choose a new folder for the bundle, e.g. --out ./<profile>-connector.",
                "out_protected",
                cause="Replacing it would remove everything in it, the folder you are "
                "working in included.",
            )
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        home = Path.home().resolve()
        if target == home:
            raise _refusal(
                f"{out_dir} is your home folder; clmwizard will not write a bundle over it.",
                "Choose a new folder for the bundle, e.g. --out ~/<profile>-connector.",
                "out_protected",
            )


def inspect(out_dir: Path) -> Existing:
    """What `out_dir` holds and whether it is clmwizard's own bundle."""
    try:  # one look: another export may swap the folder between two
        mode = out_dir.lstat().st_mode
    except FileNotFoundError:
        return Existing(out_dir, found="nothing (a new folder)")
    if stat.S_ISLNK(mode):
        raise _refusal(
            f"{out_dir} is a symbolic link; clmwizard does not write through links.",
            "Choose another --out folder, or the folder the link points to.",
            "out_not_a_folder",
        )
    if not stat.S_ISDIR(mode):
        raise _refusal(
            f"{out_dir} exists and is not a folder.",
            "Choose another --out folder.",
            "out_not_a_folder",
        )
    contents = read_contents(out_dir)
    if contents.empty:
        return Existing(out_dir, contents, found="an empty folder")
    if contents.truncated:
        return Existing(out_dir, contents, found=f"more than {MAX_ENTRIES} entries")
    marked = _marked_files(out_dir)
    if marked is not None:
        allowed = marked | {MARK_FILE, SETTINGS_FILE}
        strangers = contents.strangers(allowed)
        if strangers:
            return Existing(out_dir, contents, found=_strangers_text(strangers, marked=True))
        return Existing(out_dir, contents, True, "a connector bundle clmwizard wrote")
    if MARK_FILE in contents.files:
        return Existing(
            out_dir,
            contents,
            found=f"a {MARK_FILE} that clmwizard cannot read or that names files no bundle has",
        )
    strangers = contents.strangers(KNOWN_FILES - {MARK_FILE})
    has_connector = any(
        f"{folder}/{API_DEFINITION_FILE}" in contents.files for folder in BUNDLE_FOLDERS
    )
    if strangers or README_FILE not in contents.files or not has_connector:
        return Existing(out_dir, contents, found=_strangers_text(strangers, marked=False))
    return Existing(
        out_dir, contents, True, "a connector bundle an earlier clmwizard wrote (no mark file)"
    )


def _strangers_text(strangers: list[str], *, marked: bool) -> str:
    if not strangers:
        return "files, but not a complete clmwizard bundle (no README.md or connector folder)"
    shown = ", ".join(strangers[:5]) + (
        f" and {len(strangers) - 5} more" if len(strangers) > 5 else ""
    )
    whose = "clmwizard's bundle plus " if marked else ""
    return f"{whose}files clmwizard did not write: {shown}"


def check_replaceable(existing: Existing, *, force: bool) -> None:
    """Raise unless the export may write into (or, with `force`, replace) this folder."""
    if existing.absent_or_empty:
        return
    if not existing.owned:
        raise _refusal(
            f"{existing.path} holds {existing.found}; clmwizard will not replace it.",
            "Choose a new or empty folder for the bundle: clmwizard replaces (--force, or "
            "Replace in the wizard) only a bundle it wrote itself.",
            "out_not_ours",
        )
    if not force:
        raise _refusal(
            f"{existing.path} is not empty: it holds {existing.found}.",
            "Choose an empty or new folder, or add --force to replace it.",
            "out_not_empty",
        )


def _settings_values(document: Any) -> dict[str, str]:
    if not isinstance(document, dict):
        return {}
    kept: dict[str, str] = {}
    for key, pattern in (("connectorId", _CONNECTOR_ID), ("environment", _ENVIRONMENT)):
        value = document.get(key)
        if isinstance(value, str) and pattern.match(value):
            kept[key] = value
    return kept


def kept_settings(existing: Existing) -> dict[str, dict[str, str]]:
    """Folder → the connectorId and environment paconn wrote into its settings.json.

    A top-level settings.json (paconn run from the bundle's folder) counts for the connector
    folder its `apiDefinition` names, unless that folder has its own.
    """
    if not existing.owned:
        return {}
    kept: dict[str, dict[str, str]] = {}
    for folder in BUNDLE_FOLDERS:
        name = f"{folder}/{SETTINGS_FILE}"
        if name in existing.contents.files:
            values = _settings_values(_read_small_json(existing.path / name))
            if values:
                kept[folder] = values
    if SETTINGS_FILE in existing.contents.files:
        document = _read_small_json(existing.path / SETTINGS_FILE)
        definition = document.get("apiDefinition") if isinstance(document, dict) else None
        if isinstance(definition, str):
            folder = Path(definition.replace("\\", "/")).parent.as_posix().removeprefix("./")
            values = _settings_values(document)
            if folder in BUNDLE_FOLDERS and values and folder not in kept:
                kept[folder] = values
    return kept


def carry_over(existing: Existing, files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The files to write: `files`, each settings.json keeping paconn's ids, the top-level
    settings.json paconn wrote kept as it was, and the mark."""
    out = dict(files)
    for folder, values in kept_settings(existing).items():
        name = f"{folder}/{SETTINGS_FILE}"
        if name not in out:
            continue
        document = json.loads(out[name])
        document.update(values)
        out[name] = (json.dumps(document, indent=2, ensure_ascii=True) + "\n").encode("utf-8")
    if existing.owned and SETTINGS_FILE in existing.contents.files and SETTINGS_FILE not in out:
        top = existing.path / SETTINGS_FILE
        if top.stat().st_size <= MAX_SMALL_FILE:
            out[SETTINGS_FILE] = top.read_bytes()
    out[MARK_FILE] = mark_bytes(out)
    return out


# -- leftovers of an interrupted export -----------------------------------------------------


@contextlib.contextmanager
def held(folder: Path) -> Iterator[None]:
    """Hold a lock on `folder` so another export's clean-up leaves it alone while in use.

    Raises FileNotFoundError when, while this waited, another export moved that folder away
    (and maybe put its own bundle at the path): the lock would guard a folder no longer there.
    """
    if sys.platform == "win32":  # no folder locks there: clean-up then leaves leftovers alone
        yield
        return
    import fcntl

    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        locked = os.fstat(descriptor)
        try:
            now = os.lstat(folder)
        except FileNotFoundError:
            now = None
        if now is None or (now.st_dev, now.st_ino) != (locked.st_dev, locked.st_ino):
            raise FileNotFoundError(
                errno.ENOENT, "Another export replaced the folder meanwhile", str(folder)
            )
        yield
    finally:
        os.close(descriptor)


def _in_use(folder: Path) -> bool:
    if sys.platform == "win32":
        return True  # cannot tell without folder locks: never remove what may be in use
    import fcntl

    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)
    return False


def only_bundle_files(folder: Path) -> bool:
    contents = read_contents(folder)
    return not contents.truncated and not contents.strangers(KNOWN_FILES)


def leftovers(out_dir: Path) -> list[tuple[str, Path]]:
    """(kind "new" or "old", path) of the staging and set-aside folders beside `out_dir` that an
    interrupted export left: named as clmwizard names them, holding only bundle files, not in use
    by a running export."""
    pattern = re.compile(re.escape(f".{out_dir.name}") + _LEFTOVER)
    found: list[tuple[str, Path]] = []
    try:
        entries = list(os.scandir(out_dir.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if only_bundle_files(path) and not _in_use(path):
            found.append((match["kind"], path))
    return sorted(found, key=lambda item: _mtime(item[1]))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
