"""Whether a CLM host is one of DocuSign's: hosts elsewhere need the user's explicit confirmation.

A discovery answer (or a typed host) decides where the exported connector sends every Power
Automate user's DocuSign token. DocuSign's CLM hosts live under `springcm.com` and
`docusign.net` (unconfirmed: DocuSign documents no complete list; these are the domains of the
documented hosts such as apina11.springcm.com and apiuatna11.springcm.com); the emulator and
custom servers in tests run on loopback. Anything else is shown with a warning and used only
once the user has confirmed it (`Profile.confirmed_hosts`, `--allow-host`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from clmwizard.docusign.environments import is_loopback_host
from clmwizard.errors import UsageError
from clmwizard.store.profile import ClmHosts

CLM_DOMAINS = ("springcm.com", "docusign.net")


@dataclass(frozen=True)
class HostCheck:
    """One host's verdict: `host` is the lower-case host name (with a port, if any)."""

    url: str
    host: str
    trusted: bool
    reason: str = ""


def host_key(url_or_host: str) -> str:
    """The lower-case `host[:port]` of a URL (or of a bare host), as profiles record it."""
    value = url_or_host.strip()
    parts = urlsplit(value if "//" in value else f"//{value}")
    return (parts.netloc or value).lower().rsplit("@", 1)[-1]


def check_clm_host(url: str) -> HostCheck:
    """Whether `url` is on one of DocuSign's CLM domains over https (or on loopback)."""
    parts = urlsplit(url.strip())
    name = (parts.hostname or "").lower().rstrip(".")
    host = host_key(url)
    if name and is_loopback_host(name):
        return HostCheck(url, host, True)
    on_domain = any(name == domain or name.endswith(f".{domain}") for domain in CLM_DOMAINS)
    if parts.scheme != "https":
        return HostCheck(url, host, False, f"{host} is not reached over https")
    if not on_domain:
        return HostCheck(
            url, host, False, f"{host} is outside DocuSign's CLM domains ({', '.join(CLM_DOMAINS)})"
        )
    return HostCheck(url, host, True)


def untrusted_hosts(hosts: ClmHosts) -> list[HostCheck]:
    """The CLM hosts that need confirmation, each once."""
    seen: dict[str, HostCheck] = {}
    for url in (hosts.general, hosts.upload, hosts.download):
        verdict = check_clm_host(url)
        if not verdict.trusted and verdict.host not in seen:
            seen[verdict.host] = verdict
    return list(seen.values())


def unconfirmed_hosts(hosts: ClmHosts, confirmed: Iterable[str]) -> list[HostCheck]:
    """The untrusted CLM hosts not among `confirmed` (host names or URLs)."""
    allowed = {host_key(item) for item in confirmed}
    return [verdict for verdict in untrusted_hosts(hosts) if verdict.host not in allowed]


def host_warning(url: str, confirmed: Iterable[str]) -> str | None:
    """The warning to show beside `url` when it is not one of DocuSign's CLM hosts, else None;
    `confirmed` (the profile's confirmed_hosts) says whether the user has confirmed it."""
    verdict = check_clm_host(url)
    if verdict.trusted:
        return None
    allowed = {host_key(item) for item in confirmed}
    status = "confirmed by you" if verdict.host in allowed else "NOT confirmed"
    return f"{verdict.reason} ({status})."


def unconfirmed_error(unconfirmed: list[HostCheck], *, doing: str, retry: str) -> UsageError:
    """The refusal for hosts nobody confirmed; `retry` is the command to run with --allow-host."""
    names = ", ".join(verdict.host for verdict in unconfirmed)
    flags = " ".join(f"--allow-host {verdict.host}" for verdict in unconfirmed)
    reasons = "; ".join(verdict.reason for verdict in unconfirmed)
    return UsageError(
        f"Not {doing}: the CLM hosts include {names}, which is not one of DocuSign's.",
        cause=f"{reasons}. The connector would send every Power Automate user's DocuSign "
        "token there. A discovery answer from a misconfigured or compromised server, or a "
        "mistyped host, looks like this.",
        fix=f"Check with your CLM admin (Admin → System Domains) that this is your account's "
        f"host. Only if it is, run `{retry} {flags}`.",
        wizard_fix="Check with your CLM admin (Admin → System Domains) that this is your "
        "account's host. Only if it is, confirm it when the wizard asks (save the Discovery "
        "step again); otherwise correct the host there.",
        field="clm_hosts",
        code="untrusted_host",
    )
