"""Connect: a Power Automate connection to each connector a profile published, signed in to
DocuSign through the connector, remembered in the profile.

`targets` says what to connect, `ensure_connection` creates, reuses or finds one (a connection
made by hand in the portal counts), `wait_connected` polls until it reads `Connected` and turns
every other ending into a ClmWizardError in plain words with the next step. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from clmwizard.errors import ClmWizardError, GrantDeadError, NetworkError, UsageError
from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.connections import (
    Connection,
    confirm_consent_code,
    create_connection,
    get_connection,
    list_connections,
)
from clmwizard.powerplatform.polling import Tick, poll_until
from clmwizard.redact import register_secret
from clmwizard.store.profile import Profile, PublishedConnector, PublishRecord

How = Literal["reused", "found", "created"]


@dataclass(frozen=True)
class ConnectTarget:
    record: PublishRecord
    connector: PublishedConnector

    @property
    def environment_id(self) -> str:
        return self.record.environment_id


def targets(profile: Profile, environment: str | None) -> list[ConnectTarget]:
    """Every connector the profile published (in `environment`, when given)."""
    records = [
        r for r in profile.publications if environment is None or r.environment_id == environment
    ]
    if environment is None and len(records) > 1:
        listing = ", ".join(r.environment_id for r in records)
        raise UsageError(
            f"The profile {profile.name} published connectors in several environments ({listing}).",
            fix="Choose one with --environment.",
            field="environment",
            code="choose_environment",
        )
    found = [ConnectTarget(r, c) for r in records for c in r.connectors]
    if not found:
        where = f" in environment {environment}" if environment else ""
        raise UsageError(
            f"The profile {profile.name} has published no connector{where} yet.",
            fix=f"Publish first: clmwizard publish --profile {profile.name}"
            + (f" --environment {environment}" if environment else ""),
            field="environment",
            code="nothing_published",
        )
    return found


def connection_display_name(profile: Profile, connector: PublishedConnector) -> str:
    who = profile.user_email or profile.name
    return f"{connector.display_name} ({who})"[:200]


async def ensure_connection(
    api: PowerAppsApi, profile: Profile, target: ConnectTarget
) -> tuple[Connection, How]:
    """The profile's connection when it still exists; else one that already exists for the
    connector (made in the portal, or by a run that crashed before remembering it; a
    Connected one first); else a new one."""
    env, connector = target.environment_id, target.connector
    if connector.connection_name:
        known = await get_connection(api, env, connector.connector_id, connector.connection_name)
        if known is not None:
            return known, "reused"
    existing = await list_connections(api, env, connector.connector_id)
    if existing:
        existing.sort(key=lambda c: (not c.connected, c.name))
        return existing[0], "found"
    created = await create_connection(
        api, env, connector.connector_id, connection_display_name(profile, connector)
    )
    return created, "created"


def remember_connection(
    environment_id: str, connector_id: str, connection_name: str
) -> Callable[[Profile], None]:
    """A profile change (for ProfileStore.update): the connector's connection is this one."""

    def change(profile: Profile) -> None:
        for record in profile.publications:
            if record.environment_id != environment_id:
                continue
            for connector in record.connectors:
                if connector.connector_id == connector_id:
                    connector.connection_name = connection_name

    return change


