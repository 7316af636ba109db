"""DocuSign environments: the OAuth origin and the CLM discovery origin of each."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from clmwizard.errors import UsageError
from clmwizard.store.profile import Profile

EnvironmentName = Literal["demo", "production", "custom"]

LOOPBACK_HOSTS = frozenset({"localhost"})


@dataclass(frozen=True)
class Environment:
    name: EnvironmentName
    auth_server: str  # origin, no trailing slash
    clm_auth_server: str  # origin of the CLM base-URL discovery

    @property
    def authorization_url(self) -> str:
        return f"{self.auth_server}/oauth/auth"

    @property
    def token_url(self) -> str:
        return f"{self.auth_server}/oauth/token"

    @property
    def userinfo_url(self) -> str:
        return f"{self.auth_server}/oauth/userinfo"

    @property
    def oauth_host(self) -> str:
        """The bare host (and port when not default): the JWT `aud` claim."""
        return urlsplit(self.auth_server).netloc

    @property
    def label(self) -> str:
        """Plain words for headers and summaries."""
        host = self.oauth_host
        if self.name == "demo":
            return f"DocuSign developer environment ({host})"
        if self.name == "production":
            return f"DocuSign production ({host})"
        return f"custom server ({host})"


DEMO = Environment("demo", "https://account-d.docusign.com", "https://authuat.springcm.com")
PRODUCTION = Environment("production", "https://account.docusign.com", "https://auth.springcm.com")
_NAMED = {"demo": DEMO, "production": PRODUCTION}


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?")


def split_web_address(value: str) -> SplitResult | None:
    """`value` split into its parts, or None when its host or port is not one a server can have
    (spaces, control characters, a broken IPv6 literal, a port outside 1..65535)."""
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
        if parts.hostname and ":" in parts.hostname:
            ipaddress.IPv6Address(parts.hostname)
    except ValueError:
        return None
    host_port = parts.netloc.rpartition("@")[2]
    if port == 0 or (parts.netloc and not _HOST_PORT.fullmatch(host_port)):
        return None
    return parts


def web_address_parts(value: str, *, refusal: str, fix: str, field: str) -> SplitResult:
    """`split_web_address(value)`, or a UsageError (`refusal`, why, `fix`) when it is None."""
    parts = split_web_address(value)
    if parts is None:
        raise UsageError(
            refusal,
            cause="Its host or port cannot be right (a space, a stray character, or a port "
            "outside 1 to 65535).",
            fix=fix,
            field=field,
        )
    return parts


def validate_origin(text: str, *, field: str, what: str) -> str:
    """An `https://host[:port]` origin (http only on loopback), normalised without a slash."""
    value = text.strip()
    parts = web_address_parts(
        value,
        refusal=f"{what} {value!r} is not a valid web address.",
        fix="Give an origin such as https://account-d.docusign.com.",
        field=field,
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{what} {value!r} is not a web address.",
            fix="Give an origin such as https://account-d.docusign.com.",
            field=field,
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(
            f"{what} {value!r} uses plain http.",
            cause="Tokens and secrets would travel unencrypted; http is accepted only on "
            "loopback (127.0.0.1, ::1, localhost), e.g. for the emulator.",
            fix="Use the https:// address.",
            field=field,
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise UsageError(
            f"{what} {value!r} should be an origin only (scheme and host).",
            fix=f"Use {parts.scheme}://{parts.netloc} without a path or query.",
            field=field,
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def resolve_environment(
    name: str = "demo", auth_server: str | None = None, clm_auth_server: str | None = None
) -> Environment:
    """The named environment, or a custom one when `auth_server` is given.

    `clm_auth_server` overrides the CLM discovery origin of either.
    """
    if name not in _NAMED:
        raise UsageError(
            f"Unknown environment {name!r}.",
            fix="Use demo (the developer account, account-d.docusign.com) or production.",
            field="environment",
        )
    base = _NAMED[name]
    clm = (
        validate_origin(clm_auth_server, field="environment", what="The CLM discovery server")
        if clm_auth_server
        else base.clm_auth_server
    )
    if not auth_server:
        return Environment(base.name, base.auth_server, clm)
    origin = validate_origin(auth_server, field="environment", what="The OAuth server")
    for known in _NAMED.values():
        if origin == known.auth_server:
            default_clm = known.clm_auth_server if not clm_auth_server else clm
            return Environment(known.name, origin, default_clm)
    return Environment("custom", origin, clm)


def environment_of(profile: Profile) -> Environment:
    return Environment(profile.environment, profile.auth_server, profile.clm_auth_server)
