"""`clmwizard rotate`: prove a new secret key with a refresh, then replace the stored one."""

from __future__ import annotations

import argparse
import asyncio

from clmwizard.commands.login import read_secret
from clmwizard.docusign.session import rotate_secret
from clmwizard.store.profiles import ProfileStore, validate_profile_name
from clmwizard.store.secrets import open_secret_store


def run(args: argparse.Namespace) -> int:
    name = validate_profile_name(args.profile)
    profiles = ProfileStore()
    profile = profiles.load(name)
    secrets = open_secret_store(ephemeral=bool(getattr(args, "ephemeral", False)))
    new_secret = read_secret(args, "New secret key (hidden): ", profile.integration_key)

    async def rotate() -> None:
        async with args.client_factory() as client:
            await rotate_secret(
                name,
                new_secret,
                profiles,
                secrets,
                client=client,
                trust_server=bool(getattr(args, "trust_server", False)),
            )

    asyncio.run(rotate())
    print(f"✓ The new secret key works: DocuSign accepted it for a refresh. Stored for {name}.")
    print("Now:")
    print(
        "  1. In Power Automate, open each CLM connector (general, upload, download) → Edit → "
        "Security tab → Client secret: paste the new secret key and Update connector."
    )
    print(
        "  2. In DocuSign, Apps and Keys → your app → Secret Keys: delete the old secret key "
        "once every integration uses the new one."
    )
    print(f"  (clmwizard credentials --profile {name} --copy secret_key copies it.)")
    return 0
