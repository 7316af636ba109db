"""`clmwizard heartbeat`: create or update the profile's heartbeat flow (a Recurrence trigger
and List attribute groups through the connection), turn it on, run it once now and show what
CLM answered — the connector's end-to-end test. `--off` stops it."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from clmwizard.commands.common import say
from clmwizard.commands.platform import (
    LiveLine,
    PublicationOptions,
    add_publication_arguments,
    add_wait_arguments,
    run_on_publication,
    settings_for,
    sign_in,
)
from clmwizard.errors import EXIT_OK
from clmwizard.powerplatform.flows import parse_every
from clmwizard.powerplatform.heartbeat import heartbeat_target, kept_alive_lines, run_once, set_up
from clmwizard.powerplatform.records import find_record
from clmwizard.powerplatform.rotation_proof import (
    delete_old_secret,
    keep_old_secret,
    pending,
    proof_due,
)
from clmwizard.powerplatform.setup import make_apis, remember_user_sign_in

if TYPE_CHECKING:
    from clmwizard.powerplatform.flows import Schedule
    from clmwizard.powerplatform.heartbeat import HeartbeatTarget
    from clmwizard.store.profile import Profile
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore

EXIT_RUN_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Create or update the profile's heartbeat flow (Recurrence + List attribute groups "
        "through the connection), turn it on, run it once now and print what CLM answered."
    )
    add_publication_arguments(parser)
    parser.add_argument(
        "--every", default="1d", metavar="N{m,h,d,w}", help="how often it runs (default 1d)"
    )
    parser.add_argument("--off", action="store_true", help="turn the heartbeat flow off")
    add_wait_arguments(parser, "seconds to wait for the run")


@dataclass(frozen=True)
class HeartbeatOptions(PublicationOptions):
    schedule: Schedule
    off: bool

    @classmethod
    def from_flags(cls, args: argparse.Namespace, **given: Any) -> Self:
        return super().from_flags(args, schedule=parse_every(args.every), **given)


def run(args: argparse.Namespace) -> int:
    options = HeartbeatOptions.from_args(args)
    return run_on_publication(options, "heartbeat", heartbeat_target, _heartbeat)


async def _heartbeat(
    options: HeartbeatOptions,
    profile: Profile,
    profiles: ProfileStore,
    secrets: SecretStore,
    target: HeartbeatTarget,
) -> int:
    settings = settings_for(profile, target.record, options.microsoft)
    on = not options.off
    env = target.environment_id

    async with options.client_factory(ca_bundle=settings.ca_bundle) as http:
        signed = await sign_in(http, settings, secrets, profile.name, interactive=True, flow=True)
        assert signed is not None and signed[1] is not None
        await asyncio.to_thread(remember_user_sign_in, profiles, profile.name, settings)
        _, flows = make_apis(http, settings, *signed, secrets=secrets, profile=profile.name)
        assert flows is not None
        outcome = await set_up(
            flows, profiles, profile, target, options.schedule, on=on, flow_url=settings.flow_url
        )
        flow_id, done = outcome.flow_id, "created" if outcome.created else "updated"
        if options.off:
            say(f"✓ Heartbeat flow {flow_id} {done} and turned OFF.")
            say(
                "  Without it the connection's DocuSign sign-in dies after 30 days unused; "
                f"turn it on again with `clmwizard heartbeat --profile {profile.name}`."
            )
            return EXIT_OK
        say(f"✓ Heartbeat flow {flow_id} {done}, on, {options.schedule.words}.")
        for line in kept_alive_lines(target, profile.name):
            say(f"  {line}")
        with LiveLine(
            "Waiting for the heartbeat's test run",
            options.timeout,
            hint="  Still running: Power Automate queues runs; it goes on without clmwizard "
            "(`clmwizard status` shows it later).",
        ) as live:
            run_ = await run_once(
                flows,
                profiles,
                target,
                outcome,
                profile_name=profile.name,
                flow_url=settings.flow_url,
                timeout=options.timeout,
                poll=options.poll_seconds,
                tick=live.tick,
            )
    if outcome.succeeded:
        say(f"✓ Test run {run_.run_id} succeeded: CLM answered {outcome.result}.")
        _say_rotation(await asyncio.to_thread(profiles.load, profile.name), env)
        say(f"  `clmwizard status --profile {profile.name}` checks it all at any time.")
        return EXIT_OK
    say(f"✗ Test run {run_.run_id} {run_.status.lower()}: {outcome.result}.")
    return EXIT_RUN_FAILED


def _say_rotation(profile: Profile, environment_id: str) -> None:
    """After a succeeded run: whether it proved a secret rotation (the old secret may go)."""
    record = find_record(profile, environment_id)
    if record is None or record.secret_rotated_at is None:
        return
    due = proof_due(record)
    if pending(record) and due is not None:
        say(f"  ! {keep_old_secret(due)}")
    elif record.heartbeat and record.heartbeat.last_run_at == record.rotation_proven_at:
        say(f"  ✓ This run came after the secret rotation's 8 hours. {delete_old_secret()}")
