"""`clmwizard jwt`: JWT Grant with the profile's integration user and RSA key.

0 when DocuSign issues a token, 3 with the consent address when consent is missing, other exit
codes as for `refresh`. On a terminal it offers to check again once the user has consented.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clmwizard.closing import left_by_hand
from clmwizard.commands.common import CommandOptions, add_profile, open_profile, open_secrets, stamp
from clmwizard.errors import EXIT_GRANT_DEAD, EXIT_OK

if TYPE_CHECKING:
    from clmwizard.docusign.jwt import JwtCheck
    from clmwizard.http import ClientFactory
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile(parser)


@dataclass(frozen=True)
class JwtOptions(CommandOptions):
    profile: str
    ephemeral: bool
    client_factory: ClientFactory


async def _check(
    name: str, profiles: ProfileStore, secrets: SecretStore, factory: ClientFactory
) -> JwtCheck:
    from clmwizard.docusign.jwt import check_profile_jwt

    async with factory() as client:
        return await check_profile_jwt(name, profiles, secrets, client)


def _show(name: str, check: JwtCheck, profiles: ProfileStore) -> int:
    scopes = " ".join(check.scopes)
    if check.state == "given" and check.token is not None:
        print(f"✓ JWT Grant works for {name}: DocuSign issued a token for user {check.user_id}.")
        print(f"  Consent given for    {scopes}")
        print(f"  Access token until   {stamp(check.token.expires_at)} (1 hour, no refresh token)")
        for line in left_by_hand(profiles.load(name)):  # the consent is recorded in it now
            print(line)
        return EXIT_OK
    print(f"✗ JWT: consent needed for user {check.user_id} ({scopes}).")
    print("")
    print("Left to do by hand:")
    print("  1. Consent — a browser signed in to DocuSign as that user: open this address and")
    print("     choose Accept (on a line of its own, to select whole):")
    print(check.consent_url)
    print(f"  2. Check again — this terminal: `clmwizard jwt --profile {name}`.")
    return EXIT_GRANT_DEAD


def run(args: argparse.Namespace) -> int:
    options = JwtOptions.from_args(args)
    name, profiles, _ = open_profile(options.profile)
    secrets = open_secrets(ephemeral=options.ephemeral)
    code = _show(
        name, asyncio.run(_check(name, profiles, secrets, options.client_factory)), profiles
    )
    while code == EXIT_GRANT_DEAD and sys.stdin.isatty():
        try:
            input("Press Enter once consent is given to check again (Ctrl+C stops): ")
        except EOFError:
            break
        code = _show(
            name, asyncio.run(_check(name, profiles, secrets, options.client_factory)), profiles
        )
    return code
