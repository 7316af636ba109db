"""The DocuSign scope catalogue, the presets, and what a scope choice means in practice."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from clmwizard.errors import UsageError


@dataclass(frozen=True)
class Scope:
    name: str
    api: str
    purpose: str
    unconfirmed: bool = False


CATALOGUE: tuple[Scope, ...] = (
    Scope("signature", "eSignature", "Use the eSignature API (send and read envelopes)."),
    Scope(
        "extended",
        "OAuth",
        "Refresh tokens that roll forward on every refresh, so an unattended connector "
        "stays signed in.",
    ),
    Scope(
        "impersonation",
        "OAuth",
        "JWT Grant: a system integration acts as a user who consented once.",
    ),
    Scope("spring_read", "CLM", "Read every CLM object, downloads included."),
    Scope("spring_write", "CLM", "Write CLM objects, uploads included."),
    Scope("content", "CLM", "CLM document content only (not needed with both spring scopes)."),
    Scope("organization_read", "Admin", "Read the organization's settings (Admin API)."),
    Scope("user_read", "Admin", "Read users (Admin API)."),
    Scope("user_write", "Admin", "Create and change users (Admin API)."),
    Scope("group_read", "Admin", "Read groups (Admin API)."),
    Scope("permission_read", "Admin", "Read permission profiles (Admin API)."),
    Scope("account_read", "Admin", "Read account settings (Admin API)."),
    Scope("domain_read", "Admin", "Read claimed domains (Admin API)."),
    Scope("identity_provider_read", "Admin", "Read identity providers (Admin API)."),
    Scope(
        "account_product_read",
        "Admin",
        "Used in DocuSign's CLM and Power Automate blog; its exact purpose is not documented.",
        unconfirmed=True,
    ),
    Scope("click.manage", "Click", "Create and manage clickwraps (Click API)."),
    Scope("click.send", "Click", "Send clickwraps (Click API)."),
    Scope("openid", "OAuth", "Sign users in to an external app (OpenID Connect)."),
    Scope("cors", "OAuth", "Call the APIs from a web browser app (CORS)."),
    Scope("dtr.rooms.read", "Rooms", "Read rooms (Rooms API)."),
    Scope("dtr.rooms.write", "Rooms", "Create and change rooms (Rooms API)."),
    Scope("dtr.documents.read", "Rooms", "Read room documents (Rooms API)."),
    Scope("dtr.documents.write", "Rooms", "Add and change room documents (Rooms API)."),
    Scope("dtr.profile.read", "Rooms", "Read the user's Rooms profile (Rooms API)."),
    Scope("dtr.profile.write", "Rooms", "Change the user's Rooms profile (Rooms API)."),
    Scope("dtr.company.read", "Rooms", "Read the company's Rooms settings (Rooms API)."),
    Scope("dtr.company.write", "Rooms", "Change the company's Rooms settings (Rooms API)."),
    Scope("room_forms", "Rooms", "Use Rooms forms (Rooms API)."),
)
_BY_NAME = {scope.name: scope for scope in CATALOGUE}
_ORDER = {scope.name: index for index, scope in enumerate(CATALOGUE)}

SPRING_SCOPES = ("spring_read", "spring_write")


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    scopes: tuple[str, ...]
    description: str


PRESETS: tuple[Preset, ...] = (
    Preset(
        "clm",
        "CLM connector",
        ("signature", "spring_read", "spring_write", "extended"),
        "What a Power Automate CLM connector needs, and nothing more. The default.",
    ),
    Preset(
        "clm-broad",
        "CLM connector, broad (DocuSign blog)",
        (
            "signature",
            "extended",
            "impersonation",
            "spring_read",
            "spring_write",
            "content",
            "organization_read",
            "user_read",
            "account_product_read",
        ),
        "The deliberately broad set DocuSign's CLM and Power Automate blog uses for testing.",
    ),
    Preset(
        "jwt",
        "JWT system integration",
        ("signature", "extended", "impersonation", "spring_read", "spring_write"),
        "The CLM connector scopes plus impersonation, for system integrations using JWT Grant.",
    ),
    Preset(
        "esignature",
        "eSignature only",
        ("signature", "extended"),
        "eSignature API with rolling refresh tokens; no CLM access.",
    ),
)
DEFAULT_SCOPES: tuple[str, ...] = PRESETS[0].scopes


def scope(name: str) -> Scope:
    """The catalogue entry of a known scope."""
    return _BY_NAME[name]


def preset(key: str) -> Preset:
    for item in PRESETS:
        if item.key == key:
            return item
    raise UsageError(
        f"Unknown scope preset {key!r}.",
        fix="Choose one of: " + ", ".join(item.key for item in PRESETS) + ".",
        field="scopes",
    )


def parse_scopes(text: str | Iterable[str]) -> list[str]:
    """Known scopes from text ("a b", "a,b") or a list, deduplicated, in catalogue order."""
    words = re.split(r"[\s,]+", text) if isinstance(text, str) else list(text)
    names = [word.strip() for word in words if word and word.strip()]
    if not names:
        raise UsageError(
            "No scopes given.",
            fix="Use at least: " + " ".join(DEFAULT_SCOPES) + ".",
            field="scopes",
        )
    unknown = [name for name in dict.fromkeys(names) if name not in _BY_NAME]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(_BY_NAME), n=1, cutoff=0.6)
            if not close:
                close = difflib.get_close_matches(name.lower(), list(_BY_NAME), n=1, cutoff=0.6)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        plural = "scope" if len(unknown) == 1 else "scopes"
        raise UsageError(
            f"Unknown {plural}: " + ", ".join(hints) + ".",
            cause="DocuSign refuses a consent request naming a scope it does not know.",
            fix="Scopes are lower case and separated by spaces, e.g. "
            + " ".join(DEFAULT_SCOPES)
            + ".",
            field="scopes",
        )
    return sorted(dict.fromkeys(names), key=_ORDER.__getitem__)


def scope_warnings(scopes: Iterable[str]) -> list[str]:
    """What the chosen scopes will not do, in plain sentences (empty when all is well)."""
    chosen = set(scopes)
    warnings = []
    if "extended" not in chosen:
        warnings.append(
            "Without `extended` the refresh token dies 30 days after consent, "
            "and the connector with it."
        )
    missing_spring = [name for name in SPRING_SCOPES if name not in chosen]
    if len(missing_spring) == len(SPRING_SCOPES):
        if "content" in chosen:
            warnings.append(
                "Only `content` gives CLM access: document content, but no folders, attributes "
                "or workflows, and base-URL discovery may fail. Add spring_read and spring_write."
            )
        else:
            warnings.append(
                "Without spring_read and spring_write every CLM call fails with 401, "
                "base-URL discovery included."
            )
    elif missing_spring:
        missing = missing_spring[0]
        effect = "uploads and other changes" if missing == "spring_write" else "reads"
        warnings.append(f"Without `{missing}` CLM {effect} fail with 401 or 403.")
    unconfirmed = [name for name in chosen if name in _BY_NAME and _BY_NAME[name].unconfirmed]
    for name in sorted(unconfirmed, key=_ORDER.__getitem__):
        warnings.append(f"`{name}` is not documented by DocuSign; keep it only if you need it.")
    return warnings
