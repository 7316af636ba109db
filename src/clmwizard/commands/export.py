"""`clmwizard export`: write the connector bundle that paconn and pac import."""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clmwizard.commands.common import (
    CommandOptions,
    add_allow_host,
    add_connector_name,
    add_layout,
    add_profile,
    open_profile,
)
from clmwizard.connector.bundle import ExportResult, Layout, export_bundle
from clmwizard.connector.readme import ENVIRONMENT_VARIABLE, SECRET_VARIABLE, paconn_create
from clmwizard.connector.swagger import check_connector_name, connector_name
from clmwizard.docusign.hosts import host_key, untrusted_hosts
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import ExportRecord, Profile, profile_layout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile(parser)
    parser.add_argument("--out", required=True, metavar="DIR")
    add_layout(parser)
    add_connector_name(parser)
    parser.add_argument("--force", action="store_true", help="replace a non-empty folder")
    add_allow_host(parser)


@dataclass(frozen=True)
class ExportOptions(CommandOptions):
    profile: str
    out: Path
    layout: Layout | None
    name: str | None
    force: bool
    allow_hosts: list[str]

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ExportOptions:
        allow_hosts = list(args.allow_host)
        return cls.from_flags(args, out=Path(args.out).expanduser(), allow_hosts=allow_hosts)


def next_steps(profile: Profile, result: ExportResult) -> str:
    first = shlex.quote(str(result.out_dir / result.connectors[0]))
    plural = "s" if len(result.connectors) > 1 else ""
    return "\n".join(
        [
            "Next steps (all in README.md):",
            f"  1. Create the connector{plural} with paconn, one command per folder, e.g.:",
            f"       {paconn_create(first)}",
            f"     with {ENVIRONMENT_VARIABLE} set to the Power Platform environment id and "
            f"{SECRET_VARIABLE} to the secret key from "
            f"`clmwizard credentials --profile {profile.name} --copy secret_key`.",
            "  2. In Power Automate, open each connector's Security tab, copy its Redirect URL "
            "and add it to your integration key's redirect URIs in DocuSign (Apps and Keys).",
            "  3. Test with a flow, then add the daily heartbeat flow so the connection never "
            "goes stale.",
            f"Or let clmwizard do all three: `clmwizard publish --profile {profile.name}`, then "
            f"`clmwizard connect --profile {profile.name}` and "
            f"`clmwizard heartbeat --profile {profile.name}`.",
        ]
    )


LAYOUT_LINES: dict[Layout, str] = {
    "single": "Layout: one connector — one redirect URL to register, one sign-in per user "
    "(--layout three makes three).",
    "three": "Layout: three connectors, one per CLM host — three redirect URLs to register, "
    "three sign-ins per user (--layout single makes one).",
}


def choose_layout_and_name(chosen: Layout | None, name: str | None, profile: Profile) -> Layout:
    """--layout and --name, else the profile's: set on `profile` (the caller saves it)."""
    if name is not None:
        profile.connector_name = check_connector_name(name)
    layout = chosen or profile_layout(profile)
    if chosen is not None:
        profile.layout = chosen
    return layout


def layout_line(profile: Profile, layout: Layout) -> str:
    """The layout in one line with its cost, and the connectors' name."""
    return f"{LAYOUT_LINES[layout]} Name: {connector_name(profile)}."


def run(args: argparse.Namespace) -> int:
    options = ExportOptions.from_args(args)
    _, store, profile = open_profile(options.profile)
    out_dir, allowed = options.out, options.allow_hosts
    layout = choose_layout_and_name(options.layout, options.name, profile)
    result = export_bundle(
        profile, out_dir, layout=layout, force=options.force, allow_hosts=allowed
    )
    sys.stdout.write(f"✓ Wrote {len(result.files)} files to {result.out_dir}\n")
    sys.stdout.write(layout_line(profile, layout) + "\n")
    for path in result.files:
        sys.stdout.write(f"    {path.relative_to(result.out_dir)}\n")
    for note in result.notes:
        sys.stdout.write(f"  {note}\n")
    record = ExportRecord(path=str(out_dir.resolve()), layout=layout, at=datetime.now(UTC))

    def record_export(stored: Profile) -> None:
        stored.exports.append(record)
        stored.layout, stored.connector_name = profile.layout, profile.connector_name
        if stored.clm_hosts is not None:  # the hosts confirmed with --allow-host, for next time
            confirmed = {h.host for h in untrusted_hosts(stored.clm_hosts)} & {
                host_key(host) for host in allowed
            }
            stored.confirmed_hosts = sorted(set(stored.confirmed_hosts) | confirmed)

    try:
        store.update(profile.name, record_export)
    except ClmWizardError as error:
        details = "".join(f"\n  {part}" for part in (error.cause, error.fix) if part)
        sys.stderr.write(
            f"! The bundle is written and complete, but the profile was not updated (it does "
            f"not list this export): {error.what}{details}\n"
        )
    sys.stdout.write("\n" + next_steps(profile, result) + "\n")
    return 0
