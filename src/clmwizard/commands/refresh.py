"""`clmwizard refresh`: the heartbeat. Refresh now, store the new tokens, print the expiry."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clmwizard.closing import left_by_hand
from clmwizard.commands.common import (
    CommandOptions,
    add_profile,
    add_trust_server,
    open_profile,
    open_secrets,
    stamp,
)

if TYPE_CHECKING:
    from clmwizard.docusign.session import RefreshResult
    from clmwizard.http import ClientFactory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile(parser)
    add_trust_server(parser)


@dataclass(frozen=True)
class RefreshOptions(CommandOptions):
    profile: str
    trust_server: bool
    ephemeral: bool
    client_factory: ClientFactory


def run(args: argparse.Namespace) -> int:
    from clmwizard.docusign.session import refresh_profile

    options = RefreshOptions.from_args(args)
    name, profiles, _ = open_profile(options.profile)
    secrets = open_secrets(ephemeral=options.ephemeral)

    async def refresh() -> RefreshResult:
        async with options.client_factory() as client:
            return await refresh_profile(
                name, profiles, secrets, client=client, trust_server=options.trust_server
            )

    result = asyncio.run(refresh())
    profile = result.profile
    print(
        f"✓ Refreshed {name}: DocuSign issued a new refresh token "
        f"(stored in: {secrets.description})."
    )
    print(f"  Access token until   {stamp(result.access_expires_at)}")
    if "extended" in profile.scopes:
        print(
            f"  Refresh token until  about {stamp(result.refresh_expires_at)} "
            "(renewed by every refresh)"
        )
    else:
        print(
            f"  Refresh token until  about {stamp(result.refresh_expires_at)}: fixed, because "
            "the scopes lack `extended`; refreshing does not extend it. Consent again with "
            "`extended` to keep the grant alive."
        )
    for line in left_by_hand(profile):
        print(line)
    return 0
