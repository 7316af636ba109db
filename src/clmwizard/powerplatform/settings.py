"""Where the Microsoft side lives: client id, tenant, authority, Power Apps and Flow URLs.

Defaults are those of paconn's MSAL version (see the README, "Publishing"); each one is
settable for organisations with their own app registration and for sovereign clouds.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from clmwizard.errors import UsageError

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


_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}")


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
        if not _GUID.fullmatch(client_id.strip()):
            raise UsageError(
                f"The client id {client_id!r} is not an application (client) id.",
                fix="Give --client-id as the GUID of your app registration (Entra ID → App "
                "registrations → Overview).",
                field="client_id",
            )
        changes["client_id"] = client_id.strip().lower()
    if tenant is not None:
        if not _TENANT.fullmatch(tenant.strip()):
            raise UsageError(
                f"The tenant {tenant!r} is not a tenant id or domain.",
                fix="Give --tenant as common, organizations, a tenant GUID or a domain "
                "like contoso.onmicrosoft.com.",
                field="tenant",
            )
        changes["tenant"] = tenant.strip()
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
