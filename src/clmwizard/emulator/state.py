"""What the emulated account server knows: its clock, the user, the integration key and every
code, token, consent and grant it has handed out.

All mutation happens under one lock owned by `AuthState`; the HTTP handlers run in threads.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from clmwizard.emulator.jwt_grant import JwtTrust

CODE_LIFETIME = 120.0  # DocuSign: "about 2 minutes", single use
ACCESS_TOKEN_LIFETIME = 28800  # 8 hours, the `expires_in` DocuSign answers
REFRESH_TOKEN_LIFETIME = 30 * 86400.0  # about 30 days
TRANSACTION_LIFETIME = 900.0  # how long a consent page stays answerable (our choice)

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
APP_NAME = "CLM Power Automate Connector"

# Every scope DocuSign's /oauth/auth accepts, with the plain words the consent page shows.
KNOWN_SCOPES: dict[str, str] = {
    "signature": "Send and manage envelopes with the eSignature API",
    "extended": "Keep access without signing in again (refresh tokens that roll forward)",
    "impersonation": "Act as you from a system integration (JWT Grant)",
    "spring_read": "Read your CLM documents, folders, attributes and workflows",
    "spring_write": "Create and change CLM documents, folders and workflows",
    "content": "Read and write CLM document content",
    "organization_read": "Read your organization's settings (Admin API)",
    "user_read": "Read user information (Admin API)",
    "user_write": "Add and change users (Admin API)",
    "group_read": "Read groups (Admin API)",
    "permission_read": "Read permission profiles (Admin API)",
    "account_read": "Read account information (Admin API)",
    "domain_read": "Read claimed domains (Admin API)",
    "identity_provider_read": "Read identity providers (Admin API)",
    "click.manage": "Manage clickwraps (Click API)",
    "click.send": "Send clickwraps (Click API)",
    "openid": "Sign you in to the application (OpenID Connect)",
    "cors": "Call DocuSign from the application's web pages (CORS)",
    "dtr.rooms.read": "Read rooms (Rooms API)",
    "dtr.rooms.write": "Create and change rooms (Rooms API)",
    "dtr.documents.read": "Read room documents (Rooms API)",
    "dtr.documents.write": "Add and change room documents (Rooms API)",
    "dtr.profile.read": "Read your Rooms profile",
    "dtr.profile.write": "Change your Rooms profile",
    "dtr.company.read": "Read your Rooms company",
    "dtr.company.write": "Change your Rooms company",
    "room_forms": "Use Rooms forms",
    "account_product_read": "Read the products on your account",
}


class Clock:
    """Wall time plus an offset the tests move forward; never moves real time."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            self._offset += seconds


def new_guid() -> str:
    return str(uuid.uuid4())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_token(kind: int, key_id: str) -> str:
    """A random string shaped like DocuSign's (a three-part JWS, several hundred characters).

    The content is random: clients must treat codes and tokens as opaque.
    """
    header = {"typ": "MT", "alg": "RS256", "kid": key_id}
    payload = {"TokenType": kind, "IssueInstant": int(time.time()), "jti": secrets.token_hex(16)}
    return ".".join(
        (
            _b64url(json.dumps(header).encode()),
            _b64url(json.dumps(payload).encode()),
            _b64url(secrets.token_bytes(256)),
        )
    )


# Token kinds inside the random tokens (only there to make them differ in shape).
KIND_CODE, KIND_ACCESS, KIND_REFRESH = 4, 5, 6


@dataclass
class User:
    user_id: str
    email: str
    name: str
    given_name: str
    family_name: str
    created: str


@dataclass
class Account:
    account_id: str
    account_name: str
    is_default: bool
    base_uri: str
    organization_id: str | None = None


@dataclass
class PendingConsent:
    """An /oauth/auth request waiting for the user's Accept or Decline on the consent page."""

    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    state: str | None
    challenge: str | None
    challenge_method: str | None
    expires_at: float


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    challenge: str | None
    challenge_method: str | None
    expires_at: float
    used: bool = False


@dataclass
class Grant:
    """One consented authorization: a code exchange and the refreshes that follow it."""

    client_id: str
    user_id: str
    scopes: frozenset[str]
    first_refresh_expiry: float  # 30 days from the code exchange
    revoked: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass
class RefreshToken:
    grant: Grant
    expires_at: float
    used: bool = False


WRONG_SECRET_ERRORS = ("invalid_grant", "invalid_client")


