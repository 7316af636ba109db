"""Checks on the integration key and secret key before anything is sent to DocuSign."""

from __future__ import annotations

import re

from clmwizard.errors import UsageError
from clmwizard.redact import register_secret

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_WHERE_IK = (
    "The integration key is the GUID under Apps and Keys → your app → Integration Key, "
    "e.g. 3f6c0e1a-5b2d-4c7e-9a8b-1d2e3f4a5b6c."
)


def canonical_guid(text: str) -> str | None:
    """Lower-case dashed form of a GUID (braces, `urn:uuid:` and missing dashes tolerated)."""
    value = text.strip().lower()
    if value.startswith("urn:uuid:"):
        value = value[len("urn:uuid:") :]
    if value.startswith("{") and value.endswith("}"):
        value = value[1:-1].strip()
    if _HEX32.match(value):
        value = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value if _GUID.match(value) else None


def _integration_key_hint(value: str) -> str:
    if value.isdigit():
        return (
            "That looks like an account number (API Account ID is a GUID; the integration key is "
            "another GUID)."
        )
    if "@" in value:
        return "That looks like an email address."
    if value.lower().startswith(("http://", "https://")):
        return "That looks like a web address (a redirect URI or server?), not a key."
    if value.startswith("-----BEGIN"):
        return "That looks like an RSA private key."
    if value.startswith("eyJ") or len(value) > 60:
        return "That looks like a token, not an integration key."
    if re.search(r"\s", value):
        return "It contains spaces or line breaks: copy the key again, on its own."
    return "It is not a GUID (8-4-4-4-12 hexadecimal digits)."


def validate_integration_key(text: str) -> str:
    """The integration key as a canonical lower-case GUID, or a UsageError saying what it is."""
    value = text.strip()
    if not value:
        raise UsageError("The integration key is empty.", fix=_WHERE_IK, field="integration_key")
    guid = canonical_guid(value)
    if guid is None:
        shown = value if len(value) <= 60 and not value.startswith("-----BEGIN") else "(hidden)"
        raise UsageError(
            f"{shown!r} is not an integration key."
            if shown != "(hidden)"
            else "That is not an integration key.",
            cause=_integration_key_hint(value),
            fix=_WHERE_IK,
            field="integration_key",
        )
    return guid


def validate_secret_key(secret: str, integration_key: str | None) -> str:
    """The secret key with surrounding whitespace removed, or a UsageError."""
    value = secret.strip()
    register_secret(value)
    where = (
        "Apps and Keys → your app → Secret Keys → Add Secret Key (DocuSign shows it only once; "
        "if it is lost, add a new one)."
    )
    if not value:
        raise UsageError("The secret key is empty.", fix=where, field="secret_key")
    if value.startswith("-----BEGIN"):
        raise UsageError(
            "That is an RSA private key, not a secret key.",
            cause="The RSA key pair is for JWT Grant; the connector needs a secret key.",
            fix=where,
            field="secret_key",
        )
    if re.search(r"\s", value):
        raise UsageError(
            "The secret key contains spaces or line breaks.",
            cause="A secret key is one unbroken string; something extra was copied with it.",
            fix="Copy the secret key again, on its own. " + where,
            field="secret_key",
        )
    if integration_key:
        ik = canonical_guid(integration_key) or integration_key.strip().lower()
        if (canonical_guid(value) or value.lower()) == ik:
            raise UsageError(
                "That is the integration key, not the secret key.",
                cause="Both are GUIDs on the same page; DocuSign would answer "
                "invalid_grant / expired_client_token.",
                fix=where,
                field="secret_key",
            )
    return value
