"""The closing summary: what exists now and the steps left by hand, with where to do each.

The wizard prints it to the terminal once its screen is gone (so nothing vanishes with the
screen); `login` ends with the same steps. Built from the stored profile only: no secret is in
a profile, so none can reach the summary. No Textual or httpx import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from clmwizard.powerplatform.rotation_proof import DELETE_OLD_SECRET, keep_old_secret, latest_due
from clmwizard.store.profile import HeartbeatRecord, Profile

APPS_AND_KEYS = "DocuSign: Settings → Apps and Keys → your integration key → Edit → Redirect URIs"
POWER_AUTOMATE = "Power Automate (make.powerautomate.com)"
# A redirect URL a DocuSign sign-in came back to: proven registered (the check before a sign-in
# can only say when one is NOT registered).
PROVEN = "✓ proven"
PROVEN_BY_CONNECT = f"{PROVEN}: the connection's DocuSign sign-in came back to it (Connected)"


def proven_by_heartbeat(beat: HeartbeatRecord) -> str:
    return (
        f"{PROVEN}: the heartbeat run signed in to DocuSign through it ({_stamp(beat.last_run_at)})"
    )


@dataclass
class ClosingNotes:
    """What the wizard learned this run that the profile does not keep: the profile worked
    on, and DocuSign's verdict on each redirect URL asked about (redirect URL → verdict line)."""

    profile_name: str | None = None
    verdicts: dict[str, str] = field(default_factory=dict)
    secrets_where: str = ""


def _stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "time unknown"


def what_exists(
    profile: Profile, verdicts: Mapping[str, str] | None = None, secrets_where: str = ""
) -> list[str]:
    """Profile, bundle, connectors and their redirect URLs (with DocuSign's verdict)."""
    verdicts = verdicts or {}
    proven = _proven(profile)
    account = profile.account_name or "(no name)"
    lines = [f"  Profile      {profile.name} ({profile.environment} environment)"]
    if profile.account_id:
        lines.append(f"  Account      {account} ({profile.account_id})")
    if secrets_where:
        lines.append(f"  Secrets      {secrets_where}")
    if profile.exports:
        last = profile.exports[-1]
        lines.append(f"  Bundle       {last.path} ({last.layout} layout, {_stamp(last.at)})")
    else:
        lines.append("  Bundle       none exported")
    if not profile.publications:
        lines.append("  Connectors   none published")
    for record in profile.publications:
        lines.append(f"  Connectors   in environment {record.environment_id}:")
        for connector in record.connectors:
            lines.append(
                f"    {connector.display_name} ({connector.key})  id {connector.connector_id}"
            )
            if connector.redirect_url:
                lines.append("      redirect URL (on a line of its own, to select whole):")
                lines.append(connector.redirect_url)
                verdict = verdicts.get(connector.redirect_url, "not asked in this run")
                if connector.connector_id in proven and record.heartbeat is not None:
                    verdict = proven_by_heartbeat(record.heartbeat)
                lines.append(f"      DocuSign: {verdict}")
            if connector.connection_name:
                lines.append(f"      connection {connector.connection_name}")
        beat = record.heartbeat
        if beat is not None:
            runs = "no run yet"
            if beat.last_run_status:
                said = f": {beat.last_result}" if beat.last_result else ""
                runs = f"last run {beat.last_run_status.lower()}{said} ({_stamp(beat.last_run_at)})"
            lines.append(
                f"  Heartbeat    flow {beat.flow_id}, {beat.state}, every {beat.every}; {runs}"
            )
    return lines


def _proven(profile: Profile) -> set[str]:
    """Connectors a heartbeat run went through successfully: connected, their redirect URL
    registered (the DocuSign sign-in came back to it), kept alive while the flow is on."""
    return {
        connector.connector_id
        for record in profile.publications
        if record.heartbeat is not None and record.heartbeat.last_run_status == "Succeeded"
        for connector in record.connectors
        if connector.key == record.heartbeat.connector_key and connector.connection_name
    }


def _heartbeat_on(profile: Profile) -> bool:
    beats = [record.heartbeat for record in profile.publications]
    return bool(beats) and all(beat is not None and beat.state == "on" for beat in beats)


def _redirect_urls(profile: Profile) -> list[str]:
    urls = [
        connector.redirect_url
        for record in profile.publications
        for connector in record.connectors
        if connector.redirect_url
    ]
    return list(dict.fromkeys(urls))


