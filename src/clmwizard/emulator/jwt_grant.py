"""The JWT bearer grant at `/oauth/token`, with real RS256 signature checks.

What DocuSign documents (see /work/shared/reference/docusign.md): the form body
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…` without a Basic header; an
RS256 assertion signed with the integration key's RSA private key, claims `iss` (integration
key), `sub` (user GUID), `aud` (the bare OAuth host), `iat`, `exp` (at most one hour later) and
`scope` (with `impersonation`); a 1-hour access token and no refresh token; `consent_required`
when the user has not consented to that scope set; `invalid_grant` + `no_valid_keys_or_signatures`
for a bad key or clock skew; `invalid_grant` + `issuer_not_found` for an unknown key.

The emulator makes one RSA key pair per start (lazily: only when JWT is used or the test values
are asked for) and trusts its public half for its integration key. The private half is a test
value, handed out like the test secret keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clmwizard.emulator.http_types import Request, Response, json_response

if TYPE_CHECKING:
    from clmwizard.emulator.state import AuthState

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3600  # DocuSign: JWT access tokens live 1 hour, no refresh token
MAX_ASSERTION_CHARS = 16 * 1024
NO_STORE = ("Cache-Control", "no-store")


@dataclass
class JwtRules:
    """The emulator's judgement of an assertion; every field can be changed by a test."""

    max_lifetime: int = 3600  # exp - iat, documented: at most one hour
    # unconfirmed: how much clock difference DocuSign tolerates; a small leeway is common.
    leeway: int = 60
    # The reference names no_valid_keys_or_signatures for "bad JWT key or clock skew"; which exact
    # descriptions DocuSign uses for a future iat and for an expired assertion is unconfirmed.
    future_iat: str = "no_valid_keys_or_signatures"
    expired: str = "no_valid_keys_or_signatures"
    # unconfirmed: DocuSign's answer to exp more than an hour after iat, and to a wrong aud.
    too_long: tuple[str, str] = ("invalid_grant", "invalid_request")
    wrong_audience: tuple[str, str] = ("invalid_grant", "invalid_request")
    # unconfirmed but widely reported by users: an unknown `sub`.
    unknown_user: str = "user_not_found"


@dataclass
class JwtTrust:
    """The key pair of this emulator run, made on first use."""

    rules: JwtRules = field(default_factory=JwtRules)
    _private_pem: str | None = None
    _public_key: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _ensure(self) -> None:
        with self._lock:
            if self._private_pem is not None:
                return
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self._private_pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode("ascii")
            self._public_key = private.public_key()

    @property
    def private_pem(self) -> str:
        self._ensure()
        assert self._private_pem is not None
        return self._private_pem

    @property
    def issued(self) -> set[str]:
        """The private key, once made (for leak scans)."""
        return {self._private_pem} if self._private_pem is not None else set()

    def signature_ok(self, signed: bytes, signature: bytes) -> bool:
        self._ensure()
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            self._public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


def _error(error: str, description: str | None = None) -> Response:
    payload = {"error": error}
    if description is not None:
        payload["error_description"] = description
    return json_response(400, payload, NO_STORE)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_part(part: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_b64decode(part))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def token(state: AuthState, request: Request, fields: dict[str, str]) -> Response:
    """Answer a JWT bearer grant. Call with `state.lock` not held."""
    trust = state.jwt
    rules = trust.rules
    assertion = fields.get("assertion", "")
    if not assertion:
        return _error("invalid_request", "The assertion parameter is missing.")
    parts = assertion.split(".")
    if len(assertion) > MAX_ASSERTION_CHARS or len(parts) != 3:
        return _error("invalid_grant", "no_valid_keys_or_signatures")
    header, claims = _json_part(parts[0]), _json_part(parts[1])
    if header is None or claims is None:
        return _error("invalid_grant", "no_valid_keys_or_signatures")
    issuer = claims.get("iss")
    with state.lock:
        known_key = state.integration_key
    if not isinstance(issuer, str) or issuer.lower() != known_key:
        return _error("invalid_grant", "issuer_not_found")
    try:
        signature = _b64decode(parts[2])
    except binascii.Error:
        return _error("invalid_grant", "no_valid_keys_or_signatures")
    signed = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    if header.get("alg") != "RS256" or not trust.signature_ok(signed, signature):
        return _error("invalid_grant", "no_valid_keys_or_signatures")

    now = state.clock.now()
    issued_at, expires = _number(claims.get("iat")), _number(claims.get("exp"))
    if issued_at is None or expires is None:
        return _error("invalid_grant", "no_valid_keys_or_signatures")
    if issued_at > now + rules.leeway:
        return _error("invalid_grant", rules.future_iat)
    if expires <= now - rules.leeway:
        return _error("invalid_grant", rules.expired)
    if expires - issued_at > rules.max_lifetime:
        return _error(*rules.too_long)
    audience = claims.get("aud")
    own_host = request.base_url.split("://", 1)[-1]
    if audience not in (own_host, request.header("host")):
        return _error(*rules.wrong_audience)

    subject = claims.get("sub")
    scope = claims.get("scope")
    scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
    with state.lock:
        if not isinstance(subject, str) or subject.lower() != state.user.user_id:
            return _error("invalid_grant", rules.unknown_user)
        from clmwizard.emulator.state import KNOWN_SCOPES

        unknown = sorted(s for s in scopes if s not in KNOWN_SCOPES)
        if unknown:
            return _error("invalid_scope", f"The scope is not valid: {unknown[0]}")
        # unconfirmed: an assertion without `impersonation` is refused as consent_required.
        if "impersonation" not in scopes or not state.consented(known_key, scopes):
            return _error("consent_required")
        access = state.issue_jwt_token(known_key, scopes, TOKEN_LIFETIME)
    payload = {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
    return json_response(200, payload, NO_STORE, ("Pragma", "no-cache"))
