"""What `connect`, `heartbeat` and `status` share (make_apis and the Flow sign-in live in
powerplatform.setup, where the wizard finds them too): the Microsoft flags, the options and the
start of a command on a profile's publication, the settings it recorded, one sign-in for the Power
Apps and the Flow API, and a live status line."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TypeVar

from clmwizard.commands.common import CommandOptions, is_tty, open_profile, open_secrets, say
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.powerplatform.api import validate_environment_id
from clmwizard.powerplatform.setup import flow_sign_in, settings_from, user_settings
from clmwizard.wait_clock import WaitClock

if TYPE_CHECKING:
    import httpx

    from clmwizard.http import ClientFactory
    from clmwizard.powerplatform.settings import MicrosoftSettings
    from clmwizard.powerplatform.signin import MicrosoftSignIn
    from clmwizard.store.profile import Profile, PublishRecord
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore

Options = TypeVar("Options", bound="PublicationOptions")
Target = TypeVar("Target")


def add_microsoft_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the Microsoft side lives; by default what `publish` recorded for the profile."""
    group = parser.add_argument_group("Microsoft (default: what publish used for this profile)")
    group.add_argument("--tenant", metavar="T", help="tenant id or domain")
    group.add_argument("--client-id", metavar="ID", help="app registration to sign in with")
    group.add_argument("--authority", metavar="URL", help="sign-in origin")
    group.add_argument("--power-apps-url", metavar="URL", help="Power Apps API")
    group.add_argument("--flow-url", metavar="URL", help="Flow API")


@dataclass(frozen=True)
class MicrosoftOptions(CommandOptions):
    tenant: str | None = None
    client_id: str | None = None
    authority: str | None = None
    power_apps_url: str | None = None
    flow_url: str | None = None


def add_publication_arguments(parser: argparse.ArgumentParser) -> None:
    """The first flags of PublicationOptions: --profile, and --environment for which of its
    publications (default: the latest)."""
    parser.add_argument("--profile", required=True, metavar="NAME", help="profile name")
    parser.add_argument("--environment", metavar="ENV_ID", help="Power Platform environment id")


def add_wait_arguments(parser: argparse.ArgumentParser, timeout_help: str) -> None:
    """The last flags of PublicationOptions: --timeout, then the Microsoft flags."""
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S", help=timeout_help)
    add_microsoft_arguments(parser)


@dataclass(frozen=True)
class PublicationOptions(CommandOptions):
    """The options of a command on one of the profile's publications that waits for Power
    Platform (`connect`, `heartbeat`): --timeout is checked, the Microsoft flags gathered."""

    profile: str
    environment: str | None
    timeout: float
    microsoft: MicrosoftOptions
    ephemeral: bool
    client_factory: ClientFactory
    poll_seconds: float

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        if not 1 <= args.timeout <= 3600:
            raise UsageError("--timeout must be between 1 and 3600 seconds.", field="timeout")
        return cls.from_flags(args, microsoft=MicrosoftOptions.from_args(args))


def run_on_publication(
    options: Options,
    task: str,
    find: Callable[[Profile, str | None], Target],
    work: Callable[[Options, Profile, ProfileStore, SecretStore, Target], Coroutine[Any, Any, int]],
) -> int:
    """`work` on what `find` finds in the profile's publication in --environment, under the
    profile's lock for `task`; a missing profile or publication fails before the keyring is
    touched."""
    name, profiles, profile = open_profile(options.profile)
    environment = validate_environment_id(options.environment) if options.environment else None
    found = find(profile, environment)
    secrets = open_secrets(ephemeral=options.ephemeral)
    with profiles.task_lock(name, task):
        return asyncio.run(work(options, profile, profiles, secrets, found))


def settings_for(
    profile: Profile | None, record: PublishRecord | None, options: MicrosoftOptions
) -> MicrosoftSettings:
    """The flags over what `publish` recorded for `record` (None: the defaults). With a profile,
    a sign-in as a person: the flags over the one the profile remembers (`connect --client-id X`
    once), over the record's (perhaps a service principal's)."""
    flags = dataclasses.asdict(options)
    if profile is None:
        return settings_from(record, **flags)
    return user_settings(profile, record, **flags)


async def sign_in(
    http: httpx.AsyncClient,
    settings: MicrosoftSettings,
    secrets: SecretStore,
    profile: str,
    *,
    interactive: bool,
    flow: bool,
) -> tuple[MicrosoftSignIn, MicrosoftSignIn | None] | None:
    """(Power Apps sign-in, Flow sign-in) from the profile's one Microsoft account: silently
    from the cache; else, when `interactive`, one device-code sign-in; else None. The Flow
    token comes silently from the same account (MSAL redeems its refresh token)."""
    from clmwizard.commands.publish import show_device_code
    from clmwizard.powerplatform import signin

    who = await signin.sign_in_silently(settings, secrets, profile, http)
    if who is None:
        if not interactive:
            return None
        who = await signin.sign_in_device_code(
            settings, secrets, profile, http, show_device_code, allow_cached=False
        )
        say(f"✓ Signed in to Microsoft as {who.username}")
    if not flow:
        return who, None
    return who, await flow_sign_in(http, settings, secrets, profile)


class LiveLine(WaitClock):
    """The command line's wait clock (spinner, time waited, limit) plus keys that act while it
    waits on a terminal (`keys`: key → (label, action returning a word to show))."""

    def __init__(
        self,
        what: str,
        limit: float,
        *,
        keys: dict[str, tuple[str, Callable[[], str]]] | None = None,
        hint: str | None = None,
        stream: Any = None,
        interval: float = 0.25,
    ) -> None:
        super().__init__(what, limit, hint=hint, stream=stream, interval=interval)
        self.keys = keys or {}
        self.keys_active = False  # the keys are read (a terminal on stdin and stderr)
        self.note = ""

    def line(self, waited: float) -> str:
        text = super().line(waited)
        if self.keys_active:
            hints = "  ".join(f"[{key}] {label}" for key, (label, _) in self.keys.items())
            text += f"  {hints}" if hints else ""
        return text + (f"  {self.note}" if self.note else "")

    def start(self) -> LiveLine:
        if self.keys and is_tty(sys.stdin) and is_tty(self.stream) and sys.platform != "win32":
            self.keys_active = True
            threading.Thread(target=self._read_keys, daemon=True, name="wait-keys").start()
        super().start()
        return self

    def __enter__(self) -> LiveLine:
        return self.start()

    def tick(self, waited: float) -> None:
        """For the core's `tick` callbacks: the clock draws itself."""

    def _read_keys(self) -> None:
        if sys.platform == "win32":
            return
        import select
        import termios
        import tty

        fd = sys.stdin.fileno()
        try:
            saved = termios.tcgetattr(fd)
        except termios.error:
            return
        try:
            tty.setcbreak(fd)
            while not self._stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    continue
                key = sys.stdin.read(1).lower()
                if key in self.keys:
                    try:
                        self.note = self.keys[key][1]()
                    except ClmWizardError as error:
                        self.note = error.what
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def copy_action(text: str) -> Callable[[], str]:
    def copy() -> str:
        from clmwizard.clipboard import copy_text

        copy_text(text)
        return "copied"

    return copy
