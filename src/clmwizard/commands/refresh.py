"""`clmwizard refresh`: the heartbeat. Refresh now, store the new tokens, print the expiry."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from clmwizard.closing import left_by_hand
from clmwizard.docusign.session import RefreshResult, refresh_profile
from clmwizard.store.profiles import ProfileStore, validate_profile_name
from clmwizard.store.secrets import open_secret_store


def _stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def run(args: argparse.Namespace) -> int:
    name = validate_profile_name(args.profile)
    profiles = ProfileStore()
    profiles.load(name)  # a missing profile fails before the keyring is touched
    secrets = open_secret_store(ephemeral=bool(getattr(args, "ephemeral", False)))

    async def refresh() -> RefreshResult:
        async with args.client_factory() as client:
            return await refresh_profile(
                name,
                profiles,
                secrets,
                client=client,
                trust_server=bool(getattr(args, "trust_server", False)),
            )

    result = asyncio.run(refresh())
    profile = result.profile
    print(
        f"✓ Refreshed {name}: DocuSign issued a new refresh token "
        f"(stored in: {secrets.description})."
    )
    print(f"  Access token until   {_stamp(result.access_expires_at)}")
    if "extended" in profile.scopes:
        print(
            f"  Refresh token until  about {_stamp(result.refresh_expires_at)} "
            "(renewed by every refresh)"
        )
    else:
        print(
            f"  Refresh token until  about {_stamp(result.refresh_expires_at)}: fixed, because "
            "the scopes lack `extended`; refreshing does not extend it. Consent again with "
            "`extended` to keep the grant alive."
        )
    for line in left_by_hand(profile):
        print(line)
    return 0
