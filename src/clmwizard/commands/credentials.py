"""`clmwizard credentials`: key, secret, refresh token, account and base URIs for platforms
that take that triple (e.g. Flexera / Snow Atlas), and the integration user and RSA key a JWT
system integration needs."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from clmwizard.clipboard import copy_text, schedule_clear_in_background
from clmwizard.commands.common import (
    CommandOptions,
    add_format,
    add_profile,
    open_profile,
    open_secrets,
)
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.redact import mask, register_secret
from clmwizard.store.profile import REFRESH_TOKEN, RSA_PRIVATE_KEY, SECRET_KEY, Profile
from clmwizard.store.profiles import validate_profile_name

CLEAR_AFTER = 30
ITEMS = (
    "integration_key",
    "secret_key",
    "refresh_token",
    "account_id",
    "esign_base_uri",
    "clm_general",
    "clm_upload",
    "clm_download",
    "jwt_user_id",
    "rsa_private_key",
)
SECRET_ITEMS = frozenset({"secret_key", "refresh_token", "rsa_private_key"})
LABELS = {
    "integration_key": "Integration key (client id)",
    "secret_key": "Secret key (client secret)",
    "refresh_token": "Refresh token",
    "account_id": "Account id",
    "esign_base_uri": "eSignature base URI",
    "clm_general": "CLM API base URL",
    "clm_upload": "CLM upload base URL",
    "clm_download": "CLM download base URL",
    "jwt_user_id": "Integration user GUID (JWT)",
    "rsa_private_key": "RSA private key (JWT)",
}


def collect(
    profile: Profile,
    secret_key: str | None,
    refresh_token: str | None,
    rsa_private_key: str | None = None,
) -> dict[str, str | None]:
    hosts = profile.clm_hosts
    return {
        "integration_key": profile.integration_key,
        "secret_key": secret_key,
        "refresh_token": refresh_token,
        "account_id": profile.account_id,
        "esign_base_uri": profile.esign_base_uri,
        "clm_general": hosts.general if hosts else None,
        "clm_upload": hosts.upload if hosts else None,
        "clm_download": hosts.download if hosts else None,
        "jwt_user_id": profile.jwt_user_id,
        "rsa_private_key": rsa_private_key,
    }


def _shown(item: str, value: str | None, reveal: bool) -> str | None:
    if item in SECRET_ITEMS and value and not reveal:
        return mask(value)
    return value


def _copy(item: str, value: str | None, profile: str) -> int:
    if not value:
        raise UsageError(
            f"The profile {profile} has no {LABELS[item].lower()} to copy.",
            fix=f"Sign in first: clmwizard login --profile {profile} …",
            field="copy",
        )
    try:
        copy_text(value)
    except ClmWizardError as error:
        shown = "--reveal" if item in SECRET_ITEMS else "--format text"
        raise ClmWizardError(
            error.what,
            cause=error.cause,
            fix=f"Print it instead and select it: clmwizard credentials --profile {profile} "
            f"{shown}. Or install xclip / wl-clipboard.",
            field="copy",
        ) from None
    if item in SECRET_ITEMS:
        schedule_clear_in_background(value, CLEAR_AFTER)
        print(
            f"✓ {LABELS[item]} copied to the clipboard; it clears in {CLEAR_AFTER} s "
            "(if it still holds it)."
        )
    else:
        print(f"✓ {LABELS[item]} copied to the clipboard: {value}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile(parser)
    add_format(parser)
    parser.add_argument("--reveal", action="store_true", help="show secrets")
    parser.add_argument("--copy", metavar="ITEM", help="copy one item to the clipboard")


@dataclass(frozen=True)
class CredentialsOptions(CommandOptions):
    profile: str
    format: str
    reveal: bool
    copy: str | None
    ephemeral: bool


def run(args: argparse.Namespace) -> int:
    options = CredentialsOptions.from_args(args)
    name = validate_profile_name(options.profile)
    if options.copy and options.copy not in ITEMS:
        raise UsageError(
            f"There is no credential item {options.copy!r} to copy.",
            fix="Choose one of: " + ", ".join(ITEMS) + ".",
            field="copy",
        )
    _, _, profile = open_profile(name)
    secrets = open_secrets(ephemeral=options.ephemeral)
    secret_key = secrets.get(name, SECRET_KEY)
    refresh_token = secrets.get(name, REFRESH_TOKEN)
    register_secret(secret_key)
    register_secret(refresh_token)
    rsa_private_key = secrets.get(name, RSA_PRIVATE_KEY)
    register_secret(rsa_private_key)
    values = collect(profile, secret_key, refresh_token, rsa_private_key)
    if options.copy:
        return _copy(options.copy, values[options.copy], name)
    shown: dict[str, Any] = {item: _shown(item, values[item], options.reveal) for item in ITEMS}
    if options.format != "text" and not options.reveal:
        # A script must never mistake a mask for the value: masked secrets are null, and named.
        masked = [item for item in ITEMS if item in SECRET_ITEMS and values[item]]
        shown.update({item: None for item in masked})
        shown["masked"] = masked
    if options.format == "json":
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    elif options.format == "yaml":
        import yaml

        print(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True), end="")
    else:
        width = max(len(label) for label in LABELS.values())
        for item in ITEMS:
            value = shown[item] or "(not stored)"
            print(f"{LABELS[item]:<{width}}  {value}")
        if not options.reveal:
            print("Secrets are masked: --reveal shows them, --copy ITEM copies one.")
    return 0
