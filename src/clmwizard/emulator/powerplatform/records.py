"""What the emulated platform keeps beyond connectors: connections with their DocuSign grants,
consent sessions, cloud flows with their runs, and the switches for behaviours nobody has
confirmed (reference power-platform.md, "Connections and flows": marks T and U).

Everything here is mutated under `PowerPlatformState.lock`; network calls happen outside it.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from clmwizard.emulator.powerplatform.state import PowerPlatformState

# The Power Apps connection statuses the reference names.
CONNECTED = "Connected"
ERROR = "Error"


@dataclass
class Switches:
    """Unconfirmed behaviours, each switchable (`pp.set_platform(...)`, POST
    /_emulator/powerplatform/platform). The defaults are our best reading; the notes say why."""

    # T: with a redirectUrl that is not the portal's, the consent service finishes the
    # connection itself ("service"); the portal instead gets a consent code back at its
    # redirectUrl and calls confirmConsentCode ("confirm": needs a redirectUrl in the
    # getConsentLink body; without one the service finishes itself).
    consent_finish: str = "service"
    # U: how the platform's generic OAuth 2 sends the connector's client id and secret to the
    # token URL: "basic" (an Authorization: Basic header, what DocuSign documents) or "body"
    # (client_id / client_secret form fields).
    token_client_auth: str = "basic"
    # U: when the runner refreshes a connection's DocuSign grant before calling the connector:
    # "expired" (only when the access token has run out: what OAuth clients usually do) or
    # "always" (before every action).
    refresh_when: str = "expired"
    # U: whether reading a connection whose access token has run out makes the platform try a
    # refresh (and so learn that the grant died: status Error). Off, a connection turns Error
    # only when a run's refresh fails.
    refresh_on_read: bool = True
    # U: how a run's action outputs come back with $expand=properties/actions: "link"
    # (`outputsLink.uri`, a signed URL to the outputs, as Logic Apps answers) or "inline"
    # (`outputs` in the action itself).
    action_outputs: str = "link"
    # U: a user without a Power Automate Premium licence; the answer is NO_PREMIUM_LICENCE_* in
    # flows.py, its status, code and wording unconfirmed.
    premium_licence: bool = True
    # Our choice: how long (real seconds) a run started by "run now" stays Running.
    run_delay: float = 0.0
    # Our choice: how many scheduled runs one clock jump fires at most (the rest are skipped).
    max_runs_per_jump: int = 2000
    # U: page size of the runs list (nextLink with $skiptoken beyond it).
    runs_page_size: int = 50
    # T (Logic Apps documents it for a recurrence without a start time): turning a scheduled flow
    # on fires its trigger at once. Unconfirmed for Power Automate; off by default.
    recurrence_fires_on_start: bool = False
    # U: whether the runner fills a parameter the action does not give from the swagger's
    # `default` (internal parameters such as AccountId carry one).
    apply_parameter_defaults: bool = True

    def __post_init__(self) -> None:
        choices = {
            "token_client_auth": ("basic", "body"),
            "refresh_when": ("expired", "always"),
            "action_outputs": ("link", "inline"),
            "consent_finish": ("service", "confirm"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        for name in (
            "refresh_on_read",
            "premium_licence",
            "recurrence_fires_on_start",
            "apply_parameter_defaults",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        if not 0 <= float(self.run_delay) <= 60:
            raise ValueError("run_delay must be 0 to 60 seconds")
        if not isinstance(self.runs_page_size, int) or not 1 <= self.runs_page_size <= 1000:
            raise ValueError("runs_page_size must be 1 to 1000")

    def changed(self, **changes: Any) -> Switches:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown platform switches: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)


@dataclass
class DocuSignGrant:
    """The tokens the consent service obtained for a connection (never shown by the API)."""

    access_token: str
    refresh_token: str
    access_expires_at: float
    obtained_at: float
    refreshed_at: float


@dataclass
class Connection:
    environment: str
    connector_id: str
    name: str
    owner: str  # the creator's object id: only they can use it (no sharing emulated)
    display_name: str
    created: float
    changed: float
    status: str = ERROR
    # Until signed in: the reference's `{"status": "Error", "target": "token"}` (T); the
    # `error` object we add then is U (code "Unauthenticated", wording ours).
    error: dict[str, str] | None = field(
        default_factory=lambda: {
            "code": "Unauthenticated",
            "message": "This connection is not authenticated.",
        }
    )
    grant: DocuSignGrant | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.environment, self.connector_id, self.name)

    def fail(self, code: str, message: str) -> None:
        self.status, self.error = ERROR, {"code": code, "message": message[:1000]}

    def connect(self, grant: DocuSignGrant) -> None:
        self.status, self.error, self.grant = CONNECTED, None, grant


@dataclass
class ConsentSession:
    """One consent link: which connection it signs in, and where the browser ends up."""

    state: str  # the OAuth `state` sent to DocuSign, and the link's own id
    connection: tuple[str, str, str]
    redirect_url: str  # the connector's own redirect URL, as stored
    final_url: str | None  # the getConsentLink body's redirectUrl, if any
    expires_at: float
    used: bool = False


@dataclass
class ActionResult:
    name: str
    start: float
    end: float
    status: str  # Succeeded | Failed | Skipped
    code: str  # "OK", an HTTP reason, or an error code
    outputs: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    outputs_sig: str = ""  # the signature of its outputsLink


@dataclass
class Run:
    name: str
    trigger: str
    start: float
    status: str = "Running"
    end: float | None = None
    error: dict[str, str] | None = None
    actions: list[ActionResult] = field(default_factory=list)


@dataclass
class Flow:
    environment: str
    name: str
    owner: str
    properties: dict[str, Any]  # displayName, state, definition, connectionReferences, ...
    created: float
    changed: float
    next_due: float | None = None  # when its Recurrence trigger fires next (None: never)
    runs: list[Run] = field(default_factory=list)  # oldest first

    @property
    def state(self) -> str:
        return str(self.properties.get("state", "Started"))


@dataclass
class PlatformRecords:
    switches: Switches = field(default_factory=Switches)
    connections: dict[tuple[str, str, str], Connection] = field(default_factory=dict)
    sessions: dict[str, ConsentSession] = field(default_factory=dict)
    flows: dict[tuple[str, str], Flow] = field(default_factory=dict)
    issued: set[str] = field(default_factory=set)  # every DocuSign token it held, for leak scans
    refresh_locks: dict[tuple[str, str, str], threading.Lock] = field(default_factory=dict)
    # consent code -> (connection, grant, expiry): sign-ins waiting for confirmConsentCode
    confirms: dict[str, tuple[tuple[str, str, str], DocuSignGrant, float]] = field(
        default_factory=dict
    )

    def keep(self, grant: DocuSignGrant) -> None:
        self.issued |= {grant.access_token, grant.refresh_token}

    def secrets(self) -> set[str]:
        # not the consent sessions: a consent link is shown to the user to open or copy
        return set(self.issued) | set(self.confirms)


@dataclass
class Platform:
    """What the connection, consent, flow and runner modules share."""

    state: PowerPlatformState
    records: PlatformRecords
    origins: dict[str, str]  # PP origin name -> URL
    ca_pem: str

    def now(self) -> float:
        return self.state.clock.now()

    def connector(self, environment: str, connector_id: str) -> dict[str, Any] | None:
        env = self.state.environments.get(environment)
        return env.connectors.get(connector_id) if env is not None else None
