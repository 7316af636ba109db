"""Where the Microsoft side lives: client id, tenant, authority, Power Apps and Flow URLs.

Defaults are those of paconn's MSAL version (see the README, "Publishing"); each one is
settable for organisations with their own app registration and for sovereign clouds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

from clmwizard.errors import UsageError

if TYPE_CHECKING:
    from clmwizard.store.profile import Profile
    from clmwizard.store.profiles import ProfileStore

DEFAULT_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the Azure CLI's public client
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/"
DEFAULT_TENANT = "common"
DEFAULT_POWER_APPS_URL = "https://api.powerapps.com"
DEFAULT_FLOW_URL = "https://api.flow.microsoft.com"
POWER_APPS_SCOPE = "https://service.powerapps.com/.default"
FLOW_SCOPE = "https://service.flow.microsoft.com/.default"  # the Flow API's audience
API_VERSION = "2016-11-01"
CA_BUNDLE_ENV = "CLMWIZARD_CA_BUNDLE"  # a PEM file of extra CAs to trust (the emulator's)
MS_SECRET_ENV = "CLMWIZARD_MS_CLIENT_SECRET"  # a service principal's client secret


# Where Microsoft's Power Apps and Flow APIs live, public and sovereign clouds (unconfirmed:
# Microsoft documents no complete list; these are the domains of the documented endpoints).
# A Microsoft token goes to any other host only once the user confirmed it.
MICROSOFT_API_DOMAINS = (
    "powerapps.com",
    "powerapps.us",
    "powerapps.cn",
    "appsplatform.us",
    "flow.microsoft.com",
    "flow.microsoft.us",
    "powerautomate.cn",
)

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}")


class MicrosoftChoices(TypedDict, total=False):
    """The settings a user or a record may give; None (or absent) keeps the one beneath."""

    client_id: str | None
    tenant: str | None
    authority: str | None
    power_apps_url: str | None
    flow_url: str | None


@dataclass(frozen=True)
class MicrosoftSettings:
    client_id: str = DEFAULT_CLIENT_ID
    tenant: str = DEFAULT_TENANT
    authority: str = DEFAULT_AUTHORITY
    power_apps_url: str = DEFAULT_POWER_APPS_URL
    flow_url: str = DEFAULT_FLOW_URL
    scope: str = POWER_APPS_SCOPE
    ca_bundle: str | None = None  # path to a PEM file; None: the system's trust store

    @property
    def authority_url(self) -> str:
        return f"{self.authority.rstrip('/')}/{self.tenant}"

    @property
    def for_flow(self) -> MicrosoftSettings:
        """The same sign-in, asking for a token for the Flow API instead."""
        return replace(self, scope=FLOW_SCOPE)

    @property
    def is_microsoft_authority(self) -> bool:
        """One of Microsoft's sign-in hosts (public and sovereign clouds), as MSAL itself lists
        them (`msal.authority.WELL_KNOWN_AUTHORITY_HOSTS`): instance discovery stays on."""
        from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

        return (urlsplit(self.authority).hostname or "").lower() in WELL_KNOWN_AUTHORITY_HOSTS


def _matching(value: str, pattern: re.Pattern[str], refusal: str, *, fix: str, field: str) -> str:
    """`value` without surrounding spaces when `pattern` matches all of it, else a UsageError."""
    if not pattern.fullmatch(value.strip()):
        raise UsageError(refusal, fix=fix, field=field)
    return value.strip()


def _https_origin(value: str, what: str, flag: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(
            f"{what} must be an https:// address, not {value!r}.",
            fix=f"Give {flag} like https://api.powerapps.com (Microsoft's sign-in and APIs "
            "only speak HTTPS).",
            field=flag.lstrip("-").replace("-", "_"),
        )
    return value.rstrip("/")


def make_settings(
    *,
    client_id: str | None = None,
    tenant: str | None = None,
    authority: str | None = None,
    power_apps_url: str | None = None,
    flow_url: str | None = None,
    ca_bundle: str | None = None,
    base: MicrosoftSettings | None = None,
) -> MicrosoftSettings:
    """Settings from the defaults (or `base`) with the given values checked and applied."""
    settings = base or MicrosoftSettings(ca_bundle=os.environ.get(CA_BUNDLE_ENV) or None)
    changes: dict[str, str | None] = {}
    if client_id is not None:
        changes["client_id"] = _matching(
            client_id,
            _GUID,
            f"The client id {client_id!r} is not an application (client) id.",
            fix="Give --client-id as the GUID of your app registration (Entra ID → App "
            "registrations → Overview).",
            field="client_id",
        ).lower()
    if tenant is not None:
        changes["tenant"] = _matching(
            tenant,
            _TENANT,
            f"The tenant {tenant!r} is not a tenant id or domain.",
            fix="Give --tenant as common, organizations, a tenant GUID or a domain "
            "like contoso.onmicrosoft.com.",
            field="tenant",
        )
    if authority is not None:
        checked = _https_origin(authority, "The authority", "--authority")
        path = urlsplit(checked).path.strip("/")
        if path and tenant is None:  # https://login.microsoftonline.com/<tenant>: split it
            if not _TENANT.fullmatch(path):
                raise UsageError(
                    f"The authority {checked!r} has a path that is not a tenant.",
                    fix="Give --authority as the sign-in origin (https://login.microsoftonline"
                    ".com) and the tenant with --tenant.",
                    field="authority",
                )
            changes["tenant"] = path
        origin = urlsplit(checked)
        changes["authority"] = f"{origin.scheme}://{origin.netloc}/" if path else checked + "/"
    if power_apps_url is not None:
        changes["power_apps_url"] = _https_origin(
            power_apps_url, "The Power Apps URL", "--power-apps-url"
        )
    if flow_url is not None:
        changes["flow_url"] = _https_origin(flow_url, "The Flow URL", "--flow-url")
    if ca_bundle is not None:
        changes["ca_bundle"] = ca_bundle
    return replace(settings, **changes)  # type: ignore[arg-type]


def api_host(url: str) -> str:
    """The lower-case `host[:port]` of an API URL, as profiles record a confirmed one."""
    return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]


def _is_loopback(name: str) -> bool:
    import ipaddress

    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def unconfirmed_api_hosts(settings: MicrosoftSettings, confirmed: Iterable[str]) -> list[str]:
    """The hosts of the Power Apps and Flow URLs the Microsoft token would go to that are
    neither Microsoft's nor on loopback (the emulator's) nor among `confirmed`."""
    found: list[str] = []
    for url in (settings.power_apps_url, settings.flow_url):
        name = (urlsplit(url).hostname or "").lower().rstrip(".")
        microsoft = any(name == d or name.endswith(f".{d}") for d in MICROSOFT_API_DOMAINS)
        host = api_host(url)
        if not (microsoft or _is_loopback(name) or host in confirmed or host in found):
            found.append(host)
    return found


def confirm_api_hosts(
    profiles: ProfileStore, profile: Profile, settings: MicrosoftSettings, *, trust: bool
) -> None:
    """Refuse a Power Apps or Flow host that is not Microsoft's unless the user confirmed it
    once (`trust`: --trust-server), which the profile then records."""
    hosts = unconfirmed_api_hosts(settings, profile.trusted_api_hosts)
    if hosts and not trust:
        raise unconfirmed_api_error(hosts)
    if hosts:

        def record(stored: Profile) -> None:
            stored.trusted_api_hosts = sorted({*stored.trusted_api_hosts, *hosts})

        profiles.update(profile.name, record)


def unconfirmed_api_error(hosts: list[str]) -> UsageError:
    names = ", ".join(hosts)
    return UsageError(
        f"Not sending the Microsoft sign-in's token to {names}: not one of Microsoft's Power "
        "Apps or Flow hosts, and never confirmed.",
        cause="--power-apps-url / --flow-url (or a publish record) points elsewhere; whoever "
        "runs that host could use the token as you in the Power Platform.",
        fix="Check the address. Only if it is yours (a proxy or a test server), confirm it "
        "once: run the same command again with --trust-server.",
        field="power_apps_url",
        code="untrusted_api",
    )
