"""What the commands share: flags several of them take, terminal output, and opening the profile
and secret stores. Light to import: cli.py loads it (neither httpx nor keyring).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from datetime import datetime

    from clmwizard.http import ClientFactory
    from clmwizard.store.profile import Profile
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore

FORMATS = ("text", "json", "yaml")


def add_profile(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--profile", required=required, metavar="NAME", help="profile name (letters, digits, - _ .)"
    )


def add_layout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layout",
        choices=("three", "single"),
        help="single: one connector routing to all three CLM hosts (one redirect URL to "
        "register, one sign-in per user); three: one per host (three redirect URLs, three "
        "sign-ins); default: the profile's layout (single until one is chosen)",
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")


def add_allow_host(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="use this CLM host although it is not under DocuSign's CLM domains (repeatable)",
    )


def add_connector_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="the connector's name in Power Automate, remembered in the profile (default: from "
        'the profile\'s name, e.g. "DocuSign CLM work"; the three layout adds Upload, Download)',
    )


def add_trust_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-server",
        action="store_true",
        help="confirm (once, recorded in the profile) an OAuth server that is not DocuSign's",
    )


def is_ephemeral(args: argparse.Namespace) -> bool:
    """--ephemeral, given before or after the command."""
    return bool(getattr(args, "ephemeral", False))


def poll_seconds(args: argparse.Namespace) -> float:
    """How often a wait asks the Power Platform: what `cli.main` was given, else the product's."""
    from clmwizard.powerplatform.polling import POLL_SECONDS

    given: float | None = getattr(args, "poll_seconds", None)
    return given or POLL_SECONDS


def client_factory(args: argparse.Namespace) -> ClientFactory:
    """What makes every DocuSign HTTP client: the one `cli.main` was given, else the default."""
    from clmwizard.context import default_client_factory

    factory: ClientFactory | None = getattr(args, "client_factory", None)
    return factory or default_client_factory


class CommandOptions:
    """Base of a command's options, a frozen dataclass whose fields are named after its flags.
    `from_flags` reads each field from the flag of its name (`ephemeral`, `client_factory` and
    `poll_seconds` as the top-level flags and cli.main give them), `given` the fields that need
    converting; a command whose flags need checking overrides `from_args`."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        return cls.from_flags(args)

    @classmethod
    def from_flags(cls, args: argparse.Namespace, **given: Any) -> Self:
        shared = {
            "ephemeral": is_ephemeral,
            "client_factory": client_factory,
            "poll_seconds": poll_seconds,
        }
        values = {
            field.name: given[field.name]
            if field.name in given
            else shared[field.name](args)
            if field.name in shared
            else getattr(args, field.name)
            for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        }
        return cls(**values)


def say(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    sys.stderr.write(f"! {text}\n")
    sys.stderr.flush()


def is_tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def stamp(moment: datetime | None) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def open_profile(name: str) -> tuple[str, ProfileStore, Profile]:
    """The validated name, the profile store and the profile: a missing profile fails here,
    before the keyring is touched."""
    from clmwizard.store.profiles import ProfileStore, validate_profile_name

    name = validate_profile_name(name)
    profiles = ProfileStore()
    return name, profiles, profiles.load(name)


def open_secrets(*, ephemeral: bool) -> SecretStore:
    """The OS keyring, or with --ephemeral a store in memory for this run."""
    from clmwizard.store.secrets import open_secret_store

    return open_secret_store(ephemeral=ephemeral)
