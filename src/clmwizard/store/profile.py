"""The profile record: everything non-secret clmwizard knows about one integration.

Secrets (secret key, tokens, RSA key) are never fields here; they live in the keyring under
`clmwizard` / `<profile>/<item>` (see `clmwizard.store.secrets`). `clmwizard.store.profiles`
reads and writes these records as YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SCHEMA_VERSION = 1

EnvironmentName = Literal["demo", "production", "custom"]
ConnectorName = Literal["general", "upload", "download"]
CONNECTOR_NAMES: tuple[ConnectorName, ...] = ("general", "upload", "download")
# How the actions are split into connectors: one connector routing to the three CLM hosts, or
# one connector per host. Each connector is a bundle folder: "clm", or the three host names.
Layout = Literal["three", "single"]
LAYOUTS: tuple[Layout, ...] = ("three", "single")
SINGLE_FOLDER: Literal["clm"] = "clm"
BundleFolder = Literal["clm", "general", "upload", "download"]

# Names of the keyring items of a profile.
SECRET_KEY = "secret_key"
REFRESH_TOKEN = "refresh_token"
ACCESS_TOKEN = "access_token"
RSA_PRIVATE_KEY = "rsa_private_key"
MS_TOKEN_CACHE = "ms_token_cache"  # MSAL's serialised token cache (Microsoft sign-in)
SECRET_ITEMS: tuple[str, ...] = (
    SECRET_KEY,
    REFRESH_TOKEN,
    ACCESS_TOKEN,
    RSA_PRIVATE_KEY,
    MS_TOKEN_CACHE,
)


@dataclass
class ClmHosts:
    """The three CLM API base URLs of an account (ApiBaseUrl, upload, download)."""

    general: str
    upload: str
    download: str

    def for_connector(self, connector: ConnectorName) -> str:
        return {"general": self.general, "upload": self.upload, "download": self.download}[
            connector
        ]


@dataclass
class ExportRecord:
    path: str
    layout: Layout
    at: datetime


@dataclass
class JwtConsentRecord:
    """The last JWT Grant check: consent given (a token was issued) or needed, for which user."""

    state: Literal["given", "needed"]
    user_id: str
    checked_at: datetime


@dataclass
class PublishedConnector:
    """One custom connector clmwizard created (or adopted) in a Power Platform environment."""

    key: str  # "clm" (single layout) or "general" / "upload" / "download"
    connector_id: str
    display_name: str
    # Which DocuSign secret key the connector carries: a salted, truncated SHA-256 of it (see
    # clmwizard.powerplatform.records.secret_fingerprint), never the secret itself.
    secret_fingerprint: str
    redirect_url: str | None = None
    updated_at: datetime | None = None
    # The Power Automate connection to it that `clmwizard connect` made or found (its name).
    connection_name: str | None = None


@dataclass
class HeartbeatRecord:
    """The heartbeat flow `clmwizard heartbeat` made in one environment, and its last run."""

    flow_id: str
    connector_key: str  # the connector whose connection the flow reads through
    state: Literal["on", "off"]
    every: str  # e.g. "1d"
    last_run_status: str | None = None  # "Succeeded", "Failed", …
    last_run_at: datetime | None = None
    last_result: str | None = None  # e.g. "12 attribute groups", or the error in words


@dataclass
class PublishRecord:
    """What `clmwizard publish` put into one environment, so a rerun updates instead of
    duplicating and a rotation knows which connectors still carry the old secret."""

    environment_id: str
    layout: Layout
    power_apps_url: str
    authority: str
    tenant: str
    client_id: str
    connectors: list[PublishedConnector] = field(default_factory=list)
    at: datetime | None = None
    flow_url: str | None = None  # the Flow API the heartbeat was made with
    heartbeat: HeartbeatRecord | None = None
    # When a connector here last got a new DocuSign secret over an older one (rotate, or a
    # publish finishing one), and the start of the first succeeded heartbeat run late enough to
    # have refreshed the connection's grant with it (clmwizard.powerplatform.rotation_proof).
    secret_rotated_at: datetime | None = None
    rotation_proven_at: datetime | None = None


@dataclass
class MicrosoftUserSignIn:
    """The Microsoft settings of the profile's last sign-in as a person (connect, heartbeat,
    publish by device code), kept apart from those a publication records: after `publish
    --service-principal` those are the service principal's, and the Flow API and the consent
    link refuse an app-only token."""

    client_id: str
    tenant: str
    authority: str


@dataclass
class Profile:
    """One DocuSign integration set up by clmwizard. All datetimes are timezone-aware UTC."""

    name: str
    environment: EnvironmentName
    auth_server: str  # OAuth origin, e.g. "https://account-d.docusign.com"
    clm_auth_server: str  # CLM discovery origin, e.g. "https://authuat.springcm.com"
    integration_key: str
    scopes: list[str]
    redirect_uri: str
    use_pkce: bool = True
    jwt_user_id: str | None = None  # integration user GUID, for JWT system integrations
    # An auth_server that is not DocuSign's, as the user confirmed it (login or --trust-server):
    # the secret key and tokens go only to a server confirmed once, never one a file edit set.
    trusted_auth_server: str | None = None
    # Filled in by consent, exchange and discovery:
    user_id: str | None = None
    user_email: str | None = None
    user_name: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    esign_base_uri: str | None = None
    clm_hosts: ClmHosts | None = None
    access_token_expires_at: datetime | None = None
    # DocuSign does not report it: estimated as 30 days from the last refresh with `extended`,
    # otherwise 30 days from consent.
    refresh_token_expires_at: datetime | None = None
    consented_at: datetime | None = None
    last_refresh_at: datetime | None = None
    last_rotation_at: datetime | None = None
    exports: list[ExportRecord] = field(default_factory=list)
    jwt_consent: JwtConsentRecord | None = None  # set by `clmwizard jwt` and the wizard's check
    # CLM hosts outside DocuSign's domains the user explicitly confirmed ("host[:port]").
    confirmed_hosts: list[str] = field(default_factory=list)
    # Power Apps / Flow hosts outside Microsoft's domains the user confirmed (publish
    # --trust-server): the Microsoft token goes only there.
    trusted_api_hosts: list[str] = field(default_factory=list)
    publications: list[PublishRecord] = field(default_factory=list)
    # The layout chosen on Fields or Export, or with --layout (None: see `profile_layout`).
    layout: Layout | None = None
    # The connectors' name in Power Automate (None: `default_connector_name`).
    connector_name: str | None = None
    # The Microsoft sign-in as a person that connect, heartbeat, status and the wizard use
    # (None: what the publication recorded).
    microsoft_user: MicrosoftUserSignIn | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def is_signed_in(self) -> bool:
        """True once consent, exchange and discovery have completed."""
        return self.account_id is not None and self.clm_hosts is not None


def profile_layout(profile: Profile) -> Layout:
    """The layout the Fields screen, `fields`, export and publish use: the one chosen, else the
    last exported, else the last published, else one connector."""
    if profile.layout is not None:
        return profile.layout
    if profile.exports:
        return profile.exports[-1].layout
    if profile.publications:
        return profile.publications[-1].layout
    return "single"


def layout_folders(layout: Layout) -> tuple[BundleFolder, ...]:
    """The connectors of a layout, by bundle folder."""
    return (SINGLE_FOLDER,) if layout == "single" else CONNECTOR_NAMES
