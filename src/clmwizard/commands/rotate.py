"""`clmwizard rotate`: prove a new secret key with a refresh, then replace the stored one, then
give every connector this profile published the new secret; only then may the old one go."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clmwizard.commands import refresh
from clmwizard.commands.common import open_profile, open_secrets
from clmwizard.commands.login import read_secret
from clmwizard.commands.platform import MicrosoftOptions, settings_for, sign_in
from clmwizard.commands.publish import device_code_shown, read_ms_client_secret
from clmwizard.errors import ClmWizardError
from clmwizard.powerplatform.rotation import (
    SecretUpdateReport,
    connectors_to_update,
    prove_with_heartbeat,
    update_connector_secrets,
)
from clmwizard.powerplatform.rotation_proof import DELETE_OLD_SECRET, keep_old_secret, latest_due
from clmwizard.powerplatform.settings import (
    MS_SECRET_ENV,
    MicrosoftSettings,
    make_settings,
    unconfirmed_api_error,
    unconfirmed_api_hosts,
)
from clmwizard.powerplatform.setup import make_api, make_apis, renewed_token, settings_from
from clmwizard.secret_env import lookup
from clmwizard.store.profile import SECRET_KEY

if TYPE_CHECKING:
    import httpx

    from clmwizard.http import ClientFactory
    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.signin import MicrosoftSignIn
    from clmwizard.store.profile import Profile, PublishRecord
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    refresh.add_arguments(parser)  # the refresh that proves the new secret
    parser.add_argument(
        "--secret-key-stdin", action="store_true", help="read the new secret key from stdin"
    )


@dataclass(frozen=True)
class RotateOptions(refresh.RefreshOptions):
    secret_key_stdin: bool
    poll_seconds: float


def run(args: argparse.Namespace) -> int:
    from clmwizard.docusign.session import rotate_secret

    options = RotateOptions.from_args(args)
    name, profiles, profile = open_profile(options.profile)
    secrets = open_secrets(ephemeral=options.ephemeral)
    new_secret = read_secret(
        "New secret key (hidden): ", profile.integration_key, from_stdin=options.secret_key_stdin
    )
    stored = secrets.get(name, SECRET_KEY)
    if stored == new_secret and connectors_to_update(profile, new_secret):
        # An earlier rotation stored this secret but did not reach every connector: finish.
        print(f"The secret key is already stored for {name}; finishing the connectors.")
    else:

        async def rotate() -> None:
            async with options.client_factory() as client:
                await rotate_secret(
                    name,
                    new_secret,
                    profiles,
                    secrets,
                    client=client,
                    trust_server=options.trust_server,
                )

        asyncio.run(rotate())
        print(f"✓ The new secret key works: DocuSign accepted it for a refresh. Stored for {name}.")
    report = asyncio.run(
        _update_connectors(name, profiles, secrets, new_secret, options.client_factory)
    )
    for done in report.updated:
        print(f"✓ {done.display_name} ({done.connector_id}) now has the new secret key.")
    if report.complete and not asyncio.run(_prove(name, profiles, secrets, options)):
        print(
            "Keep the old secret key in DocuSign: the heartbeat run through the connectors "
            "failed. Fix what is said above, then run "
            f"`clmwizard heartbeat --profile {name}`; `clmwizard status --profile {name}` says "
            "when a run has proven the new secret and the old one may go."
        )
        return 1
    return _next_steps(name, report, profiles.load(name))


async def _prove(
    name: str, profiles: ProfileStore, secrets: SecretStore, options: RotateOptions
) -> bool:
    """Run each heartbeat flow once through the connectors that now carry the new secret;
    True when every one succeeded (or there is none to run)."""
    profile = profiles.load(name)
    proved = True
    for record in profile.publications:
        if record.heartbeat is None or record.heartbeat.state != "on":
            continue
        settings = settings_for(profile, record, MicrosoftOptions())
        print(
            f"Proving the new secret through the connectors: a heartbeat run in "
            f"{record.environment_id}…",
            flush=True,
        )
        try:
            async with options.client_factory(ca_bundle=settings.ca_bundle) as http:
                signed = await sign_in(http, settings, secrets, name, interactive=False, flow=True)
                if signed is None or signed[1] is None:
                    print("  ! no cached Microsoft sign-in: cannot run the heartbeat now.")
                    proved = False
                    continue
                _, flows = make_apis(http, settings, *signed, secrets=secrets, profile=name)
                assert flows is not None
                proof = await prove_with_heartbeat(
                    flows, profile, record, poll=options.poll_seconds
                )
        except ClmWizardError as error:
            print(f"  ✗ {error.what}")
            proved = False
            continue
        if proof.succeeded:
            print(
                f"  ✓ The heartbeat run succeeded through the updated connectors: CLM answered "
                f"{proof.result}. It may still have used an access token the old secret "
                "obtained, so it does not prove the new secret yet."
            )
        else:
            print(f"  ✗ The heartbeat failed: {proof.result}.")
            proved = False
    return proved


async def _update_connectors(
    name: str, profiles: ProfileStore, secrets: SecretStore, secret: str, factory: ClientFactory
) -> SecretUpdateReport:
    async def api_for(record: PublishRecord) -> PowerAppsApi | None:
        settings = settings_from(record)
        unconfirmed = unconfirmed_api_hosts(settings, profiles.load(name).trusted_api_hosts)
        if unconfirmed:  # a record edited by hand: the token goes to confirmed hosts only
            sys.stderr.write(f"! {unconfirmed_api_error(unconfirmed).what}\n")
            return None
        who = await _sign_in(name, secrets, settings, http)
        if who is None:
            return None
        api = make_api(http, who, settings)
        api.renew_token = lambda: renewed_token(http, settings, secrets, name)  # refused: once more
        return api

    async with factory(ca_bundle=make_settings().ca_bundle) as http:
        return await update_connector_secrets(
            name, profiles, secret, api_for, progress=lambda text: print(f"  {text}", flush=True)
        )


async def _sign_in(
    name: str, secrets: SecretStore, settings: MicrosoftSettings, http: httpx.AsyncClient
) -> MicrosoftSignIn | None:
    """A cached sign-in silently; else a service principal (its secret in the environment);
    else the device code flow on a terminal; else None (the steps are printed instead)."""
    from clmwizard.powerplatform import signin

    try:
        cached = await signin.sign_in_silently(settings, secrets, name, http)
        if cached is not None:
            return cached
        if lookup(MS_SECRET_ENV):
            return await signin.sign_in_service_principal(
                settings, secrets, name, http, read_ms_client_secret()
            )
        if sys.stdin.isatty():
            print("The connectors need the new secret too: sign in to Microsoft.")
            with device_code_shown() as show:
                return await signin.sign_in_device_code(settings, secrets, name, http, show)
    except ClmWizardError as error:
        sys.stderr.write(f"! Microsoft sign-in failed: {error.what}\n")
    return None


def _next_steps(name: str, report: SecretUpdateReport, profile: Profile) -> int:
    published = bool(profile.publications)
    if report.remaining:
        print("These connectors still have the OLD secret key:")
        for todo in report.remaining:
            if todo.error is not None:
                print(f"  ✗ {todo.connector.display_name}: {todo.error.what}")
            for line in todo.manual_steps(name):
                print(f"  {line}")
        print(
            "Keep the old secret key in DocuSign until they are updated: run "
            f"`clmwizard rotate --profile {name}` again with the same new secret (it finishes "
            "what is left), or update them as shown."
        )
        return 1
    print("Now:")
    if not published:
        print(
            "  1. In Power Automate, open each CLM connector you created yourself → Edit → "
            "Security tab → Client secret: paste the new secret key and Update connector."
        )
    else:
        print("  1. Every connector this profile published has the new secret key.")
    due = latest_due(profile)
    if due is not None:
        print(f"  2. {keep_old_secret(due)}")
        if not any(r.heartbeat and r.heartbeat.state == "on" for r in profile.publications):
            print(
                f"     No heartbeat runs through them: `clmwizard heartbeat --profile {name}` "
                "after that time makes the run (and keeps the connection alive)."
            )
        print(
            f"     Then delete the old secret key at DocuSign ({DELETE_OLD_SECRET}), once every "
            f"other integration uses the new one too. `clmwizard status --profile {name}` needs "
            "attention until such a run is seen, then says the new secret is proven."
        )
    else:
        print(
            f"  2. At DocuSign ({DELETE_OLD_SECRET}): delete the old secret key once a flow "
            "through each connector has succeeded more than 8 hours after it got the new one "
            "(a connection keeps the access token the old secret obtained until it runs out) "
            "and every other integration uses the new one."
        )
    print(f"  (clmwizard credentials --profile {name} --copy secret_key copies it.)")
    return 0
