"""`clmwizard profiles [list|show NAME|delete NAME]`: manage profiles."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clmwizard.closing import after_delete
from clmwizard.commands.common import CommandOptions, add_format, open_secrets
from clmwizard.errors import ClmWizardError, KeyringError, UsageError
from clmwizard.store.profile import SECRET_ITEMS, Profile
from clmwizard.store.profiles import ProfileListing, ProfileStore, profile_to_dict

if TYPE_CHECKING:
    from clmwizard.store.secrets import SecretStore

EXPIRY_WARNING_DAYS = 7
EMPTY = "No profiles yet. Run `clmwizard` or `clmwizard login` to create one."
UNKNOWN_SECRET = "unknown (keyring unavailable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "show", "delete"), default="list")
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    add_format(parser)


@dataclass(frozen=True)
class ProfilesOptions(CommandOptions):
    action: str
    name: str | None  # NAME, else the top-level --profile
    yes: bool
    format: str
    ephemeral: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ProfilesOptions:
        name = args.name or args.profile  # NAME, else the top-level --profile
        return cls.from_flags(args, action=args.action or "list", name=name)


def run(args: argparse.Namespace) -> int:
    options = ProfilesOptions.from_args(args)
    action, name = options.action, options.name
    store = ProfileStore()
    if action == "list":
        return _list(store, options.format)
    if not name:
        raise UsageError(
            f"`clmwizard profiles {action}` needs a profile name.",
            fix=f"Run `clmwizard profiles {action} NAME`; `clmwizard profiles` lists the names.",
            field="profile",
        )
    if action == "show":
        return _show(store, name, options.format, ephemeral=options.ephemeral)
    return _delete(store, name, options.format, yes=options.yes, ephemeral=options.ephemeral)


def _emit(data: Any, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def expiry_note(expires_at: datetime | None, now: datetime) -> str:
    """The refresh token's expiry in words, warning when it is near or past."""
    if expires_at is None:
        return "unknown"
    left = expires_at - now
    if left.total_seconds() <= 0:
        return f"expired {_when(expires_at)} — sign in again (`clmwizard login`)"
    if left.days < EXPIRY_WARNING_DAYS:
        days = left.days
        soon = "in less than a day" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return f"{_when(expires_at)} ⚠ expires {soon} — run `clmwizard refresh`"
    return _when(expires_at)


def _account(profile: Profile) -> str:
    if not profile.account_id:
        return "not signed in"
    if profile.account_name:
        return f"{profile.account_name} ({profile.account_id})"
    return profile.account_id


def _summary(listing: ProfileListing, now: datetime) -> dict[str, Any]:
    if listing.profile is None:
        error = listing.error
        problem = error.render() if error else "unreadable"
        return {"name": listing.name, "path": str(listing.path), "error": problem}
    p = listing.profile
    stored = profile_to_dict(p)
    return {
        "name": p.name,
        "environment": p.environment,
        "account_id": p.account_id,
        "account_name": p.account_name,
        "user_email": p.user_email,
        "last_refresh_at": stored["last_refresh_at"],
        "refresh_token_expires_at": stored["refresh_token_expires_at"],
        "refresh_token_status": _status(p.refresh_token_expires_at, now),
    }


def _status(expires_at: datetime | None, now: datetime) -> str:
    if expires_at is None:
        return "unknown"
    left = (expires_at - now).total_seconds()
    if left <= 0:
        return "expired"
    return "expiring" if left < EXPIRY_WARNING_DAYS * 86400 else "ok"


