"""`clmwizard status`: does it still work? The DocuSign grant, the published connectors, their
connections, the heartbeat flow and its last runs, with what to do for anything not OK.

Never interactive (it runs from cron): the Microsoft sign-in is the cached one, silently.
Exit codes: 0 ok, 6 needs attention, 7 broken (with --all: the worst of all profiles).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from clmwizard.commands.common import CommandOptions, open_secrets
from clmwizard.commands.platform import (
    MicrosoftOptions,
    add_microsoft_arguments,
    settings_for,
    sign_in,
)
from clmwizard.errors import EXIT_OK, ClmWizardError, UsageError
from clmwizard.powerplatform.health import Finding, Health, assess, worst
from clmwizard.powerplatform.rotation_proof import note_proof
from clmwizard.powerplatform.setup import make_apis
from clmwizard.store.profile import SECRET_KEY
from clmwizard.store.profiles import ProfileStore, validate_profile_name

if TYPE_CHECKING:
    from clmwizard.http import ClientFactory
    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.flows import FlowApi
    from clmwizard.powerplatform.health import Verdict
    from clmwizard.store.profile import Profile
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore

EXIT_ATTENTION = 6
EXIT_BROKEN = 7
EXIT_CODES = {"ok": EXIT_OK, "attention": EXIT_ATTENTION, "broken": EXIT_BROKEN}
MARK = {"ok": "✓", "attention": "!", "broken": "✗"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Whether the profile's DocuSign grant, connectors, connections and heartbeat still "
        "work, and what to do when not. Exit 0 ok, 6 needs attention, 7 broken."
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--profile", metavar="NAME", help="profile name")
    which.add_argument("--all", action="store_true", help="every profile")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_microsoft_arguments(parser)


@dataclass(frozen=True)
class StatusOptions(CommandOptions):
    profile: str | None
    all: bool
    format: str
    microsoft: MicrosoftOptions
    ephemeral: bool
    client_factory: ClientFactory

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StatusOptions:
        if not args.all and not args.profile:
            raise UsageError("Give --profile NAME or --all.", field="profile")
        return cls.from_flags(args, microsoft=MicrosoftOptions.from_args(args))


def run(args: argparse.Namespace) -> int:
    options = StatusOptions.from_args(args)
    profiles = ProfileStore()
    unreadable: list[Health] = []
    if options.all:  # one unreadable profile file is a broken profile, not a failed check
        listings = profiles.list()
        loaded = [listing.profile for listing in listings if listing.profile is not None]
        unreadable = [
            _unreadable(listing.name, listing.error)
            for listing in listings
            if listing.profile is None and listing.error is not None
        ]
    else:
        assert options.profile is not None
        loaded = [profiles.load(validate_profile_name(options.profile))]
    secrets = open_secrets(ephemeral=options.ephemeral)
    healths = asyncio.run(_assess_all(options, loaded, secrets)) + unreadable
    healths.sort(key=lambda health: health.profile)
    _remember_proofs(profiles, healths)
    if options.format == "json":
        data = [h.to_json() for h in healths]
        print(json.dumps(data if options.all else data[0], indent=2))
    else:
        for index, health in enumerate(healths):
            if index:
                print()
            for line in render(health):
                print(line)
    verdict: Verdict = worst([h.verdict for h in healths])
    return EXIT_CODES[verdict]


def _remember_proofs(profiles: ProfileStore, healths: list[Health]) -> None:
    """A rotation a run proved stays proven when that run has left the runs list."""
    for health in healths:
        for rotation in health.rotations:
            if rotation.newly_proven and rotation.proven_at is not None:
                with contextlib.suppress(ClmWizardError):  # seen again by the next status
                    profiles.update(
                        health.profile, note_proof(rotation.environment_id, rotation.proven_at)
                    )


def _unreadable(name: str, error: ClmWizardError) -> Health:
    health = Health(name, datetime.now(UTC), None, None)
    health.findings.append(Finding("broken", error.what, error.fix))
    return health


async def _assess_all(
    options: StatusOptions, profiles: list[Profile], secrets: SecretStore
) -> list[Health]:
    return [await _assess(options, profile, secrets) for profile in profiles]


async def _assess(options: StatusOptions, profile: Profile, secrets: SecretStore) -> Health:
    try:
        stored = secrets.get(profile.name, SECRET_KEY)
    except ClmWizardError:
        stored = None
    if not profile.publications:
        return await assess(profile, stored_secret=stored, apis=None)
    settings = settings_for(profile, profile.publications[0], options.microsoft)
    problem: ClmWizardError | None = None
    async with options.client_factory(ca_bundle=settings.ca_bundle) as http:
        try:
            signed = await sign_in(
                http, settings, secrets, profile.name, interactive=False, flow=True
            )
        except ClmWizardError as error:
            signed, problem = None, error
        if signed is None:
            health = await assess(profile, stored_secret=stored, apis=None)
            if problem is not None:
                health.findings.append(Finding("attention", problem.what, problem.fix))
            return health
        pair = make_apis(http, settings, *signed, secrets=secrets, profile=profile.name)
        apis: dict[str, tuple[PowerAppsApi, FlowApi | None]] = {
            record.environment_id: pair for record in profile.publications
        }
        return await assess(profile, stored_secret=stored, apis=apis)


def render(health: Health) -> list[str]:
    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "unknown"

    verdict = health.verdict
    lines = [f"{MARK[verdict]} {health.profile}: {verdict.upper()}"]
    lines.append(
        f"  DocuSign grant: last refreshed {when(health.grant_last_refresh)}; dies unused "
        f"{when(health.grant_dies_at)}"
    )
    for c in health.connectors:
        secret = {True: "current", False: "OLDER", None: "not compared"}[c.secret_current]
        exists = {True: "", False: " — MISSING in Power Automate", None: ""}[c.exists]
        lines.append(
            f"  connector {c.display_name} ({c.key}) in {c.environment_id}: {c.connector_id}"
            f"{exists}; secret {secret}"
        )
        lines.append(f"    redirect URL: {c.redirect_url or 'unknown'}")
        alive = ", kept alive by the heartbeat" if c.kept_alive else ""
        if c.connection_name:
            lines.append(f"    connection: {c.connection_name} — {c.connection_status}{alive}")
        else:
            lines.append("    connection: none yet")
    if not health.connectors:
        lines.append(
            "  connectors: none published (only the DocuSign grant is checked) — "
            f"clmwizard publish --profile {health.profile}, then connect and heartbeat"
        )
    hb = health.heartbeat
    if hb.state != "none":
        every = f", every {hb.every}" if hb.every else ""
        lines.append(f"  heartbeat flow {hb.flow_id}: {hb.state}{every}")
        for run in hb.runs:
            error = (
                f" — {run.error_code}: {run.error_message}".rstrip(": —") if run.error_code else ""
            )
            lines.append(f"    {when(run.start)}  {run.status}{error}")
        if hb.last_result:
            lines.append(f"    last test run: {hb.last_result}")
    else:
        lines.append("  heartbeat flow: none")
    for finding in health.findings:
        if finding.level == "ok" and not finding.todo:
            continue
        lines.append(f"  {MARK[finding.level]} {finding.what}")
        if finding.todo:
            lines.append(f"      → {finding.todo}")
    return lines
