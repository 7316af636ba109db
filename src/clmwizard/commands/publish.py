"""`clmwizard publish`: sign in to Microsoft and create or update the profile's connectors in a
Power Platform environment; read back each redirect URL and ask DocuSign whether it accepts it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clmwizard.closing import steps_left
from clmwizard.commands.common import (
    CommandOptions,
    add_connector_name,
    add_layout,
    add_profile,
    is_tty,
    open_profile,
    open_secrets,
    say,
)
from clmwizard.commands.export import choose_layout_and_name, layout_line
from clmwizard.commands.platform import MicrosoftOptions, settings_for
from clmwizard.connector.swagger import check_connector_name
from clmwizard.connector.urls import require_signed_in
from clmwizard.errors import EXIT_OK, EXIT_USAGE, ClmWizardError, UsageError
from clmwizard.powerplatform import setup
from clmwizard.powerplatform.api import PowerAppsApi, PowerEnvironment, validate_environment_id
from clmwizard.powerplatform.publish import (
    PlannedConnector,
    PublishPlan,
    PublishResult,
    describe_plan,
    plan_publish,
    publish,
    summarise,
)
from clmwizard.powerplatform.redirect import check_redirect_url
from clmwizard.powerplatform.rotation import connectors_to_update
from clmwizard.powerplatform.settings import MS_SECRET_ENV, MicrosoftSettings, confirm_api_hosts
from clmwizard.redact import redact, register_secret
from clmwizard.secret_env import lookup
from clmwizard.store.profile import Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.wait_clock import WaitClock

if TYPE_CHECKING:
    import httpx

    from clmwizard.connector.bundle import Layout
    from clmwizard.http import ClientFactory
    from clmwizard.powerplatform.signin import DeviceCode, MicrosoftSignIn
    from clmwizard.store.secrets import SecretStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Sign in to Microsoft and create or update the profile's connectors in a Power "
        "Platform environment. A service principal's secret comes from "
        "CLMWIZARD_MS_CLIENT_SECRET or stdin, never argv."
    )
    add_profile(parser)
    parser.add_argument("--environment", metavar="ENV_ID", help="Power Platform environment id")
    add_layout(parser)
    add_connector_name(parser)
    parser.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    parser.add_argument(
        "--trust-server",
        action="store_true",
        help="confirm (once, recorded in the profile) a Power Apps or Flow URL that is not "
        "Microsoft's",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--device-code",
        dest="method",
        action="store_const",
        const="device_code",
        help="sign in with a code entered in any browser (default)",
    )
    how.add_argument(
        "--browser",
        dest="method",
        action="store_const",
        const="browser",
        help="sign in in a browser on this machine",
    )
    how.add_argument(
        "--service-principal",
        dest="method",
        action="store_const",
        const="service_principal",
        help="an app registration's client credentials (for scripts and pipelines)",
    )
    parser.add_argument("--tenant", metavar="T", help="tenant id or domain (default: common)")
    parser.add_argument(
        "--client-id", metavar="ID", help="app registration to sign in with (default: Azure CLI's)"
    )
    parser.add_argument(
        "--authority",
        metavar="URL",
        help="sign-in origin (default https://login.microsoftonline.com/)",
    )
    parser.add_argument(
        "--power-apps-url", metavar="URL", help="Power Apps API (default https://api.powerapps.com)"
    )
    parser.add_argument(
        "--flow-url", metavar="URL", help="Flow API (default https://api.flow.microsoft.com)"
    )


@dataclass(frozen=True)
class PublishOptions(CommandOptions):
    profile: str
    environment: str | None
    layout: Layout | None
    name: str | None
    dry_run: bool
    trust_server: bool
    method: str  # device_code | browser | service_principal
    microsoft: MicrosoftOptions
    ephemeral: bool
    client_factory: ClientFactory

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PublishOptions:
        method = args.method or "device_code"
        return cls.from_flags(args, method=method, microsoft=MicrosoftOptions.from_args(args))


def show_device_code(code: DeviceCode) -> None:
    say("Sign in to Microsoft:")
    say(f"  open {code.verification_uri} and enter the code {code.user_code}")
    say(f"  (the code works until {code.expires_at:%H:%M} UTC)")


@contextlib.contextmanager
def device_code_shown() -> Iterator[Callable[[DeviceCode], None]]:
    """`show` for the device code flow: the code, then a clock until the sign-in returns."""
    clocks: list[WaitClock] = []

    def show(code: DeviceCode) -> None:
        show_device_code(code)
        limit = (code.expires_at - datetime.now(UTC)).total_seconds()
        clocks.append(WaitClock("Waiting for the code to be entered", limit).start())

    try:
        yield show
    finally:
        for running in clocks:
            running.stop()


def read_ms_client_secret(environ: Mapping[str, str] | None = None) -> str:
    """A service principal's secret from CLMWIZARD_MS_CLIENT_SECRET (taken out of the
    environment at start: `secret_env`) or stdin, never argv."""
    given = lookup(MS_SECRET_ENV) if environ is None else environ.get(MS_SECRET_ENV)
    if given:
        value = given
    elif is_tty(sys.stdin):
        value = getpass.getpass("Service principal client secret (hidden): ")
    else:
        value = sys.stdin.readline()
    value = value.strip()
    register_secret(value)
    if not value:
        raise UsageError(
            "No client secret for the service principal.",
            fix=f"Set {MS_SECRET_ENV} or pipe the secret into standard input (never on the "
            "command line).",
            field="client_secret",
        )
    return value


async def sign_in(
    method: str,
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    http: httpx.AsyncClient,
    *,
    client_secret: str | None = None,
    show: Callable[[DeviceCode], None] | None = None,
    allow_cached: bool = True,
) -> MicrosoftSignIn:
    from clmwizard.powerplatform import signin

    if method == "service_principal":
        assert client_secret is not None
        return await signin.sign_in_service_principal(
            settings, secrets, profile, http, client_secret
        )
    if method == "browser":
        return await signin.sign_in_browser(
            settings, secrets, profile, http, allow_cached=allow_cached
        )
    if show is not None:
        return await signin.sign_in_device_code(
            settings, secrets, profile, http, show, allow_cached=allow_cached
        )
    with device_code_shown() as with_clock:
        return await signin.sign_in_device_code(
            settings, secrets, profile, http, with_clock, allow_cached=allow_cached
        )


async def choose_environment(api: PowerAppsApi, who: MicrosoftSignIn, given: str | None) -> str:
    if given:
        return validate_environment_id(given)
    environments = await setup.list_environments(api, who)
    if len(environments) == 1:
        return environments[0].environment_id
    if not is_tty(sys.stdin):
        raise UsageError(
            "This Microsoft account sees several environments: choose one with --environment.",
            cause="Without a terminal clmwizard cannot ask which. They are: "
            + "; ".join(_describe(e) for e in environments)
            + ".",
            fix=f"Run again with --environment ID, e.g. --environment "
            f"{environments[0].environment_id}.",
            field="environment",
            code="choose_environment",
        )
    return await asyncio.to_thread(_ask_environment, environments)


def _describe(environment: PowerEnvironment) -> str:
    """`id  name (default)`; Power Platform's default environment is often named "… (default)"
    already, so the mark is not added twice."""
    name = environment.display_name
    named = name.rstrip().lower().endswith("(default)")
    default = " (default)" if environment.is_default and not named else ""
    return f"{environment.environment_id}  {name}{default}"


def _ask_environment(environments: list[PowerEnvironment]) -> str:
    say("Environments:")
    for index, environment in enumerate(environments, 1):
        say(f"  {index}. {_describe(environment)}")
    while True:
        answer = input(f"Publish to which environment (1-{len(environments)})? ").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(environments):
            return environments[int(answer) - 1].environment_id
        say("  Type one of the numbers above.")


async def ask_adoption(item: PlannedConnector) -> bool:
    if not is_tty(sys.stdin):
        sys.stderr.write(
            f"! {item.payload.display_name}: a connector of that name already exists "
            f"({item.connector_id}); not touched. Run in a terminal to be asked whether to "
            "adopt (update) it, or rename or delete it in the portal.\n"
        )
        return False

    def ask() -> bool:
        answer = input(
            f"A connector named {item.payload.display_name!r} already exists "
            f"({item.connector_id}). Adopt it (update it with this profile's definition and "
            "secret)? [y/N] "
        )
        return answer.strip().lower() in ("y", "yes")

    return await asyncio.to_thread(ask)


def run(args: argparse.Namespace) -> int:
    options = PublishOptions.from_args(args)
    _, profiles, profile = open_profile(options.profile)
    require_signed_in(profile)
    if options.name is not None:  # a name Power Platform refuses: before sign-in
        check_connector_name(options.name)
    confirm_api_hosts(
        profiles, profile, settings_for(None, None, options.microsoft), trust=options.trust_server
    )
    method = options.method
    client_secret = read_ms_client_secret() if method == "service_principal" else None
    secrets = open_secrets(ephemeral=options.ephemeral)
    secret = setup.docusign_secret(secrets, profile)
    return asyncio.run(_publish(options, profile, profiles, secrets, secret, method, client_secret))


async def _publish(
    options: PublishOptions,
    profile: Profile,
    profiles: Any,
    secrets: SecretStore,
    secret: str,
    method: str,
    client_secret: str | None,
) -> int:
    from clmwizard.powerplatform.signin import forget_sign_in

    settings = settings_for(None, None, options.microsoft)

    async with options.client_factory(ca_bundle=settings.ca_bundle) as http:

        async def signed_in(allow_cached: bool) -> MicrosoftSignIn:
            who = await sign_in(
                method,
                settings,
                secrets,
                profile.name,
                http,
                client_secret=client_secret,
                allow_cached=allow_cached,
            )
            say(f"✓ Signed in to Microsoft as {who.username}")
            if method != "service_principal" and not options.dry_run:  # connect etc. reuse it
                await asyncio.to_thread(
                    setup.remember_user_sign_in, profiles, profile.name, settings
                )
            return who

        async def forget() -> None:
            say("Microsoft refused the cached sign-in (HTTP 401); signing in again.")
            await asyncio.to_thread(forget_sign_in, secrets, profile.name)

        async def first_calls(who: MicrosoftSignIn) -> tuple[PowerAppsApi, PublishPlan]:
            api = setup.make_api(http, who, settings)
            environment = await choose_environment(api, who, options.environment)
            layout = choose_layout_and_name(options.layout, options.name, profile)
            if not options.dry_run and (
                options.layout or options.name
            ):  # the choice, for next time
                chosen = (profile.layout, profile.connector_name)
                await asyncio.to_thread(
                    profiles.update, profile.name, lambda p: _remember(p, *chosen)
                )
            return api, await plan_publish(api, profile, environment, layout)

        _, (api, plan) = await setup.retried_once(signed_in, forget, first_calls)
        say(layout_line(profile, plan.layout))
        for line in describe_plan(plan):
            say(line)
        stale = connectors_to_update(profile, secret)
        if stale:
            names = ", ".join(todo.connector.display_name for todo in stale)
            say(f"Carrying an older secret key (an unfinished rotation): {names}.")
        if options.dry_run:
            say("Dry run: nothing was created or changed.")
            return EXIT_OK

        def progress(key: str, what: str) -> None:
            say(f"  {key}: {what}")

        result = await publish(
            plan, api, profiles, settings, secret, adopt=ask_adoption, progress=progress
        )
    async with options.client_factory() as docusign:
        return await _report(result, profile, docusign)


def _remember(stored: Profile, layout: Layout | None, name: str | None) -> None:
    stored.layout, stored.connector_name = layout, name


def _say_steps_left(profile: Profile, verdicts: Mapping[str, str]) -> None:
    """The closing steps, from the profile as stored now (with what this run published)."""
    try:
        stored = ProfileStore().load(profile.name)
    except ClmWizardError:
        stored = profile
    say("")
    say("Left to do by hand:")
    for line in steps_left(stored, verdicts):
        say(line)


async def _report(result: PublishResult, profile: Profile, docusign: httpx.AsyncClient) -> int:
    say("")
    say(f"Connectors in environment {result.environment_id} now:")
    for line in summarise(result):
        say(f"  {line}")
    published = [o for o in result.outcomes if o.exists and o.error is None]
    checks = await asyncio.gather(
        *(
            check_redirect_url(docusign, profile, o.redirect_url)
            for o in published
            if o.redirect_url
        )
    )
    by_url = {check.redirect_url: check for check in checks}
    if published:
        say("")
        say(
            "Redirect URLs (each must be registered on the integration key in DocuSign, Apps and "
            "Keys → your app → Redirect URIs; before a sign-in DocuSign can only say when one "
            "is NOT):"
        )
    for outcome in published:
        say(f"  {outcome.display_name} ({outcome.connector_id})")
        if outcome.redirect_url is None:
            say(f"    redirect URL: unknown — {outcome.redirect_hint}")
            continue
        check = by_url[outcome.redirect_url]
        say(f"    redirect URL: {outcome.redirect_url}")
        say(f"    at DocuSign: {check.line}")
    if any(check.verdict == "not_registered" for check in checks):
        say(
            "Register the redirect URLs marked NOT registered, then run publish again to "
            "re-check (it only updates what exists)."
        )
    _say_steps_left(
        profile,
        {
            c.redirect_url: ("✗ " if c.verdict == "not_registered" else "? ") + c.line
            for c in checks
        },
    )
    errors = [o.error for o in result.outcomes if o.error is not None]
    if result.record_error is not None:
        errors.append(result.record_error)
    for error in errors:
        sys.stderr.write(redact(error.render()) + "\n")
    if errors:
        return max(error.exit_code for error in errors)
    if any(o.skipped for o in result.outcomes):
        return EXIT_USAGE
    return EXIT_OK