def _list(store: ProfileStore, fmt: str) -> int:
    listings = store.list()
    now = datetime.now(UTC)
    if fmt != "text":
        _emit([_summary(listing, now) for listing in listings], fmt)
        return 0
    if not listings:
        sys.stdout.write(EMPTY + "\n")
        return 0
    rows = [("NAME", "ENVIRONMENT", "ACCOUNT", "LAST REFRESH", "REFRESH TOKEN EXPIRES")]
    broken: list[ProfileListing] = []
    for listing in listings:
        p = listing.profile
        if p is None:
            broken.append(listing)
            continue
        rows.append(
            (
                p.name,
                p.environment,
                _account(p),
                _when(p.last_refresh_at),
                expiry_note(p.refresh_token_expires_at, now),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows if len(rows) > 1 else []:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        sys.stdout.write("  ".join([*cells, row[4]]).rstrip() + "\n")
    for listing in broken:
        error = listing.error
        sys.stdout.write(f"{listing.name}  ✗ cannot be read: {listing.path}\n")
        if error is not None:
            for part in (error.what, error.cause, error.fix):
                if part:
                    sys.stdout.write(f"    {part}\n")
    return 0


def _secret_states(name: str, *, ephemeral: bool) -> dict[str, str]:
    try:
        secrets: SecretStore = open_secrets(ephemeral=ephemeral)
        return {
            item: "present" if secrets.get(name, item) is not None else "absent"
            for item in SECRET_ITEMS
        }
    except KeyringError:
        return dict.fromkeys(SECRET_ITEMS, UNKNOWN_SECRET)


def _show(store: ProfileStore, name: str, fmt: str, *, ephemeral: bool) -> int:
    profile = store.load(name)
    data = profile_to_dict(profile)
    data["secrets"] = _secret_states(name, ephemeral=ephemeral)
    if fmt != "text":
        _emit(data, fmt)
        return 0
    now = datetime.now(UTC)
    lines = [f"Profile {profile.name}  ({store.path_for(name)})"]
    for key, value in data.items():
        if key in ("name", "secrets", "clm_hosts", "exports", "schema_version"):
            continue
        if key == "refresh_token_expires_at":
            shown = expiry_note(profile.refresh_token_expires_at, now)
        elif _is_structured(value):  # publications, the JWT consent record: readable lines
            lines.append(f"  {key}:")
            lines.extend(_nested(value, "    "))
            continue
        elif isinstance(value, list):
            shown = " ".join(str(item) for item in value) or "(none)"
        else:
            shown = _scalar(value)
        lines.append(f"  {key}: {shown}")
    if profile.clm_hosts is not None:
        lines.append("  clm_hosts:")
        for connector, host in data["clm_hosts"].items():
            lines.append(f"    {connector}: {host}")
    if profile.exports:
        lines.append("  exports:")
        for record in data["exports"]:
            lines.append(f"    {record['at']}  {record['layout']}  {record['path']}")
    lines.append("  secrets (in the keyring; values never shown here):")
    for item, state in data["secrets"].items():
        lines.append(f"    {item}: {state}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _is_structured(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value)
    )


def _nested(value: Any, pad: str) -> list[str]:
    """A dict or a list of dicts as indented `key: value` lines (YAML-like, never a repr)."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_structured(item):
                lines.append(f"{pad}{key}:")
                lines.extend(_nested(item, pad + "  "))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: {' '.join(str(i) for i in item) or '(none)'}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
        return lines
    for item in value:
        inner = _nested(item, pad + "  ") if _is_structured(item) else [f"{pad}  {_scalar(item)}"]
        lines.append(f"{pad}- {inner[0].strip()}")
        lines.extend(inner[1:])
    return lines


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _confirm(name: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(
            f"Not deleting profile '{name}' without confirmation.",
            cause="There is no terminal to ask on.",
            fix=f"Run `clmwizard profiles delete {name} --yes` to delete it without asking.",
            field="profile",
        )
    try:
        answer = input(f"Delete profile {name} and its keyring items? [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _delete(store: ProfileStore, name: str, fmt: str, *, yes: bool, ephemeral: bool) -> int:
    path = store.path_for(name)
    if not store.exists(name):
        store.load(name)  # raises the "no such profile" error
    if not yes and not _confirm(name):
        sys.stdout.write(f"Kept profile {name}.\n")
        return 0
    secrets = open_secrets(ephemeral=ephemeral)
    try:
        made: Profile | None = store.load(name)  # what it made elsewhere, for the summary
    except ClmWizardError:
        made = None
    try:
        store.delete(name, secrets)
    except KeyringError as error:
        raise KeyringError(
            f"Profile '{name}' was not deleted: its keyring items could not be removed.",
            cause=" ".join(part for part in (error.what, error.cause) if part),
            fix=error.fix,
            code=error.code,
        ) from error
    if fmt == "text":
        where = "its keyring items" if secrets.persistent else "its in-memory secrets"
        sys.stdout.write(f"✓ Deleted profile {name} ({path}) and {where}.\n")
        sys.stdout.write("\n".join(after_delete(made)) + "\n")
    else:
        _emit({"deleted": name, "path": str(path)}, fmt)
    return 0
