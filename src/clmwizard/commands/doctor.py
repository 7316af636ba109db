"""`clmwizard doctor`: what works here and what to install.

Exit 0 only when secrets can be stored safely; otherwise the keyring exit code (4). Every check
is bounded by a timeout so doctor never hangs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import stat
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from clmwizard import __version__
from clmwizard.browser import browser_name, current_browser, is_text_browser
from clmwizard.clipboard import clipboard_mechanism, missing_reason
from clmwizard.commands.common import CommandOptions
from clmwizard.errors import EXIT_OK, ClmWizardError, KeyringError
from clmwizard.redact import register_secret
from clmwizard.store.profile import ACCESS_TOKEN
from clmwizard.store.profiles import ProfileStore, config_dir

if TYPE_CHECKING:
    from clmwizard.http import ClientFactory

KEYRING_TIMEOUT = 3.0
OSC52_ONLY = "OSC 52 only — works in most terminals over SSH; not in tmux without set-clipboard on"
PASTE_FALLBACK = (
    "Use the paste fallback: `clmwizard login --no-browser` (or the wizard) shows the consent "
    "URL; open it in a browser on any machine and paste the address it redirects to back here."
)


@dataclass
class Check:
    ok: bool
    line: str
    details: list[str] = field(default_factory=list)
    fix: str = ""

    def render(self) -> str:
        lines = [f"{'✓' if self.ok else '✗'} {self.line}"]
        lines.extend(f"  {detail}" for detail in self.details if detail)
        if self.fix:
            lines.append(f"  Fix: {self.fix}")
        return "\n".join(lines)


def check_keyring(timeout: float = KEYRING_TIMEOUT) -> list[Check]:
    """The keyring backend by name, then a write/read/delete round trip."""
    from clmwizard.store.secrets import (
        KeyringSecretStore,
        check_keyring_backend,
        keyring_round_trip,
    )

    report = check_keyring_backend(timeout=timeout)
    if not report.usable:
        return [Check(False, f"Keyring: {report.name}", [report.problem], report.fix)]
    checks = [Check(True, f"Keyring: {report.name}")]
    try:
        keyring_round_trip(KeyringSecretStore(timeout=timeout))
    except KeyringError as error:
        checks.append(
            Check(False, "Keyring round trip failed", [error.what, error.cause], error.fix)
        )
    else:
        checks.append(Check(True, "Keyring round trip: a test secret was stored, read, deleted"))
    return checks


def check_clipboard() -> Check:
    mechanism = clipboard_mechanism()
    if mechanism is None:
        reason, fix = missing_reason()
        return Check(
            False, f"Clipboard: {OSC52_ONLY}", [f"Why: {reason}."], fix[0].upper() + fix[1:]
        )
    return Check(True, f"Clipboard: {mechanism}")


def _browser_command() -> str | None:
    """The command `webbrowser` would run (honouring $BROWSER), or None when it has none."""
    choice = os.environ.get("BROWSER", "").split(os.pathsep)[0].strip()
    if choice:
        try:
            words = shlex.split(choice)
        except ValueError:
            words = choice.split()
        return words[0] if words else choice
    browser = current_browser()
    return None if browser is None else browser_name(browser)


def check_browser() -> Check:
    command = _browser_command()
    if command is None:
        return Check(False, "Browser: none found", fix=PASTE_FALLBACK)
    if is_text_browser(command):
        return Check(
            False,
            f"Browser: {command} (a text browser)",
            ["A text browser cannot finish a DocuSign sign-in (it needs JavaScript)."],
            "Set BROWSER to a graphical browser, or "
            + PASTE_FALLBACK[0].lower()
            + PASTE_FALLBACK[1:],
        )
    return Check(True, f"Browser: {command}")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_config_folder(folder: Path | None = None) -> Check:
    folder = folder if folder is not None else config_dir()
    if not folder.exists():
        return Check(True, f"Config folder: {folder} (not created yet; it will be private)")
    if sys.platform == "win32":
        # Windows has no permission bits; the folder sits in the user's own profile.
        return Check(
            True, f"Config folder: {folder} (in your Windows user profile; not checked for access)"
        )
    exposed = [
        path
        for path in (folder, folder / "profiles", *sorted((folder / "profiles").glob("*.yaml")))
        if path.exists() and _mode(path) & 0o077
    ]
    if exposed:
        return Check(
            False,
            f"Config folder: {folder} can be read by other users",
            [f"{path} has mode {_mode(path):03o}" for path in exposed],
            f"chmod -R go-rwx {shlex.quote(str(folder))}",
        )
    return Check(True, f"Config folder: {folder} (private, mode {_mode(folder):03o})")


def check_versions() -> Check:
    return Check(True, f"Python {platform.python_version()}, clmwizard {__version__}")


def check_reachability(
    profile_name: str, timeout: float = 5.0, factory: ClientFactory | None = None
) -> list[Check]:
    """Whether a profile's OAuth server, CLM discovery server and CLM hosts answer at all: any
    HTTP status to a bare request (a 404 included) is an answer, not proof that CLM works."""
    import httpx

    from clmwizard.http import make_client

    try:
        profile = ProfileStore().load(profile_name)
    except ClmWizardError as error:
        return [Check(False, f"Reachability: profile {profile_name} cannot be read", [error.what])]
    targets = [("OAuth server", profile.auth_server), ("CLM discovery", profile.clm_auth_server)]
    if profile.clm_hosts is not None:
        hosts = profile.clm_hosts
        targets += [("CLM general", hosts.general), ("CLM upload", hosts.upload)]
        targets += [("CLM download", hosts.download)]

    async def probe(label: str, url: str, client: httpx.AsyncClient) -> Check:
        try:
            async with client.stream("GET", url) as response:  # the status will do: no body
                status = response.status_code
        except httpx.HTTPError as error:
            return Check(
                False,
                f"{label} does not answer: {url} ({type(error).__name__})",
                fix="Check the network, a proxy (HTTPS_PROXY) or a firewall; "
                "for a custom server, that it is running.",
            )
        return Check(True, f"{label} answers: {url} (HTTP {status} to a bare request)")

    async def probe_all() -> list[Check]:
        async with (factory or make_client)(timeout=timeout) as client:
            return [await probe(label, url, client) for label, url in targets]

    checks = asyncio.run(probe_all())
    return checks


def check_clm_call(
    profile_name: str, client_factory: ClientFactory, timeout: float = KEYRING_TIMEOUT
) -> Check:
    """Whether CLM works for the profile: List attribute groups with its stored access token."""
    from clmwizard.docusign.clm_check import list_attribute_groups
    from clmwizard.store.secrets import KeyringSecretStore

    refresh = f"`clmwizard refresh --profile {profile_name}` renews it"
    try:
        profile = ProfileStore().load(profile_name)
        token = KeyringSecretStore(timeout=timeout).get(profile_name, ACCESS_TOKEN)
    except ClmWizardError as error:
        return Check(False, "CLM works: could not be checked", [error.what])
    if profile.clm_hosts is None or profile.account_id is None:
        return Check(
            False,
            "CLM works: not checked, the profile has no CLM hosts or account",
            fix=f"Sign in again (clmwizard login --profile {profile_name} …) or enter the hosts "
            f"in the wizard (clmwizard --profile {profile_name}).",
        )
    expires = profile.access_token_expires_at
    if not token or (expires is not None and expires <= datetime.now(UTC)):
        return Check(
            True, f"CLM works: not checked, no live access token stored ({refresh}, then check)"
        )
    register_secret(token)
    hosts, account = profile.clm_hosts, profile.account_id

    async def call() -> str:
        async with client_factory() as client:
            answer = await list_attribute_groups(client, hosts.general, account, token)
        return answer.describe()

    try:
        said = asyncio.run(call())
    except ClmWizardError as error:
        return Check(False, f"CLM works: no. {error.what}", [error.cause], error.fix)
    return Check(True, f"CLM works: {said}")


def check_microsoft_sign_in(profile_name: str, timeout: float = KEYRING_TIMEOUT) -> Check:
    """Whether the profile's Microsoft sign-in (MSAL's token cache) is stored, and for whom."""
    from clmwizard.powerplatform.signin import stored_sign_in
    from clmwizard.store.secrets import KeyringSecretStore

    try:
        stored = stored_sign_in(KeyringSecretStore(timeout=timeout), profile_name)
    except ClmWizardError as error:
        return Check(False, "Microsoft sign-in: the keyring could not be read", [error.what])
    if stored is None:
        return Check(
            True,
            "Microsoft sign-in: none stored "
            f"(`clmwizard publish --profile {profile_name}` signs in)",
        )
    who = ", ".join(stored.usernames) or "a service principal (app tokens only)"
    return Check(True, f"Microsoft sign-in: stored for {who}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="also check that this profile's servers answer",
    )


@dataclass(frozen=True)
class DoctorOptions(CommandOptions):
    profile: str | None  # given before or after the command
    client_factory: ClientFactory


def run(args: argparse.Namespace) -> int:
    options = DoctorOptions.from_args(args)
    keyring_checks = check_keyring(KEYRING_TIMEOUT)
    checks = [*keyring_checks, check_clipboard(), check_browser()]
    try:
        checks.append(check_config_folder())
    except (OSError, ClmWizardError) as error:
        checks.append(Check(False, f"Config folder: could not be checked ({error})"))
    checks.append(check_versions())
    profile = options.profile
    if profile:
        checks.extend(check_reachability(profile, factory=options.client_factory))
        if all(check.ok for check in keyring_checks):
            checks.append(check_clm_call(profile, options.client_factory))
        if all(check.ok for check in keyring_checks):
            checks.append(check_microsoft_sign_in(profile))
    else:
        checks.append(Check(True, "Reachability: add --profile NAME to check a profile's servers"))
    sys.stdout.write("\n".join(check.render() for check in checks) + "\n")
    if all(check.ok for check in keyring_checks):
        sys.stdout.write("\nSecrets can be stored safely here.\n")
        return EXIT_OK
    sys.stdout.write(
        "\n✗ Secrets cannot be stored safely here. Fix the keyring as shown above, "
        "or run with --ephemeral to keep secrets in memory for one run only.\n"
    )
    return KeyringError.exit_code
