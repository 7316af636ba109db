"""Sign-in orchestration shared by the CLI commands and the wizard: exchange, discover, store,
refresh and rotate. Nothing here prints; every failure is a ClmWizardError.

Two runs at once (cron and the wizard, two cron jobs): every read-then-write of a profile's
tokens happens under the profile's grant lock (`ProfileStore.grant_lock`), and what is used is
read under it, so no run ever sends or overwrites a refresh token another run has replaced.
A refresh token DocuSign hands back exists only in memory for one keyring write: it is stored
first, alone, inside `interrupts.deferred()` (SIGTERM / SIGHUP wait for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from clmwizard.docusign.discovery import (
    Account,
    UserInfo,
    choose_account,
    discover_clm_hosts,
    fetch_userinfo,
)
from clmwizard.docusign.environments import Environment, environment_of
from clmwizard.docusign.keys import validate_secret_key
from clmwizard.docusign.oauth import TokenSet, exchange_code, refresh_grant
from clmwizard.errors import ClmWizardError, GrantDeadError, KeyringError, UsageError
from clmwizard.http import make_client
from clmwizard.interrupts import deferred
from clmwizard.redact import register_secret
from clmwizard.store.locking import held_in_thread
from clmwizard.store.profile import ACCESS_TOKEN, REFRESH_TOKEN, SECRET_KEY, ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore, ProfileWriteError
from clmwizard.store.secrets import SecretStore

REFRESH_LIFETIME = timedelta(days=30)


def utcnow() -> datetime:
    return datetime.now(UTC)


_TOKEN_ITEMS = (SECRET_KEY, REFRESH_TOKEN, ACCESS_TOKEN)


@dataclass(frozen=True)
class LoginResult:
    tokens: TokenSet
    userinfo: UserInfo
    account: Account


@dataclass(frozen=True)
class RefreshResult:
    profile: Profile
    tokens: TokenSet

    @property
    def access_expires_at(self) -> datetime:
        return self.tokens.access_expires_at

    @property
    def refresh_expires_at(self) -> datetime | None:
        return self.profile.refresh_token_expires_at


@dataclass(frozen=True)
class RotateResult:
    profile: Profile
    tokens: TokenSet


def refresh_expiry_estimate(
    scopes: Iterable[str], *, now: datetime, consented_at: datetime | None
) -> datetime:
    """DocuSign does not say: with `extended` 30 days from now, else 30 days from consent."""
    if "extended" in set(scopes):
        return now + REFRESH_LIFETIME
    return (consented_at or now) + REFRESH_LIFETIME


# The wizard's own controls, for the wizard wording of errors whose CLI fix names a command.
RECONSENT = "c (re-consent) on the start screen"
WIZARD_KEYS = {"refresh": "f (refresh)", "rotate": "s (rotate secret)"}

DOCUSIGN_AUTH_SERVERS = frozenset(
    {"https://account.docusign.com", "https://account-d.docusign.com"}
)


def is_docusign_auth_server(origin: str) -> bool:
    return origin.rstrip("/").lower() in DOCUSIGN_AUTH_SERVERS


def unconfirmed_auth_server(profile: Profile) -> str | None:
    """The profile's OAuth server when it is not DocuSign's and was never confirmed, else None.

    Profiles saved before `trusted_auth_server` existed (a custom or loopback server, e.g. the
    demo's emulator) have none recorded: the wizard asks once and confirms it with
    `trust_server=True`; the command line keeps refusing until `--trust-server`.
    """
    server = profile.auth_server
    if is_docusign_auth_server(server) or profile.trusted_auth_server == server:
        return None
    return server


def _check_server_trusted(
    profiles: ProfileStore, profile: Profile, *, trust_server: bool, command: str
) -> Profile:
    """Refuse to send the secret key and tokens to an OAuth server that is not DocuSign's unless
    the user confirmed that server once (recorded in the profile); `trust_server` confirms it."""
    server = profile.auth_server
    if is_docusign_auth_server(server) or profile.trusted_auth_server == server:
        return profile
    if not trust_server:
        raise UsageError(
            f"Profile {profile.name} would send its secret key and refresh token to {server}, "
            "which is not a DocuSign server, and that server was never confirmed.",
            cause="The profile's auth_server was changed outside a sign-in (by hand, a sync "
            "tool, or someone else), or the profile predates this check.",
            fix=f"Check `clmwizard profiles show {profile.name}`. If {server} is yours (a proxy "
            f"or a test server), confirm it once: clmwizard {command} --profile {profile.name} "
            "--trust-server. Otherwise sign in again.",
            wizard_fix=f"If {server} is yours (a proxy or a test server), press "
            f"{WIZARD_KEYS.get(command, 'the same key')} again on the start screen and confirm "
            f"the server when asked. Otherwise consent again with {RECONSENT}.",
            field="auth_server",
            code="untrusted_server",
        )

    def trust(stored: Profile) -> None:
        stored.trusted_auth_server = server

    return profiles.update(profile.name, trust)


def _doing(what: str, name: str) -> str:
    from clmwizard.store.locking import holder_description

    return f"{holder_description()}: {what} of profile {name}"


@contextlib.asynccontextmanager
async def _client(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    if client is not None:
        yield client
        return
    async with make_client() as own:
        yield own


async def complete_login(
    client: httpx.AsyncClient,
    env: Environment,
    integration_key: str,
    secret_key: str,
    code: str,
    code_verifier: str | None,
    *,
    account_id: str | None = None,
) -> LoginResult:
    """Exchange the code, ask who signed in (once) and choose the account."""
    tokens = await exchange_code(client, env, integration_key, secret_key, code, code_verifier)
    userinfo = await fetch_userinfo(client, env, tokens.access_token)
    return LoginResult(tokens, userinfo, choose_account(userinfo, account_id))


async def discover_hosts(
    client: httpx.AsyncClient, env: Environment, login: LoginResult
) -> ClmHosts:
    return await discover_clm_hosts(
        client, env, login.account.account_id, login.tokens.access_token
    )


def profile_after_login(
    base: Profile,
    tokens: TokenSet,
    userinfo: UserInfo,
    account: Account,
    hosts: ClmHosts | None,
    *,
    now: datetime,
) -> Profile:
    """`base` (environment, key, scopes, redirect URI) completed with what sign-in learned."""
    return dataclasses.replace(
        base,
        user_id=userinfo.user_id or None,
        user_email=userinfo.email or None,
        user_name=userinfo.name or None,
        account_id=account.account_id,
        account_name=account.account_name or None,
        esign_base_uri=account.base_uri or None,
        clm_hosts=hosts,
        access_token_expires_at=tokens.access_expires_at,
        refresh_token_expires_at=refresh_expiry_estimate(base.scopes, now=now, consented_at=now),
        consented_at=now,
        last_refresh_at=now,
    )


# What a sign-in does not decide: kept from the stored profile as it is when the sign-in is
# saved (an export or a rotation recorded while the user was consenting is not lost).
_KEPT_ON_LOGIN = ("jwt_user_id", "last_rotation_at", "exports")


def store_login(
    profiles: ProfileStore,
    secrets: SecretStore,
    profile: Profile,
    secret_key: str,
    tokens: TokenSet,
) -> Profile:
    """Secrets first (all or nothing), then the profile; a failed profile write puts the
    previous secrets back, so nothing is half-stored.

    Runs under the grant lock and merges into the profile as stored now (reloaded under the
    lock), so a refresh or an export that ran while the user consented is neither overwritten
    by a stale copy nor able to write the old grant's token over the new one afterwards.
    Returns the profile as saved.
    """
    with profiles.grant_lock(profile.name, _doing("sign-in", profile.name)), deferred():
        if profiles.exists(profile.name):
            current = profiles.load(profile.name)
            kept = {name: getattr(current, name) for name in _KEPT_ON_LOGIN}
            profile = dataclasses.replace(profile, **kept)
        # The server this sign-in just used was chosen by the user in this run: confirmed.
        trusted = None if is_docusign_auth_server(profile.auth_server) else profile.auth_server
        profile = dataclasses.replace(profile, trusted_auth_server=trusted)
        previous = {item: secrets.get(profile.name, item) for item in _TOKEN_ITEMS}
        secrets.set_many(
            profile.name,
            {
                SECRET_KEY: secret_key,
                REFRESH_TOKEN: tokens.refresh_token,
                ACCESS_TOKEN: tokens.access_token,
            },
        )
        try:
            profiles.save(profile)
        except BaseException as error:
            _restore(secrets, profile.name, previous)
            if isinstance(error, ProfileWriteError):
                error.what = (
                    f"The sign-in worked, but profile {profile.name} could not be saved: "
                    + error.what[0].lower()
                    + error.what[1:]
                )
                error.fix = (
                    f"{error.fix} Nothing changed: the keyring and the profile hold what they "
                    f"held before this sign-in. Then sign in again (clmwizard login --profile "
                    f"{profile.name} …)."
                )
                error.wizard_fix = (
                    f"{error.wizard_fix or error.fix} Nothing changed: the keyring and the "
                    "profile hold what they held before this sign-in. Then save again (enter)."
                )
            raise
    return profile


def _restore(secrets: SecretStore, name: str, previous: Mapping[str, str | None]) -> None:
    kept = {item: value for item, value in previous.items() if value is not None}
    missing = [item for item, value in previous.items() if value is None]
    with contextlib.suppress(ClmWizardError):
        if kept:
            secrets.set_many(name, kept)
        if missing:
            secrets.delete(name, missing)


def _stored(secrets: SecretStore, profile: Profile, item: str) -> str:
    value = secrets.get(profile.name, item)
    if not value:
        what = {SECRET_KEY: "secret key", REFRESH_TOKEN: "refresh token"}.get(item, item)
        raise GrantDeadError(
            f"The profile {profile.name} has no {what} in the keyring.",
            cause="It never completed a sign-in on this computer, or the keyring entry was "
            "deleted (or the sign-in ran with --ephemeral).",
            fix=f"Sign in again: clmwizard login --profile {profile.name} --integration-key "
            f"{profile.integration_key}",
            wizard_cause="It never completed a sign-in on this computer, or the keyring entry "
            "was deleted (or the sign-in kept the secrets in memory for that run only).",
            wizard_fix=f"Sign in again with {RECONSENT}.",
            code=f"missing_{item}",
        )
    register_secret(value)
    return value


def _day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "an unknown date"


def explain_dead_grant(error: GrantDeadError, profile: Profile, now: datetime) -> GrantDeadError:
    """Name the most likely cause of a refused refresh from what the profile knows."""
    login = f"clmwizard login --profile {profile.name} --integration-key {profile.integration_key}"
    if error.code in ("invalid_client", "expired_client_token", "secret_refused"):
        return GrantDeadError(
            f"DocuSign refused the stored secret key ({error.code}).",
            cause="The secret key was deleted (revoked) in DocuSign, or replaced by another.",
            fix="Add a new secret key in Apps and Keys → your app → Secret Keys and store it "
            f"with `clmwizard rotate --profile {profile.name}`; the grant itself may still be "
            "alive.",
            field="secret_key",
            code="secret_revoked",
        )
    if error.code != "invalid_grant":
        return error
    said = error.what.lower()
    said_expired = "expired" in said
    if "revoked" in said:
        return _revoked(profile, login)
    if "extended" not in profile.scopes:
        expires = refresh_expiry_estimate(
            profile.scopes, now=now, consented_at=profile.consented_at
        )
        if said_expired or (profile.consented_at is not None and now >= expires):
            return GrantDeadError(
                "The refresh token expired: without `extended` it dies 30 days after consent "
                f"(consent given {_day(profile.consented_at)}).",
                cause="Refreshing never extends a grant that lacks the `extended` scope.",
                fix=f'Consent again with `extended`: {login} --scopes "'
                + " ".join([*profile.scopes, "extended"])
                + '"; then the daily heartbeat keeps it alive.',
                wizard_fix=f"Consent again with {RECONSENT} and choose `extended` on the "
                "Scopes step; then the daily heartbeat keeps it alive.",
                field="scopes",
                code="expired_no_extended",
            )
    expired = (
        profile.refresh_token_expires_at is not None and now >= profile.refresh_token_expires_at
    )
    if said_expired or expired:
        return GrantDeadError(
            "The refresh token expired: it went unused for more than 30 days "
            f"(last refresh {_day(profile.last_refresh_at or profile.consented_at)}).",
            cause="A refresh token lives about 30 days; each refresh with `extended` renews it.",
            fix=f"Consent again ({login}), then run `clmwizard refresh --profile "
            f"{profile.name}` daily (cron or a Power Automate heartbeat flow).",
            wizard_fix=f"Consent again with {RECONSENT}, then refresh it daily (a scheduled "
            "refresh or a Power Automate heartbeat flow).",
            code="expired_unused",
        )
    return _revoked(profile, login)


def _revoked(profile: Profile, login: str) -> GrantDeadError:
    return GrantDeadError(
        "DocuSign no longer accepts the grant: consent was probably revoked (invalid_grant).",
        cause="The user removed the app's consent (DocuSign → Profile → Connected Apps), an "
        "administrator revoked it, the user lost access to the account, or an earlier refresh "
        "used the token up and its answer was lost on the way.",
        fix=f"Consent again: {login}. Then update the connection in Power Automate.",
        code="consent_revoked",
    )


async def refresh_profile(
    profile_name: str,
    profiles: ProfileStore,
    secrets: SecretStore,
    *,
    client: httpx.AsyncClient | None = None,
    trust_server: bool = False,
) -> RefreshResult:
    """The heartbeat: refresh now and store the new tokens and expiry estimates.

    Under the grant lock: a second run waits, then refreshes with the token the first stored.
    """
    async with _grant_held(profiles, profile_name, "refresh", "refresh", trust_server) as profile:
        secret = await asyncio.to_thread(_stored, secrets, profile, SECRET_KEY)
        refresh = await asyncio.to_thread(_stored, secrets, profile, REFRESH_TOKEN)
        env = environment_of(profile)
        async with _client(client) as http:
            with deferred():
                try:
                    tokens = await refresh_grant(
                        http, env, profile.integration_key, secret, refresh
                    )
                except GrantDeadError as error:
                    await _replaced_meanwhile(secrets, profile, refresh, error)
                    raise explain_dead_grant(error, profile, utcnow()) from None
                await _store_new_refresh_token(secrets, profile, tokens)
                updated = await _store_the_rest(profiles, secrets, profile, tokens)
    return RefreshResult(updated, tokens)


@contextlib.asynccontextmanager
async def _grant_held(
    profiles: ProfileStore, name: str, doing: str, command: str, trust_server: bool
) -> AsyncIterator[Profile]:
    """Profile `name` as stored once its grant lock is held (while it is held), with its OAuth
    server trusted (`_check_server_trusted`)."""
    async with held_in_thread(profiles.grant_lock(name, _doing(doing, name))):
        profile = await asyncio.to_thread(profiles.load, name)
        yield await asyncio.to_thread(
            _check_server_trusted, profiles, profile, trust_server=trust_server, command=command
        )


async def _replaced_meanwhile(
    secrets: SecretStore, profile: Profile, used: str, error: GrantDeadError
) -> None:
    """A refused refresh token that is no longer the stored one was replaced by another writer
    (one that ignores the grant lock, such as an older clmwizard): say so, not "revoked"."""
    if error.code != "invalid_grant":
        return
    try:
        stored = await asyncio.to_thread(secrets.get, profile.name, REFRESH_TOKEN)
    except ClmWizardError:
        return
    if stored and stored != used:
        raise GrantDeadError(
            "DocuSign refused the refresh token this run read, but another program has "
            "stored a newer one meanwhile; the grant is probably alive.",
            cause="Another clmwizard (or a program writing the keyring directly) refreshed "
            "or signed in at the same moment without waiting for this one.",
            fix=f"Run `clmwizard refresh --profile {profile.name}` again: it uses the newer "
            "token. Run only one scheduled refresh per profile.",
            wizard_fix="Press f (refresh) again on the start screen: it uses the newer token. "
            "Run only one scheduled refresh per profile.",
            code="replaced_meanwhile",
        ) from None


async def _store_new_refresh_token(
    secrets: SecretStore, profile: Profile, tokens: TokenSet, *, rotating: bool = False
) -> None:
    """The one write between DocuSign's answer and a grant that survives: first and alone."""
    try:
        await asyncio.to_thread(
            secrets.set_many, profile.name, {REFRESH_TOKEN: tokens.refresh_token}
        )
    except KeyringError as error:
        login = (
            f"clmwizard login --profile {profile.name} --integration-key {profile.integration_key}"
        )
        error.what = (
            f"{error.what} DocuSign had already answered the "
            + ("rotation's proving refresh" if rotating else "refresh")
            + ": the stored refresh token is used up, and the new one could not be stored."
        )
        error.fix = (
            f"The grant is lost. Fix the keyring ({error.fix.rstrip('.')}), then consent again: "
            f"{login}."
            + (" The stored secret key is unchanged and still valid." if rotating else "")
        )
        error.wizard_fix = (
            f"The grant is lost. Fix the keyring ({(error.wizard_fix or error.fix).rstrip('.')})"
            f", then consent again with {RECONSENT}."
            + (" The stored secret key is unchanged and still valid." if rotating else "")
        )
        raise


async def _store_the_rest(
    profiles: ProfileStore,
    secrets: SecretStore,
    profile: Profile,
    tokens: TokenSet,
    *,
    rotated: bool = False,
) -> Profile:
    """After the refresh token: the access token, then the profile's dates."""
    await asyncio.to_thread(secrets.set_many, profile.name, {ACCESS_TOKEN: tokens.access_token})
    try:
        return await asyncio.to_thread(
            profiles.update, profile.name, _after_refresh(tokens, rotated=rotated)
        )
    except ProfileWriteError as error:
        stored = (
            "The new secret key is stored and in use"
            if rotated
            else ("The new tokens are stored in the keyring and the grant is alive")
        )
        error.what = f"{stored}, but the profile could not be updated: {error.what}"
        error.fix = (
            f"{error.fix} Then run `clmwizard refresh --profile {profile.name}` to bring its "
            "dates up to date (until then they are a refresh behind)."
        )
        error.wizard_fix = (
            f"{error.wizard_fix or error.fix} Then press f (refresh) on the start screen to "
            "bring its dates up to date (until then they are a refresh behind)."
        )
        raise


def _after_refresh(tokens: TokenSet, *, rotated: bool = False) -> Callable[[Profile], None]:
    def change(profile: Profile) -> None:
        now = tokens.obtained_at
        profile.last_refresh_at = now
        profile.access_token_expires_at = tokens.access_expires_at
        profile.refresh_token_expires_at = refresh_expiry_estimate(
            profile.scopes, now=now, consented_at=profile.consented_at
        )
        if rotated:
            profile.last_rotation_at = now

    return change


async def rotate_secret(
    profile_name: str,
    new_secret: str,
    profiles: ProfileStore,
    secrets: SecretStore,
    *,
    client: httpx.AsyncClient | None = None,
    trust_server: bool = False,
) -> RotateResult:
    """Prove `new_secret` with a refresh; only then store it (and the new tokens).

    Under the grant lock, like a refresh: a rotation and a refresh at once run one after the
    other, each with the refresh token the other left.
    """
    async with _grant_held(profiles, profile_name, "rotation", "rotate", trust_server) as profile:
        new = validate_secret_key(new_secret, profile.integration_key)
        old = await asyncio.to_thread(_stored, secrets, profile, SECRET_KEY)
        if new == old:
            raise UsageError(
                "That is the secret key already stored.",
                fix="Add a new secret key in Apps and Keys → your app → Secret Keys, and give "
                "that.",
                field="secret_key",
                code="same_secret",
            )
        refresh = await asyncio.to_thread(_stored, secrets, profile, REFRESH_TOKEN)
        env = environment_of(profile)
        async with _client(client) as http:
            with deferred():
                tokens = await _prove(http, env, profile, new, refresh)
                # The refresh token first: the old one is used up, and the old secret still
                # works with the new token, so a crash after this first write leaves a working
                # pair.
                await _store_new_refresh_token(secrets, profile, tokens, rotating=True)
                try:
                    await asyncio.to_thread(secrets.set_many, profile.name, {SECRET_KEY: new})
                except KeyringError as error:
                    error.fix = (
                        f"{error.fix} The new secret works but could not be stored; the old one "
                        "(still stored) works too: keep it in DocuSign until a rotation "
                        "succeeds."
                    ).strip()
                    raise
                updated = await _store_the_rest(profiles, secrets, profile, tokens, rotated=True)
    return RotateResult(updated, tokens)


async def _prove(
    http: httpx.AsyncClient, env: Environment, profile: Profile, new: str, refresh: str
) -> TokenSet:
    try:
        return await refresh_grant(http, env, profile.integration_key, new, refresh)
    except GrantDeadError as error:
        if error.field == "secret_key" or error.code == "unauthorized_client":
            raise UsageError(
                f"DocuSign refused the new secret key ({error.code}). Nothing changed: "
                "the stored secret key is still in use.",
                cause="The new secret was mistyped, belongs to another integration key, or "
                "was already deleted.",
                fix="Paste the new secret exactly as DocuSign showed it; DocuSign shows a secret "
                "once, so if it is lost add a new secret key (Apps and Keys → your app → Secret "
                "Keys → Add Secret Key).",
                field="secret_key",
                code=error.code,
            ) from None
        raise explain_dead_grant(error, profile, utcnow()) from None
    except ClmWizardError as error:
        error.fix = f"{error.fix} Nothing changed: the stored secret key is still in use."
        raise