@dataclass
class AppSettings:
    """The integration key's settings in Apps and Keys, and answers DocuSign leaves open.

    Every field is overridable (`Emulator.configure_app`, POST /_emulator/app).
    """

    # A wrong secret: the public evidence is invalid_grant, sometimes with the description
    # unauthorized_client; no DocuSign source shows invalid_client (kept selectable).
    # unconfirmed: the exact description, and whether DocuSign sends one at all.
    wrong_secret_error: str = "invalid_grant"
    wrong_secret_description: str = "unauthorized_client"
    # Apps and Keys can require PKCE: a code request without a challenge is then refused.
    require_pkce: bool = False
    # DocuSign documents S256; plain is unconfirmed, so it is refused unless allowed.
    allow_plain_pkce: bool = False
    # DocuSign's public Authorization Code Grant: no secret, client_id + code + code_verifier.
    public_client: bool = False
    # unconfirmed: DocuSign's page text for a client id it does not know (a mistyped key, or a
    # key of the other environment). This is the wording users report; switchable so a test
    # can show the client relies on DocuSign's words only where they are confirmed.
    unknown_client_message: str = (
        "Invalid authentication request: The client id is not registered with DocuSign."
    )
    # unconfirmed: the HTTP status of DocuSign's browser error pages at /oauth/auth (400 here;
    # a 200 page is as plausible): a client must read the page's text, not the status.
    error_page_status: int = 400

    def __post_init__(self) -> None:
        if not isinstance(self.error_page_status, int) or not 200 <= self.error_page_status < 600:
            raise ValueError("error_page_status must be an HTTP status (not a redirect)")
        if 300 <= self.error_page_status < 400:
            raise ValueError("error_page_status must be an HTTP status (not a redirect)")
        for name, wanted in (
            ("unknown_client_message", str),
            ("require_pkce", bool),
            ("allow_plain_pkce", bool),
            ("public_client", bool),
            ("wrong_secret_description", str),
        ):
            if not isinstance(getattr(self, name), wanted):
                raise ValueError(f"{name} must be a {wanted.__name__}")
        if self.wrong_secret_error not in WRONG_SECRET_ERRORS:
            raise ValueError(f"wrong_secret_error must be one of {', '.join(WRONG_SECRET_ERRORS)}")


@dataclass
class AuthState:
    """The account server's memory. Call its methods with `lock` held."""

    clock: Clock
    user: User
    accounts: list[Account]
    integration_key: str
    secret_key: str
    spare_secret_key: str
    redirect_uris: list[str]
    auto_consent: bool
    app: AppSettings = field(default_factory=AppSettings)
    key_id: str = field(default_factory=new_guid)
    lock: threading.RLock = field(default_factory=threading.RLock)
    revoked_secrets: set[str] = field(default_factory=set)
    consents: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    pending: dict[str, PendingConsent] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    jwt: JwtTrust = field(default_factory=JwtTrust)
    # unconfirmed: whether DocuSign treats a reused refresh token as theft. Many OAuth servers
    # (RFC 6819 5.2.2.3, OAuth 2.1 refresh token rotation) revoke the whole grant when a used
    # refresh token comes back; off by default, tests turn it on to prove the client never
    # sends one twice.
    reuse_revokes_grant: bool = False

    def refresh_token_reused(self, token: RefreshToken) -> None:
        """A used refresh token came back: in theft mode, the whole grant dies."""
        if self.reuse_revokes_grant:
            token.grant.revoked = True

    def valid_secrets(self) -> set[str]:
        return {self.secret_key, self.spare_secret_key} - self.revoked_secrets

    def issued_secrets(self) -> set[str]:
        return {
            self.secret_key,
            self.spare_secret_key,
            *self.codes,
            *self.access_tokens,
            *self.refresh_tokens,
            *self.jwt.issued,
        }

    def consented(self, client_id: str, scopes: frozenset[str]) -> bool:
        if self.auto_consent:
            return True
        return scopes <= self.consents.get((self.user.user_id, client_id), frozenset())

    def remember_consent(self, client_id: str, scopes: frozenset[str]) -> None:
        key = (self.user.user_id, client_id)
        self.consents[key] = self.consents.get(key, frozenset()) | scopes

    def revoke_consent(self) -> None:
        """Profile → Connected Apps → Revoke: refresh tokens die, access tokens live on."""
        self.consents.clear()
        for grant in self.grants:
            grant.revoked = True

    def revoke_jwt_consent(self) -> None:
        """Take `impersonation` out of the user's consent: JWT Grant answers consent_required."""
        key = (self.user.user_id, self.integration_key)
        if key in self.consents:
            self.consents[key] = self.consents[key] - {"impersonation"}

    def issue_jwt_token(self, client_id: str, scopes: frozenset[str], lifetime: int) -> str:
        """A JWT Grant access token: no refresh token, no grant to refresh."""
        grant = Grant(client_id, self.user.user_id, scopes, first_refresh_expiry=0.0)
        access = new_token(KIND_ACCESS, self.key_id)
        self.access_tokens[access] = AccessToken(grant, self.clock.now() + lifetime)
        return access

    def issue_code(self, pending: PendingConsent) -> str:
        value = new_token(KIND_CODE, self.key_id)
        self.codes[value] = Code(
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            scopes=pending.scopes,
            challenge=pending.challenge,
            challenge_method=pending.challenge_method,
            expires_at=self.clock.now() + CODE_LIFETIME,
        )
        return value

    def issue_tokens(self, grant: Grant, refresh_expires_at: float) -> tuple[str, str]:
        access = new_token(KIND_ACCESS, self.key_id)
        refresh = new_token(KIND_REFRESH, self.key_id)
        self.access_tokens[access] = AccessToken(grant, self.clock.now() + ACCESS_TOKEN_LIFETIME)
        self.refresh_tokens[refresh] = RefreshToken(grant, refresh_expires_at)
        return access, refresh

    def live_access_token(self, value: str | None) -> AccessToken | None:
        token = self.access_tokens.get(value or "")
        if token is None or token.expires_at <= self.clock.now():
            return None
        return token

    def account(self, account_id: str) -> Account | None:
        wanted = account_id.lower()
        return next((a for a in self.accounts if a.account_id == wanted), None)