def failure(connection: Connection, target: ConnectTarget, profile: str) -> ClmWizardError:
    """A connection in Error, in plain words with the next step."""
    said = f"{connection.error_code}: {connection.error_message}".strip(": ")
    cause = f"Power Automate says: {said}" if said else "Power Automate gives no reason."
    text = said.lower()
    again = f"clmwizard connect --profile {profile}"
    name = target.connector.display_name
    redirect = target.connector.redirect_url or "(the connector's redirect URL)"
    if "redirect" in text:
        return ClmWizardError(
            f"DocuSign rejected the redirect URL of {name}.",
            cause=f"{cause} DocuSign sends the sign-in back only to a redirect URI registered on "
            "the integration key.",
            fix=f"Register {redirect} at DocuSign (Apps and Keys → your app → Redirect URIs → "
            f"Add URI → Save), then run `{again}` again: it reuses this connection.",
            field="redirect_url",
            code="redirect_not_registered",
        )
    if "access_denied" in text or "declin" in text or "cancel" in text:
        return ClmWizardError(
            f"The DocuSign sign-in of {name} was declined.",
            cause=cause,
            fix=f"Run `{again}` again and choose Accept (Allow access) on DocuSign's page.",
            code="consent_declined",
        )
    if "invalid_client" in text or "client secret" in text or "unauthorized_client" in text:
        return ClmWizardError(
            f"DocuSign refused the client secret {name} carries.",
            cause=f"{cause} The connector still has a secret key that was rotated away (deleted "
            "at DocuSign).",
            fix=f"Give the connectors the current secret key: clmwizard publish --profile "
            f"{profile} (or finish `clmwizard rotate --profile {profile}`), then run "
            f"`{again}` again.",
            code="connector_secret_rejected",
        )
    if any(word in text for word in ("invalid_grant", "revoked", "expired", "refresh")):
        return GrantDeadError(
            f"The DocuSign sign-in of the connection to {name} no longer works.",
            cause=f"{cause} The grant was revoked at DocuSign or went unused for 30 days.",
            fix=f"Sign in again: `{again}` (it reuses the connection); then keep it alive with "
            f"`clmwizard heartbeat --profile {profile}`.",
            code="connection_grant_dead",
        )
    return ClmWizardError(
        f"The connection to {name} is in error.",
        cause=cause,
        fix=f"Run `{again}` again to sign in anew; if it keeps failing, open the connection in "
        "make.powerautomate.com → Data → Connections and choose Fix connection.",
        code="connection_error",
    )


def timed_out(target: ConnectTarget, profile: str, waited: float) -> ClmWizardError:
    redirect = target.connector.redirect_url
    register = (
        f" Most often DocuSign refused the redirect URL: register {redirect} at DocuSign (Apps "
        "and Keys → your app → Redirect URIs)."
        if redirect
        else ""
    )
    return NetworkError(
        f"The connection to {target.connector.display_name} was not signed in within "
        f"{waited:.0f} s.",
        cause="Nobody finished the DocuSign sign-in in the browser, or it failed there." + register,
        fix=f"Run `clmwizard connect --profile {profile}` again (it reuses the connection; "
        "--timeout gives more time).",
        code="connect_timeout",
    )


async def wait_connected(
    api: PowerAppsApi,
    target: ConnectTarget,
    initial: Connection,
    profile: str,
    *,
    timeout: float,
    poll: float,
    tick: Tick = lambda waited: None,
    returned: Callable[[], dict[str, str] | None] = lambda: None,
) -> Connection:
    """Poll until the connection reads Connected. An error it already had before the sign-in
    began (a dead grant) is not this sign-in's answer: only a new one ends the wait.
    `returned()` gives the query the browser came back with, once it has."""
    env, connector_id = target.environment_id, target.connector.connector_id
    before = (initial.error_code, initial.error_message)
    confirmed = False

    async def came_back() -> bool:
        nonlocal confirmed
        back = returned()
        if back and ("error" in back or "error_description" in back):
            code = back.get("error", "")[:100]
            message = back.get("error_description", "")[:400]
            raise failure(
                Connection(initial.name, connector_id, "", "Error", code, message), target, profile
            )
        if not back or not back.get("code") or confirmed:
            return False
        confirmed = True
        register_secret(back["code"])
        try:
            await confirm_consent_code(api, env, connector_id, initial.name, back["code"])
        except ClmWizardError as error:
            raise failure(
                Connection(initial.name, connector_id, "", "Error", "", error.cause),
                target,
                profile,
            ) from None
        return True  # read the result at once

    async def connected() -> Connection | None:
        current = await get_connection(api, env, connector_id, initial.name)
        if current is None:
            raise ClmWizardError(
                f"The connection to {target.connector.display_name} was deleted while "
                "waiting for the sign-in.",
                fix=f"Run `clmwizard connect --profile {profile}` again.",
                code="connection_deleted",
            )
        if current.connected:
            return current
        now_error = (current.error_code, current.error_message)
        if not current.signed_in_never and now_error != before:
            raise failure(current, target, profile)
        return None

    return await poll_until(
        connected,
        timeout=timeout,
        tick=tick,
        poll=poll,
        timed_out=lambda waited: timed_out(target, profile, waited),
        between=came_back,
    )
