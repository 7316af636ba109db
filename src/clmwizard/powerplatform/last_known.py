"""A profile's last known health in one line, from what the profile remembers (no network):
the start screen shows it before anything is checked again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from clmwizard.powerplatform.health import Finding, Health, Verdict, assess, worst
from clmwizard.store.profile import Profile

# assess() without APIs adds the first to every profile with connectors; here it says nothing
# (the age beside the line says how old the knowledge is). The grant has its own column.
LEFT_OUT = (
    "Power Automate was not checked",
    "clmwizard's DocuSign grant",
    "clmwizard holds no DocuSign grant",
)


@dataclass(frozen=True)
class LastKnown:
    verdict: Verdict
    what: str  # the heartbeat's last result, or the worst finding
    todo: str
    at: datetime | None  # when this was last seen (the last run, else the publication)


def age(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "age unknown"
    seconds = max(0.0, (now - at).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def summarise(health: Health, profile: Profile) -> LastKnown:
    """One line of `health` (from assess): the worst finding, or the heartbeat's last run."""
    findings: list[Finding] = [f for f in health.findings if not f.what.startswith(LEFT_OUT)]
    verdict = worst([f.level for f in findings])
    published = [r.at for r in profile.publications if r.at is not None]
    beats = [r.heartbeat for r in profile.publications if r.heartbeat is not None]
    runs = [b for b in beats if b.last_run_at is not None]
    seen = max((b.last_run_at for b in runs if b.last_run_at), default=None)
    at = seen or max(published, default=None)
    if verdict == "ok" and runs:
        last = max(runs, key=lambda b: b.last_run_at or datetime.min.replace(tzinfo=UTC))
        result = f": {last.last_result}" if last.last_result else ""
        return LastKnown(
            "ok", f"heartbeat run {(last.last_run_status or '').lower()}{result}", "", at
        )
    problems = [f for f in findings if f.level == verdict]
    if not problems:
        return LastKnown(verdict, "published", "", at)
    first = problems[0]
    return LastKnown(verdict, first.what, first.todo, at)


async def last_known(profile: Profile, now: datetime | None = None) -> LastKnown | None:
    """None for a profile that published nothing (its grant line says all)."""
    if not profile.publications:
        return None
    health = await assess(profile, stored_secret=None, apis=None, now=now)
    return summarise(health, profile)
