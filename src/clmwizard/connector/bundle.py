"""Build the connector bundle paconn and pac import, check it, and write it atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clmwizard.connector import ownership
from clmwizard.connector.icon import icon_png
from clmwizard.connector.operations import OPERATIONS, operations_for
from clmwizard.connector.properties import (
    API_DEFINITION_FILE,
    API_PROPERTIES_FILE,
    ICON_BRAND_COLOR,
    ICON_FILE,
    SETTINGS_FILE,
    build_api_properties,
    build_settings,
)
from clmwizard.connector.readme import SINGLE_FOLDER, render_readme
from clmwizard.connector.swagger import build_swagger
from clmwizard.connector.validate import validate_bundle
from clmwizard.errors import ClmWizardError, first_few
from clmwizard.store.profile import CONNECTOR_NAMES, ConnectorName, Profile
from clmwizard.store.profile import LAYOUTS as LAYOUTS
from clmwizard.store.profile import Layout as Layout

README_FILE = "README.md"


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    layout: str
    files: tuple[Path, ...]
    connectors: tuple[str, ...]
    notes: tuple[str, ...] = ()


def json_bytes(document: Any) -> bytes:
    """UTF-8 without BOM, two-space indent, trailing newline; plain ASCII (other characters
    escaped), because paconn reads apiProperties.json in the system's encoding."""
    return (json.dumps(document, indent=2, ensure_ascii=True) + "\n").encode("utf-8")


def _folder(
    profile: Profile, folder: str, swagger: dict[str, Any], properties: dict[str, Any]
) -> dict[str, bytes]:
    return {
        f"{folder}/{API_DEFINITION_FILE}": json_bytes(swagger),
        f"{folder}/{API_PROPERTIES_FILE}": json_bytes(properties),
        f"{folder}/{SETTINGS_FILE}": json_bytes(build_settings()),
        f"{folder}/{ICON_FILE}": icon_png(ICON_BRAND_COLOR),
    }


def build_bundle(profile: Profile, layout: Layout = "three") -> dict[str, bytes]:
    """Relative path → bytes, the same bytes for the same profile; raises if a check fails."""
    if layout not in LAYOUTS:
        raise ClmWizardError(
            f"Unknown layout {layout!r}.", fix="Use three or single.", field="layout"
        )
    files: dict[str, bytes] = {}
    if layout == "three":
        for connector in CONNECTOR_NAMES:
            files.update(
                _folder(
                    profile,
                    connector,
                    build_swagger(profile, connector),
                    build_api_properties(profile, operations=operations_for(connector)),
                )
            )
    else:
        routed: list[tuple[ConnectorName, Any]] = [
            ("upload", operations_for("upload")),
            ("download", operations_for("download")),
        ]
        files.update(
            _folder(
                profile,
                SINGLE_FOLDER,
                build_swagger(profile, None),
                build_api_properties(profile, routed, OPERATIONS),
            )
        )
    files[README_FILE] = render_readme(profile, layout).encode("utf-8")
    problems = validate_bundle(files)
    if problems:
        first = problems[0]
        raise ClmWizardError(
            f"The connector bundle failed its checks: {first}.",
            cause=f"Problems: {first_few(problems, 5)}.",
            fix="Check the profile's CLM base URLs and scopes (`clmwizard profiles show "
            f"{profile.name}`); if they look right, this is a bug in clmwizard.",
            field=f"{first.file}{first.pointer}",
        )
    return files


def default_export_dir(profile: Profile) -> Path:
    return Path.cwd() / f"{profile.name}-connector"


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _clean_leftovers(out_dir: Path, *, force: bool) -> list[str]:
    """Put back the bundle an interrupted export had set aside (when nothing took its place),
    then remove the other staging and set-aside folders it left. Returns what was done.

    Nothing is touched unless the folder the export then writes to (the one put back, if any)
    may be replaced (raises like check_target)."""
    notes = []
    found = ownership.leftovers(out_dir)
    asides = [path for kind, path in found if kind == "old"]
    restore = asides[-1] if asides and not out_dir.exists() and not out_dir.is_symlink() else None
    if restore is not None:
        existing = ownership.inspect(restore)
        found_there = f"{existing.found}, set aside as {restore.name} by an interrupted export"
        ownership.check_replaceable(
            dataclasses.replace(existing, path=out_dir, found=found_there), force=force
        )
    else:
        check_target(out_dir, force=force)
    if restore is not None:
        os.rename(restore, out_dir)
        found = [(kind, path) for kind, path in found if path != restore]
        notes.append(f"Put back {out_dir.name}, which an interrupted export had set aside.")
    for _, path in found:
        shutil.rmtree(path)
    if found:
        notes.append(
            f"Removed {len(found)} unfinished folder{'s' if len(found) > 1 else ''} an "
            "interrupted export had left beside it."
        )
    return notes


