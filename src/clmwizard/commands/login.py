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
from datetime import UTC, datetime
from typing import TextIO

import httpx

from clmwizard.browser import open_in_browser
from clmwizard.closing import steps_left
from clmwizard.docusign.callback import DEFAULT_REDIRECT_URI, CallbackListener, parse_redirect_uri
from clmwizard.docusign.consent import build_consent_request
from clmwizard.docusign.consent_check import CLI_CAUSE_HINT, check_consent_url
from clmwizard.docusign.discovery import Account, describe_account
from clmwizard.docusign.environments import Environment, resolve_environment
from clmwizard.docusign.hosts import unconfirmed_error, unconfirmed_hosts, untrusted_hosts
from clmwizard.docusign.keys import validate_integration_key, validate_secret_key
from clmwizard.docusign.profile_settings import profile_before_login
from clmwizard.docusign.scopes import DEFAULT_SCOPES, parse_scopes, scope_warnings
from clmwizard.docusign.session import (
    complete_login,
    discover_hosts,
    profile_after_login,
    store_login,
)
from clmwizard.errors import ClmWizardError, NetworkError, UsageError
from clmwizard.http import host_of, send, transport_error
from clmwizard.redact import redact, register_secret
from clmwizard.secret_env import taken
from clmwizard.store.profile import ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore, validate_profile_name
from clmwizard.store.secrets import SecretStore, keyring_round_trip, open_secret_store
from clmwizard.wait_clock import WaitClock, gives_up

SECRET_ENV = "CLMWIZARD_SECRET_KEY"


def say(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    sys.stderr.write(f"! {text}\n")
    sys.stderr.flush()


def read_secret(
    args: argparse.Namespace,
    prompt: str,
    integration_key: str | None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The secret key from --secret-key-stdin, CLMWIZARD_SECRET_KEY or a hidden prompt.

    CLMWIZARD_SECRET_KEY is read from what the CLI took out of the environment at start.
    """
    if environ is None:
        environ = {**os.environ, **taken()}
    if getattr(args, "secret_key_stdin", False):
        value = sys.stdin.readline()
        source = "standard input"
    elif environ.get(SECRET_ENV):
        value = environ[SECRET_ENV]
        source = SECRET_ENV
    elif _is_tty(sys.stdin):
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


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


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
    hosts: ClmHosts, args: argparse.Namespace, base: Profile
) -> tuple[ClmHosts | None, list[str], ClmWizardError | None]:
    """(hosts to store, the untrusted hosts confirmed, the error to report).

    Discovered hosts outside DocuSign's CLM domains are stored only when confirmed: with
    --allow-host now, or earlier for this profile. Otherwise the sign-in is stored without
    hosts and the message says why.
    """
    allowed = [*base.confirmed_hosts, *(getattr(args, "allow_host", None) or [])]
    unconfirmed = unconfirmed_hosts(hosts, allowed)
    if unconfirmed:
        retry = f"clmwizard login --profile {base.name} … (as before)"
        return None, [], unconfirmed_error(unconfirmed, doing="storing the CLM hosts", retry=retry)
    untrusted = untrusted_hosts(hosts)
    for verdict in untrusted:
        warn(f"Using the CLM host {verdict.host}, as you confirmed: {verdict.reason}.")
    return hosts, [verdict.host for verdict in untrusted], None


def _stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def _print_account_choice(chosen: Account, others: list[Account], asked: bool) -> None:
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
        ("Access token until", _stamp(profile.access_token_expires_at)),
        (
            "Refresh token until",
            f"about {_stamp(profile.refresh_token_expires_at)} "
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


def open_store(args: argparse.Namespace) -> SecretStore:
    """The secret store, proven to keep a secret before anything else happens."""
    store = open_secret_store(ephemeral=bool(getattr(args, "ephemeral", False)))
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
    return _run_login(args, {SECRET_ENV: hidden} if hidden else {})


def _run_login(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    name = validate_profile_name(args.profile)
    env = resolve_environment(args.environment, args.auth_server, args.clm_auth_server)
    integration_key = validate_integration_key(args.integration_key)
    scopes = parse_scopes(args.scopes) if args.scopes else list(DEFAULT_SCOPES)
    profiles = ProfileStore()
    redirect_uri = args.redirect_uri
    if not redirect_uri and profiles.exists(name):
        redirect_uri = profiles.load(name).redirect_uri
    redirect_uri = (redirect_uri or DEFAULT_REDIRECT_URI).strip()
    parse_redirect_uri(redirect_uri)
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds.", field="timeout")
    secret_key = read_secret(args, "Secret key (hidden): ", integration_key, environ)
    store = open_store(args)
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
        use_pkce=not args.no_pkce,
        jwt_user_id=jwt_user,
    )
    return asyncio.run(_login(args, env, base, secret_key, profiles, store))


async def _login(
    args: argparse.Namespace,
    env: Environment,
    base: Profile,
    secret_key: str,
    profiles: ProfileStore,
    store: SecretStore,
) -> int:
    request = build_consent_request(
        env, base.integration_key, base.scopes, base.redirect_uri, use_pkce=base.use_pkce
    )
    async with args.client_factory() as client:
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
            if not args.no_browser:
                threading.Thread(
                    target=open_browser, args=(request.url,), daemon=True, name="browser"
                ).start()
            done = threading.Event()
            if not args.secret_key_stdin and _stdin_can_paste():
                say("No browser here? Open the address elsewhere and paste the address it ends on.")
                threading.Thread(
                    target=_paste_reader, args=(listener, done), daemon=True, name="paste"
                ).start()
            say(f"Waiting for DocuSign on {listener.listening_on}… ({gives_up(args.timeout)})")
            try:
                with WaitClock("Waiting for DocuSign", args.timeout, hint=CLI_CAUSE_HINT):
                    code = await listener.wait(args.timeout)
            finally:
                done.set()
        login = await complete_login(
            client,
            env,
            base.integration_key,
            secret_key,
            code,
            request.code_verifier,
            account_id=args.account_id,
        )
        others = [a for a in login.userinfo.accounts if a is not login.account]
        _print_account_choice(login.account, others, bool(args.account_id))
        discovery_error: ClmWizardError | None = None
        hosts: ClmHosts | None = None
        try:
            hosts = await discover_hosts(client, env, login)
        except ClmWizardError as error:
            discovery_error = error
    confirmed: list[str] = []
    if hosts is not None:
        hosts, confirmed, discovery_error = _checked_hosts(hosts, args, base)
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
    clm = await prove_clm(args, profile, login.tokens.access_token)
    print_summary(profile, store, clm)
    return 0


async def prove_clm(args: argparse.Namespace, profile: Profile, access_token: str) -> str:
    """One authenticated CLM call with the fresh token: its answer, or the cause, as a line."""
    from clmwizard.docusign.clm_check import list_attribute_groups

    if profile.clm_hosts is None or profile.account_id is None:
        return "! CLM not asked: no CLM hosts"
    try:
        async with args.client_factory() as client:
            answer = await list_attribute_groups(
                client, profile.clm_hosts.general, profile.account_id, access_token
            )
    except ClmWizardError as error:
        warn(redact(error.render()).removeprefix("✗ "))
        return f"✗ {error.what}"
    return f"✓ {answer.describe()}"


__all__ = ["SECRET_ENV", "check_reachable", "host_of", "open_store", "read_secret", "run"]
