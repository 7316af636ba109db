"""`clmwizard connect`: a Power Automate connection to each connector the profile published,
signed in to DocuSign through the connector (its consent link, in the browser), remembered."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clmwizard.browser import open_in_browser
from clmwizard.commands.common import say
from clmwizard.commands.platform import (
    LiveLine,
    PublicationOptions,
    add_publication_arguments,
    add_wait_arguments,
    copy_action,
    run_on_publication,
    settings_for,
    sign_in,
)
from clmwizard.errors import EXIT_OK, ClmWizardError
from clmwizard.powerplatform.connect import (
    ensure_connection,
    remember_connection,
    targets,
    wait_connected,
)
from clmwizard.powerplatform.connections import consent_link
from clmwizard.powerplatform.consent_return import ConsentReturn
from clmwizard.powerplatform.redirect import check_redirect_url
from clmwizard.powerplatform.setup import make_apis, remember_user_sign_in

if TYPE_CHECKING:
    import httpx

    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.connect import ConnectTarget
    from clmwizard.store.profile import Profile
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Create (or reuse) the Power Automate connection to each connector this profile "
        "published, open its DocuSign sign-in in the browser, and wait until it reads Connected."
    )
    add_publication_arguments(parser)
    parser.add_argument(
        "--no-browser", action="store_true", help="print the sign-in link instead of opening it"
    )
    add_wait_arguments(parser, "seconds to wait per sign-in")


@dataclass(frozen=True)
class ConnectOptions(PublicationOptions):
    no_browser: bool


def run(args: argparse.Namespace) -> int:
    return run_on_publication(ConnectOptions.from_args(args), "connect", targets, _connect)


async def _connect(
    options: ConnectOptions,
    profile: Profile,
    profiles: ProfileStore,
    secrets: SecretStore,
    todo: list[ConnectTarget],
) -> int:
    settings = settings_for(profile, todo[0].record, options.microsoft)
    async with (
        options.client_factory(ca_bundle=settings.ca_bundle) as http,
        options.client_factory() as docusign,
    ):
        signed = await sign_in(http, settings, secrets, profile.name, interactive=True, flow=False)
        assert signed is not None
        await asyncio.to_thread(remember_user_sign_in, profiles, profile.name, settings)
        api, _ = make_apis(http, settings, signed[0], None, secrets=secrets, profile=profile.name)
        for target in todo:
            async with ConsentReturn() as back:  # one per sign-in: its answer is its own
                await _connect_one(options, profile, profiles, api, docusign, back, target)
    say("")
    say(
        "Next: clmwizard heartbeat --profile "
        f"{profile.name} — runs a flow through the connection once now (the end-to-end test) "
        "and daily after, so the DocuSign sign-in never dies unused."
    )
    return EXIT_OK


async def _connect_one(
    options: ConnectOptions,
    profile: Profile,
    profiles: ProfileStore,
    api: PowerAppsApi,
    docusign: httpx.AsyncClient,
    back: ConsentReturn,
    target: ConnectTarget,
) -> None:
    connector = target.connector
    connection, how = await ensure_connection(api, profile, target)
    await asyncio.to_thread(
        profiles.update,
        profile.name,
        remember_connection(target.environment_id, connector.connector_id, connection.name),
    )
    words = {
        "reused": "the profile's connection",
        "found": "an existing connection (made in the portal or by an earlier run)",
        "created": "a new connection",
    }[how]
    say(f"{connector.display_name}: {words} {connection.name}")
    if connection.connected:
        say(f"✓ {connector.display_name}: Connected (nothing to sign in)")
        return
    await _check_redirect(profile, docusign, target)
    link = await consent_link(
        api,
        target.environment_id,
        connector.connector_id,
        connection.name,
        back.url,
        display_name=connector.display_name,
        profile=profile.name,
    )
    await _offer_link(link, options.no_browser)
    with LiveLine(
        f"Waiting for the DocuSign sign-in of {connector.display_name}",
        options.timeout,
        keys={"c": ("copy the link", copy_action(link))},
        hint="  Still waiting: sign in to DocuSign in the browser and choose Accept. A page "
        "saying the redirect URI is not registered means: register "
        f"{connector.redirect_url or 'the connector redirect URL'} at DocuSign, then run "
        "connect again.",
    ) as live:
        connected = await wait_connected(
            api,
            target,
            connection,
            profile.name,
            timeout=options.timeout,
            poll=options.poll_seconds,
            tick=live.tick,
            returned=back.query,
        )
    say(f"✓ {connector.display_name}: Connected ({connected.name})")


async def _check_redirect(
    profile: Profile, docusign: httpx.AsyncClient, target: ConnectTarget
) -> None:
    """Before the browser: does DocuSign know the connector's redirect URL? A certain "no"
    stops here with the URL to register (the connection stays, so a rerun carries on)."""
    url = target.connector.redirect_url
    if not url:
        return
    check = await check_redirect_url(docusign, profile, url)
    if check.verdict == "not_registered":
        raise ClmWizardError(
            f"DocuSign rejects the redirect URL of {target.connector.display_name}: "
            "the sign-in would fail.",
            cause=f"DocuSign answered: {check.said}.",
            fix=f"Register {url} at DocuSign (Apps and Keys → your app → Redirect URIs → Add URI "
            f"→ Save), then run `clmwizard connect --profile {profile.name}` again: it reuses "
            "the connection made now.",
            field="redirect_url",
            code="redirect_not_registered",
        )


async def _offer_link(link: str, no_browser: bool) -> None:
    if not no_browser:
        # A $BROWSER command may wait until the page is done (the return page answers from
        # this loop meanwhile): never block the loop on it.
        outcome = await asyncio.to_thread(open_in_browser, link)
        if outcome.opened:
            say("Opened the DocuSign sign-in in your browser (sign in and choose Accept).")
            return
        say(outcome.advice())
    say("Open this link in a browser, sign in to DocuSign and choose Accept:")
    say(f"  {link}")