def steps_left(profile: Profile, verdicts: Mapping[str, str] | None = None) -> list[str]:
    """The numbered steps still to do by hand, each saying where."""
    verdicts = verdicts or {}
    name = profile.name
    steps: list[str] = []
    if not profile.publications:
        if profile.exports:
            where = profile.exports[-1].path
            steps.append(
                f"Create the connector — this terminal: `clmwizard publish --profile {name}`, "
                f"or import the bundle as {where}/README.md says (paconn or pac)."
            )
        else:
            steps.append(
                f"Create the connector — this terminal: `clmwizard publish --profile {name}` "
                f"(or `clmwizard export --profile {name} --out DIR` for paconn / pac)."
            )
        steps.append(
            "Register the connector's redirect URL (Power Automate shows it on the connector's "
            f"Security tab) — {APPS_AND_KEYS} → Add URI → Save."
        )
    else:
        # Before a sign-in DocuSign can only say when a redirect URI is NOT registered (✗).
        proven = _proven(profile)
        done = {
            connector.redirect_url
            for record in profile.publications
            for connector in record.connectors
            if connector.connector_id in proven
        }
        for url in _redirect_urls(profile):
            if url in done or verdicts.get(url, "").startswith(PROVEN):
                continue
            if verdicts.get(url, "").startswith("✗"):
                what = "Register this redirect URL (DocuSign says it is not registered)"
            else:
                what = "Register this redirect URL, unless done already"
            steps.append(f"{what} — {APPS_AND_KEYS} → Add URI → Save:\n{url}")
    if not profile.publications:
        steps.append(
            f"Create the connection and test it — {POWER_AUTOMATE} → Create → Instant cloud "
            "flow → action List attribute groups of the DocuSign CLM connector → sign in with "
            f"DocuSign (after `publish`, `clmwizard connect --profile {name}` does it)."
        )
        steps.append(
            f"Keep it alive — {POWER_AUTOMATE} → Create → Scheduled cloud flow, every 1 day → "
            "the same List attribute groups action through the same connection (after "
            f"`publish`, `clmwizard heartbeat --profile {name}` does it)."
        )
        return [f"  {number}. {step}" for number, step in enumerate(steps, start=1)]
    connectors = [c for record in profile.publications for c in record.connectors]
    if not all(connector.connection_name for connector in connectors):
        steps.append(
            f"Create the connection — this terminal: `clmwizard connect --profile {name}` "
            "(sign in with DocuSign in the browser; it waits until the connection reads "
            f"Connected), or by hand: {POWER_AUTOMATE} → Data → Connections → + New connection "
            "→ the connector."
        )
    if not _heartbeat_on(profile):
        steps.append(
            f"Test it and keep it alive — this terminal: `clmwizard heartbeat --profile {name}` "
            "(a daily flow through the connection, run once now: the end-to-end test), or by "
            f"hand: {POWER_AUTOMATE} → Create → Scheduled cloud flow, every 1 day → List "
            "attribute groups of the connector."
        )
    due = latest_due(profile)
    if due is not None:
        steps.append(
            f"After the secret rotation — {keep_old_secret(due)} Then delete it at DocuSign "
            f"({DELETE_OLD_SECRET}); `clmwizard status --profile {name}` says when."
        )
    steps.append(
        f"Check it at any time (or from cron) — this terminal: `clmwizard status --profile {name}`."
    )
    return [f"  {number}. {step}" for number, step in enumerate(steps, start=1)]


def closing_summary(
    profile: Profile,
    verdicts: Mapping[str, str] | None = None,
    secrets_where: str = "",
    *,
    demo: bool = False,
) -> str:
    heading = "Left to do by hand:"
    if demo:
        heading = "Left to do by hand (the demo kept nothing: with your own key, these):"
    lines = [
        f"clmwizard: where profile {profile.name} stands",
        *what_exists(profile, verdicts, secrets_where),
        "",
        heading,
        *steps_left(profile, verdicts),
    ]
    return "\n".join(lines) + "\n"


def left_by_hand(profile: Profile, verdicts: Mapping[str, str] | None = None) -> list[str]:
    """The closing lines a CLI command that changed the profile ends with (login's, publish's
    and the wizard's steps): a blank line, the heading, the numbered steps."""
    return ["", "Left to do by hand:", *steps_left(profile, verdicts)]


def after_delete(profile: Profile | None) -> list[str]:
    """What a deleted profile leaves behind outside this machine, and the steps to remove it:
    clmwizard deletes only the profile file and its keyring items. `profile` is None when the
    file could not be read (then what it made is unknown)."""
    if profile is None:
        return [
            "",
            "What it made elsewhere is unknown (its file could not be read). Check by hand:",
            f"  1. Custom connectors and flows it may have made — {POWER_AUTOMATE} → Data → "
            "Custom connectors, and My flows.",
            f"  2. Redirect URIs and secret keys on the integration key — {APPS_AND_KEYS}.",
        ]
    lines = ["", "Still there (clmwizard deleted only the profile and its keyring items):"]
    steps: list[str] = []
    for record in profile.publications:
        for connector in record.connectors:
            lines.append(
                f"  Connector    {connector.display_name}  id {connector.connector_id} "
                f"(environment {record.environment_id})"
            )
            if connector.connection_name:
                lines.append(f"    connection {connector.connection_name}")
        if record.heartbeat is not None:
            lines.append(
                f"  Heartbeat    flow {record.heartbeat.flow_id}, {record.heartbeat.state}"
            )
    if profile.publications:
        steps.append(
            f"Delete the connectors (their connections go with them) — {POWER_AUTOMATE} → the "
            "environment → Data → Custom connectors → … → Delete."
        )
    if any(record.heartbeat is not None for record in profile.publications):
        steps.append(
            f"Delete the heartbeat flow (it fails daily without its connector) — {POWER_AUTOMATE} "
            "→ My flows → … → Delete."
        )
    for url in _redirect_urls(profile):
        steps.append(f"Remove this redirect URL — {APPS_AND_KEYS} → Delete:\n{url}")
    for export in profile.exports[-3:]:
        lines.append(f"  Bundle       {export.path}")
    if profile.exports:
        steps.append("Delete the bundle folder(s) above if you no longer need them.")
    lines.append(f"  DocuSign     the integration key {profile.integration_key} and its secret key")
    steps.append(
        "Delete the secret key if nothing else uses it — DocuSign: Settings → Apps and Keys → "
        "your integration key → Secret Keys → Delete."
    )
    return [
        *lines,
        "",
        "Left to do by hand:",
        *(f"  {number}. {step}" for number, step in enumerate(steps, start=1)),
    ]