def check_target(out_dir: Path, *, force: bool) -> ownership.Existing:
    """What `out_dir` holds; raises unless the export may write there (see ownership)."""
    ownership.guard_location(out_dir)
    existing = ownership.inspect(out_dir)
    ownership.check_replaceable(existing, force=force)
    return existing


def write_files(files: Mapping[str, bytes], out_dir: Path, *, force: bool = False) -> list[str]:
    """Write into a temporary folder beside `out_dir`, then rename it into place.

    An interruption leaves `out_dir` as it was; what an interrupted export left beside it is
    cleaned up only once `out_dir` may be written. With `force`, an existing folder is replaced
    only when it is clmwizard's own bundle; it is moved aside and removed only after the new
    one is in place. paconn's ids in its settings.json files are kept. Returns notes for the
    user (leftovers cleaned up, an old folder kept).
    """
    out_dir = out_dir.absolute()
    ownership.guard_location(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    notes = _clean_leftovers(out_dir, force=force)
    existing = check_target(out_dir, force=force)
    files = ownership.carry_over(existing, files)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    aside: Path | None = None
    # Locks on the staging folder and the old bundle, held to the end so that another export's
    # clean-up never takes either for an interrupted export's leftover.
    with contextlib.ExitStack() as locks:
        try:
            locks.enter_context(ownership.held(staging))
            for relative, data in sorted(files.items()):
                _write_file(staging / relative, data)
            if out_dir.exists():
                locks.enter_context(ownership.held(out_dir))
                aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
                aside.rmdir()
                os.rename(out_dir, aside)
            try:
                os.rename(staging, out_dir)
            except BaseException:
                if aside is not None:
                    os.rename(aside, out_dir)
                    aside = None
                raise
        except BaseException:
            if staging.exists() and ownership.only_bundle_files(staging):
                shutil.rmtree(staging, ignore_errors=True)
            raise
        if aside is not None:
            if ownership.inspect(aside).owned:
                shutil.rmtree(aside, ignore_errors=True)
            else:  # something was added while the new bundle was written: keep it all
                notes.append(f"Kept the previous folder as {aside}: it changed during the export.")
    return notes


def export_bundle(
    profile: Profile,
    out_dir: Path,
    *,
    layout: Layout = "three",
    force: bool = False,
    allow_hosts: Iterable[str] = (),
) -> ExportResult:
    """Build, check and write the bundle; returns what was written.

    CLM hosts outside DocuSign's domains must be among the profile's `confirmed_hosts` or
    `allow_hosts` (else a UsageError, nothing written); the README names them.
    """
    from clmwizard.docusign.hosts import host_key, unconfirmed_error, unconfirmed_hosts

    if profile.clm_hosts is not None:
        allowed = [*profile.confirmed_hosts, *allow_hosts]
        unconfirmed = unconfirmed_hosts(profile.clm_hosts, allowed)
        if unconfirmed:
            raise unconfirmed_error(
                unconfirmed,
                doing="exporting",
                retry=f"clmwizard export --profile {profile.name} --out {out_dir}",
            )
        confirmed = sorted({host_key(host) for host in allowed})
        profile = dataclasses.replace(profile, confirmed_hosts=confirmed)
    try:  # another export may swap the folder while this one reads it: said as a failed write
        check_target(out_dir, force=force)
        files = build_bundle(profile, layout)
        notes = write_files(files, out_dir, force=force)
    except OSError as error:
        raise ClmWizardError(
            f"Could not write the connector bundle to {out_dir}.",
            cause=f"{error.strerror or error}.",
            fix="Check that the folder is writable and the disk is not full, then try again; "
            "nothing was left half-written.",
            field="out",
            code="write_failed",
        ) from error
    connectors = (SINGLE_FOLDER,) if layout == "single" else tuple(CONNECTOR_NAMES)
    return ExportResult(
        out_dir=out_dir,
        layout=layout,
        files=tuple(out_dir / relative for relative in sorted(files)),
        connectors=connectors,
        notes=tuple(notes),
    )
