"""`clmwizard login`: consent, token exchange, discovery and storage without the wizard."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import stat
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clmwizard.browser import open_in_browser
from clmwizard.closing import steps_left
from clmwizard.commands.common import (
    CommandOptions,
    add_allow_host,
    add_profile,
    is_tty,
    open_secrets,
    say,
    stamp,
    warn,
)
from clmwizard.docusign.callback import DEFAULT_REDIRECT_URI, CallbackListener, parse_redirect_uri
from clmwizard.docusign.consent import build_consent_request
from clmwizard.docusign.environments import Environment, resolve_environment
from clmwizard.docusign.hosts import unconfirmed_error, unconfirmed_hosts, untrusted_hosts
from clmwizard.docusign.keys import validate_integration_key, validate_secret_key
from clmwizard.docusign.profile_settings import profile_before_login
from clmwizard.docusign.scopes import DEFAULT_SCOPES, parse_scopes, scope_warnings
from clmwizard.errors import ClmWizardError, NetworkError, UsageError
from clmwizard.redact import redact, register_secret
from clmwizard.secret_env import taken
from clmwizard.store.profile import ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore, validate_profile_name
from clmwizard.wait_clock import WaitClock, gives_up

if TYPE_CHECKING:  # httpx, the keyring and the sign-in load when login runs, not for --help
    import httpx

    from clmwizard.docusign.discovery import Account
    from clmwizard.http import ClientFactory
    from clmwizard.store.secrets import SecretStore

SECRET_ENV = "CLMWIZARD_SECRET_KEY"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "The whole sign-in flow without the wizard. The secret key comes from "
        "CLMWIZARD_SECRET_KEY, --secret-key-stdin or a hidden prompt, never from argv."
    )
    add_profile(parser)
    parser.add_argument("--integration-key", required=True, metavar="GUID")
    parser.add_argument("--environment", choices=("demo", "production"), default="demo")
    parser.add_argument(
        "--auth-server", metavar="URL", help="OAuth origin (overrides --environment)"
    )
    parser.add_argument(
        "--clm-auth-server",
        metavar="URL",
        help="CLM discovery origin (default: authuat.springcm.com for demo, "
        "auth.springcm.com for production; unconfirmed by DocuSign's docs, so overridable)",
    )
    parser.add_argument("--account-id", metavar="GUID", help="account to use (default: default)")
    parser.add_argument(
        "--scopes",
        metavar='"S1 S2"',
        help='space-separated scopes (default: "signature spring_read spring_write extended")',
    )
    parser.add_argument(
        "--redirect-uri",
        metavar="URI",
        help="loopback redirect URI registered on the key (default http://127.0.0.1:8765/callback)",
    )
    parser.add_argument("--no-browser", action="store_true", help="print the URL only")
    parser.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="seconds to wait for consent"
    )
    parser.add_argument(
        "--secret-key-stdin", action="store_true", help="read the secret key from stdin"
    )
    parser.add_argument(
        "--no-pkce", action="store_true", help="do not send PKCE (for servers that refuse it)"
    )
    add_allow_host(parser)


@dataclass(frozen=True)
class LoginOptions(CommandOptions):
    profile: str
    integration_key: str
    environment: str
    auth_server: str | None
    clm_auth_server: str | None
    account_id: str | None
    scopes: str | None
    redirect_uri: str | None
    no_browser: bool
    timeout: float
    secret_key_stdin: bool
    no_pkce: bool
    allow_hosts: list[str]
    ephemeral: bool
    client_factory: ClientFactory

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LoginOptions:
        return cls.from_flags(args, allow_hosts=list(args.allow_host))


def read_secret(
    prompt: str,
    integration_key: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    from_stdin: bool = False,
) -> str:
    """The secret key from --secret-key-stdin, CLMWIZARD_SECRET_KEY or a hidden prompt.

    CLMWIZARD_SECRET_KEY is read from what the CLI took out of the environment at start.
    """
    if environ is None:
        environ = {**os.environ, **taken()}
    if from_stdin:
        value = sys.stdin.readline()
        source = "standard input"
    elif environ.get(SECRET_ENV):
        value = environ[SECRET_ENV]
        source = SECRET_ENV
    elif is_tty(sys.stdin):
        value = getpass.getpass(prompt)
        source = "the prompt"
    else:
        raise UsageError(
            "No secret key given.",
            fix=f"Set {SECRET_ENV}, pass --secret-key-stdin and pipe it in, or run in a terminal "
            "to be asked for it (never on the command line).",
            field="secret_key",
        )
    register_secret(value.strip())
    if not value.strip():
        raise UsageError(
            f"The secret key from {source} is empty.",
            fix="Give the secret key you saved when you added it; DocuSign shows a secret once, so "
            "if it is lost add a new secret key (Apps and Keys → your key → Add Secret Key).",
            field="secret_key",
        )
    return validate_secret_key(value, integration_key)


def _stdin_can_paste() -> bool:
    """A terminal, or a pipe / file the caller handed us on purpose."""
    try:
        if sys.stdin.isatty():
            return True
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, ValueError, OSError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _paste_reader(listener: CallbackListener, done: threading.Event) -> None:
    """Feeds lines pasted on stdin to the listener until it has a code."""
    while not done.is_set():
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            return
        if not line:
            return
        if done.is_set() or not line.strip():
            continue
        try:
            listener.deliver_pasted(line)
        except ClmWizardError as error:
            sys.stderr.write(
                redact(error.render()) + "\n  Paste again, or finish in the browser.\n"
            )
            continue
        except RuntimeError:
            return
        return


def open_browser(url: str) -> None:
    """Open the consent URL; runs in its own thread, as a $BROWSER command may block."""
    outcome = open_in_browser(url)
    if not outcome.opened:
        warn(
            f"{outcome.advice()} Open the address above in a graphical browser (another "
            "machine works) and paste where it lands here."
        )


async def check_reachable(client: httpx.AsyncClient, env: Environment) -> None:
    """Any HTTP answer from the OAuth server will do: it proves the address and network."""
    import httpx

    from clmwizard.http import send, transport_error

    url = f"{env.auth_server}/.well-known/openid-configuration"
    try:
        await send(client, "GET", url, deadline=10.0)
    except NetworkError:
        pass  # an answer too large or damaged is an answer: the server is reachable
    except httpx.TransportError as error:
        problem = transport_error(error, url)
        raise NetworkError(
            problem.what,
            cause=problem.cause,
            fix=problem.fix + " Nothing was sent to DocuSign yet.",
            field="environment",
            code=problem.code,
        ) from None


def _checked_hosts(
    hosts: ClmHosts, options: LoginOptions, base: Profile
) -> tuple[ClmHosts | None, list[str], ClmWizardError | None]:
    """(hosts to store, the untrusted hosts confirmed, the error to report).

    Discovered hosts outside DocuSign's CLM domains are stored only when confirmed: with
    --allow-host now, or earlier for this profile. Otherwise the sign-in is stored without
    hosts and the message says why.
    """
    allowed = [*base.confirmed_hosts, *options.allow_hosts]
    unconfirmed = unconfirmed_hosts(hosts, allowed)
    if unconfirmed:
        retry = f"clmwizard login --profile {base.name} … (as before)"
        return None, [], unconfirmed_error(unconfirmed, doing="storing the CLM hosts", retry=retry)
    untrusted = untrusted_hosts(hosts)
    for verdict in untrusted:
        warn(f"Using the CLM host {verdict.host}, as you confirmed: {verdict.reason}.")
    return hosts, [verdict.host for verdict in untrusted], None


def _print_account_choice(chosen: Account, others: list[Account], asked: bool) -> None:
    from clmwizard.docusign.discovery import describe_account

    how = "as asked" if asked else ("the default" if chosen.is_default else "the first")
    say(f"Using account {describe_account(chosen)}, {how}.")
    if others:
        say("  Other accounts of this user (choose with --account-id):")
        for account in others:
            say(f"    {describe_account(account)}")


def print_summary(profile: Profile, store: SecretStore, clm: str = "") -> None:
    hosts = profile.clm_hosts
    who = profile.user_name or profile.user_id or "?"
    if profile.user_email:
        who += f" <{profile.user_email}>"
    say("")
    say(f"✓ Signed in as {who}")
    if clm:
        say(clm)
    rows = [
        ("Profile", profile.name),
        ("Account", f"{profile.account_name or '(no name)'} ({profile.account_id})"),
        ("eSignature base URI", profile.esign_base_uri or "unknown"),
        ("CLM general", hosts.general if hosts else "not discovered"),
        ("CLM upload", hosts.upload if hosts else "not discovered"),
        ("CLM download", hosts.download if hosts else "not discovered"),
        ("Access token until", stamp(profile.access_token_expires_at)),
        (
            "Refresh token until",
            f"about {stamp(profile.refresh_token_expires_at)} "
            + (
                "(each refresh renews it: `extended`)"
                if "extended" in profile.scopes
                else "(fixed: no `extended`)"
            ),
        ),
        ("Secrets stored in", store.description),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        say(f"  {label:<{width}}  {value}")
    say("")
    say("Left to do by hand:")
    for line in steps_left(profile):
        say(line)
    say("Also:")
    say(f"  clmwizard fields --profile {profile.name}      the Power Automate field values")
    say(f"  clmwizard refresh --profile {profile.name}     daily, to keep the grant alive")


def open_store(*, ephemeral: bool) -> SecretStore:
    """The secret store, proven to keep a secret before anything else happens."""
    from clmwizard.store.secrets import keyring_round_trip

    store = open_secrets(ephemeral=ephemeral)
    if store.persistent:
        keyring_round_trip(store)
    else:
        warn(
            "--ephemeral: secrets stay in memory for this run only; nothing is saved, so "
            "`refresh`, `rotate` and `credentials` will not find them later."
        )
    return store


def run(args: argparse.Namespace) -> int:
    # The CLI took the secret out of the environment at start, so the $BROWSER command login
    # starts does not inherit it (a direct caller of run() gets the same treatment here).
    hidden = os.environ.pop(SECRET_ENV, None) or taken().get(SECRET_ENV)
    return _run_login(LoginOptions.from_args(args), {SECRET_ENV: hidden} if hidden else {})


def _run_login(options: LoginOptions, environ: Mapping[str, str]) -> int:
    name = validate_profile_name(options.profile)
    env = resolve_environment(options.environment, options.auth_server, options.clm_auth_server)
    integration_key = validate_integration_key(options.integration_key)
    scopes = parse_scopes(options.scopes) if options.scopes else list(DEFAULT_SCOPES)
    profiles = ProfileStore()
    redirect_uri = options.redirect_uri
    if not redirect_uri and profiles.exists(name):
        redirect_uri = profiles.load(name).redirect_uri
    redirect_uri = (redirect_uri or DEFAULT_REDIRECT_URI).strip()
    parse_redirect_uri(redirect_uri)
    if options.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds.", field="timeout")
    secret_key = read_secret(
        "Secret key (hidden): ", integration_key, environ, from_stdin=options.secret_key_stdin
    )
    store = open_store(ephemeral=options.ephemeral)
    for text in scope_warnings(scopes):
        warn(text)
    existing = profiles.load(name) if profiles.exists(name) else None
    jwt_user = existing.jwt_user_id if existing else None
    base = profile_before_login(
        existing,
        name,
        env,
        integration_key,
        scopes,
        redirect_uri,
        use_pkce=not options.no_pkce,
        jwt_user_id=jwt_user,
    )
    return asyncio.run(_login(options, env, base, secret_key, profiles, store))


async def _login(
    options: LoginOptions,
    env: Environment,
    base: Profile,
    secret_key: str,
    profiles: ProfileStore,
    store: SecretStore,
) -> int:
    from clmwizard.docusign.consent_check import CLI_CAUSE_HINT, check_consent_url
    from clmwizard.docusign.session import (
        complete_login,
        discover_hosts,
        profile_after_login,
        store_login,
    )

    request = build_consent_request(
        env, base.integration_key, base.scopes, base.redirect_uri, use_pkce=base.use_pkce
    )
    async with options.client_factory() as client:
        await check_reachable(client, env)
        refusal = await check_consent_url(
            client, request.url, env, base.integration_key, base.redirect_uri
        )
        if refusal is not None:  # DocuSign's own error page: no browser, no wait
            raise refusal
        async with CallbackListener(base.redirect_uri, request.state) as listener:
            say(f"Environment: {env.label}")
            say("Register this redirect URI on the integration key (Apps and Keys → your app):")
            say(f"  {base.redirect_uri}")
            say("Open this address to consent:")
            say(f"  {request.url}")
            if not options.no_browser:
                threading.Thread(
                    target=open_browser, args=(request.url,), daemon=True, name="browser"
                ).start()
            done = threading.Event()
            if not options.secret_key_stdin and _stdin_can_paste():
                say("No browser here? Open the address elsewhere and paste the address it ends on.")
                threading.Thread(
                    target=_paste_reader, args=(listener, done), daemon=True, name="paste"
                ).start()
            say(f"Waiting for DocuSign on {listener.listening_on}… ({gives_up(options.timeout)})")
            try:
                with WaitClock("Waiting for DocuSign", options.timeout, hint=CLI_CAUSE_HINT):
                    code = await listener.wait(options.timeout)
            finally:
                done.set()
        login = await complete_login(
            client,
            env,
            base.integration_key,
            secret_key,
            code,
            request.code_verifier,
            account_id=options.account_id,
        )
        others = [a for a in login.userinfo.accounts if a is not login.account]
        _print_account_choice(login.account, others, bool(options.account_id))
        discovery_error: ClmWizardError | None = None
        hosts: ClmHosts | None = None
        try:
            hosts = await discover_hosts(client, env, login)
        except ClmWizardError as error:
            discovery_error = error
    confirmed: list[str] = []
    if hosts is not None:
        hosts, confirmed, discovery_error = _checked_hosts(hosts, options, base)
    profile = profile_after_login(
        base, login.tokens, login.userinfo, login.account, hosts, now=login.tokens.obtained_at
    )
    if confirmed:
        profile.confirmed_hosts = sorted(set(profile.confirmed_hosts) | set(confirmed))
    profile = await asyncio.to_thread(
        store_login, profiles, store, profile, secret_key, login.tokens
    )
    if discovery_error is not None:
        discovery_error.fix = (
            f"{discovery_error.fix} The sign-in itself is saved in profile {profile.name}: "
            f"enter the hosts in the wizard (clmwizard --profile {profile.name})."
        ).strip()
        raise discovery_error
    clm = await prove_clm(options, profile, login.tokens.access_token)
    print_summary(profile, store, clm)
    return 0


async def prove_clm(options: LoginOptions, profile: Profile, access_token: str) -> str:
    """One authenticated CLM call with the fresh token: its answer, or the cause, as a line."""
    from clmwizard.docusign.clm_check import list_attribute_groups

    if profile.clm_hosts is None or profile.account_id is None:
        return "! CLM not asked: no CLM hosts"
    try:
        async with options.client_factory() as client:
            answer = await list_attribute_groups(
                client, profile.clm_hosts.general, profile.account_id, access_token
            )
    except ClmWizardError as error:
        warn(redact(error.render()).removeprefix("✗ "))
        return f"✗ {error.what}"
    return f"✓ {answer.describe()}"


__all__ = ["SECRET_ENV", "check_reachable", "open_store", "read_secret", "run"]
