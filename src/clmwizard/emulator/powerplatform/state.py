"""What the local Power Platform knows: the tenant, its user and service principal, the
environments with their connectors, pending device codes, codes, refresh tokens and blobs.

All mutation happens under `PowerPlatformState.lock`; the HTTP handlers run in threads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from clmwizard.emulator.state import Clock

# The resource whose tokens the Power Apps API takes (the reference, "The Power Apps API").
POWER_APPS_RESOURCE = "https://service.powerapps.com/"
FLOW_RESOURCE = "https://service.flow.microsoft.com/"
# The Azure CLI's public client id: paconn's default, and the reference's MSAL default.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ACCESS_TOKEN_LIFETIME = 3600  # Entra's default is 60-90 minutes; an hour here
REFRESH_TOKEN_LIFETIME = 90 * 86400.0  # Entra: 90 days for public clients
DEVICE_CODE_LIFETIME = 900  # Entra answers expires_in 900
DEVICE_CODE_INTERVAL = 5  # Entra answers interval 5
AUTH_CODE_LIFETIME = 600.0  # Entra: about 10 minutes
API_VERSION = "2016-11-01"


def new_guid() -> str:
    return str(uuid.uuid4())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: dict[str, Any], key: bytes | None) -> str:
    """HS256 when a key is given (access tokens), alg "none" otherwise (id tokens: MSAL reads
    them and, as it says, does not verify their signature)."""
    header = {"typ": "JWT", "alg": "HS256" if key else "none"}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return signing_input + "." + b64url(signature)


def decode_jwt(token: str, key: bytes) -> dict[str, Any] | None:
    """The claims of an HS256 token this emulator signed, or None."""
    if len(token) > 16384:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, b64url_decode(parts[2])):
            return None
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass
class Principal:
    oid: str
    name: str
    upn: str | None = None  # users only
    app_id: str | None = None  # service principals only

    @property
    def is_app(self) -> bool:
        return self.app_id is not None


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    expires_at: float
    interval: int
    status: str = "pending"  # pending | approved | declined | redeemed
    last_poll: float = 0.0


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str
    method: str
    nonce: str | None
    expires_at: float


@dataclass
class RefreshGrant:
    client_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class Environment:
    name: str  # the environment id, e.g. "Default-<tenant>"
    display_name: str
    makers: bool = True  # the signed-in user and the service principal hold a maker role
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> stored record


@dataclass
class Blob:
    content: bytes
    content_type: str
    etag: str
    last_modified: float


@dataclass
class Container:
    account: str
    name: str
    signature: str
    expires_at: float
    blobs: dict[str, Blob] = field(default_factory=dict)


@dataclass
class ApiBehaviour:
    """What the real Power Apps and Flow APIs do where no one has confirmed it (T or U)."""

    page_size: int = 250  # U: connectors per page of the list
    honour_custom_filter: bool = True  # T: `IsCustomApi eq 'True'` leaves the managed ones out
    patch_answer: str = "connector"  # U: "connector" | "empty" (200, no body) | "204"
    validation_format: str = "text"  # U: "text" (a JSON string of lines) | "json" (a list)
    validation_findings: list[str] = field(default_factory=list)  # extra "Warning: …" lines
    refuse_display_name_update: bool = True  # T: CannotUpdateApiDisplayName
    global_as_per_connector: bool = True  # T: redirectMode Global stored as GlobalPerConnector
    flow_refuses_app_tokens: bool = True  # T: the Flow API's environments refuse app-only tokens


@dataclass
class PowerPlatformState:
    clock: Clock
    tenant: str
    user: Principal
    service_principal: Principal
    client_secret: str
    public_client_ids: set[str]
    environments: dict[str, Environment]
    storage_account: str
    entra_origin: str  # the issuer of id tokens is "{entra_origin}/{tenant}/v2.0"
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    auth_codes: dict[str, AuthCode] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    issued_tokens: set[str] = field(default_factory=set)  # access tokens, for leak scans
    device_code_interval: int = DEVICE_CODE_INTERVAL
    # Sign-in policies a test switches on (Entra's AADSTS65001 and AADSTS53003).
    admin_consent_required: bool = False
    conditional_access_blocked: bool = False
    auto_approve_device_codes: bool = False  # the emulated user approves every code at once
    certification_rules: bool = False  # validateApiSwagger applies them even when not asked
    # The Power Apps API's unconfirmed behaviours (powerapps.py says which), switchable by tests.
    api: ApiBehaviour = field(default_factory=lambda: ApiBehaviour())
    # Where connectors' redirect URLs point: the emulator's consent origin + "/redirect".
    redirect_base: str = "https://global.consent.azure-apim.net/redirect"
    lock: threading.RLock = field(default_factory=threading.RLock)

    def issued_secrets(self) -> set[str]:
        found = {self.client_secret}
        found.update(self.refresh_tokens)
        found.update(self.issued_tokens)
        found.update(self.device_codes)
        found.update(self.auth_codes)
        for env in self.environments.values():
            for record in env.connectors.values():
                found.update(s for s in record.get("clientSecrets", {}).values() if s)
        return found
