"""What the Connect and Heartbeat steps share: the profile's one Microsoft sign-in (silent after
Publish; a device code only when nothing is cached), the environment they work in, a wait line
with spinner, clock and limit, and a guard that turns any server failure into a message."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.device_code_keys import (
    DeviceCodeKeys,
    device_code_bindings,
    device_code_key_enabled,
)
from clmwizard.store.profile import Profile
from clmwizard.wait_clock import SPINNER, clock
from clmwizard.widgets.device_code import DeviceCodePanel
from clmwizard.widgets.field_message import FieldMessage

if TYPE_CHECKING:
    from clmwizard.powerplatform.settings import MicrosoftSettings
    from clmwizard.powerplatform.signin import DeviceCode, MicrosoftSignIn
    from clmwizard.store.profile import PublishRecord

Phase = Literal["signing_in", "working", "waiting", "blocked", "failed", "done"]


def latest_record(profile: Profile) -> PublishRecord | None:
    """The environment the profile published to last (the one Publish just wrote)."""
    if not profile.publications:
        return None
    return max(profile.publications, key=lambda r: r.at or datetime.min.replace(tzinfo=UTC))


def server_failure(error: BaseException) -> ClmWizardError:
    """Anything a server made go wrong, as a message beside the step (never a crash)."""
    if isinstance(error, ClmWizardError):
        return error
    return ClmWizardError(
        "The Power Platform conversation failed unexpectedly.",
        cause=f"{type(error).__name__}: {error}"[:300],
        fix="Press r to try again; nothing done so far is lost (the profile remembers it).",
        code="unexpected",
    )


# The core's fixes name the command line's commands; here each is this wizard's key. Which fix
# applies stays the core's decision: only the words for "do it again" change.
_ROTATE = re.compile(
    r"clmwizard publish --profile [^ ,()`]+ \(or finish `clmwizard rotate --profile [^`]*`\), "
    r"then run `clmwizard connect --profile [^`]*` again"
)
_PUBLISH = re.compile(r"(?:with )?`?clmwizard publish --profile [^ ,()`]+`?")
_CONNECT = re.compile(
    r"(?:[Rr]un )?`clmwizard connect(?: --profile [^`]*)?`(?: again)?( to sign in again)?"
)
_HEARTBEAT = re.compile(r"`clmwizard heartbeat --profile [^`]*`")
_AGAIN = re.compile(r"run the command again")
Step = Literal["Connect", "Heartbeat"]
ROTATE_KEYS = {
    "Connect": (
        "f finishes here; on the start screen s rotates the secret key (its checklist gives "
        "the connectors the new one), then p and enter come back to Connect — or, once the "
        "connectors have it, press r here"
    ),
    "Heartbeat": (
        "enter finishes here; on the start screen s rotates the secret key (its checklist "
        "gives the connectors the new one and runs the heartbeat to prove it)"
    ),
}
CONNECT_KEYS = {
    "Connect": "press r",
    "Heartbeat": "esc goes back to Connect, which signs in again on the same connection",
}
# Before Heartbeat, a publish is a missing one; at Heartbeat, a stale secret (the run's refusal).
PUBLISH_KEYS = {"Connect": "esc goes back to Publish", "Heartbeat": ROTATE_KEYS["Heartbeat"]}
HEARTBEAT_KEYS = {"Connect": "the Heartbeat step (enter)", "Heartbeat": "r"}


def _connect_keys(match: re.Match[str], step: Step) -> str:
    keys = CONNECT_KEYS[step]
    if step == "Connect" and match.group(1):
        keys += match.group(1)  # "press r to sign in again"; Connect's own words say it there
    return keys[0].upper() + keys[1:] if match.group(0)[0].isupper() else keys


def in_wizard(fix: str, step: Step) -> str:
    """A fix written for the command line, in this step's keys."""
    fix = _ROTATE.sub(ROTATE_KEYS[step], fix)
    fix = _PUBLISH.sub(PUBLISH_KEYS[step], fix)
    fix = _CONNECT.sub(lambda match: _connect_keys(match, step), fix)
    fix = _HEARTBEAT.sub(HEARTBEAT_KEYS[step], fix)
    return _AGAIN.sub("press r", fix)


def wizard_failure(error: BaseException, step: Step) -> ClmWizardError:
    """A server's failure beside the step, its fix in keys, and r to try again."""
    failure = server_failure(error)
    failure.fix = in_wizard(failure.fix, step)
    if "press r" not in failure.fix.lower():
        made = "a connection" if step == "Connect" else "the flow"
        failure.fix = f"{failure.fix} Press r to try again ({made} made before is reused).".strip()
    return failure


class PlatformStepScreen(DeviceCodeKeys, WizardScreen):
    """A step after Publish that talks to the Power Platform as the profile's Microsoft user:
    its intro, the device code, its own lines (compose_step), its message; run_step does the
    work, and once the phase is SETTLED enter goes on and r runs it again."""

    SIGN_IN_BINDINGS = device_code_bindings()
    INTRO = ""
    SETTLED: ClassVar[tuple[Phase, ...]] = ("failed", "done")

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.SIGNIN_MESSAGE = f"#{self.STEP.lower()}-message"
        self.profile = profile
        self.phase: Phase = "signing_in"
        self.code: DeviceCode | None = None
        self._settings: MicrosoftSettings | None = None
        self._cancel = threading.Event()
        self._frame = 0
        self._last_tick = 0.0
        self.waiting_for = ""
        self.limit = 0.0

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(classes="form"):
            yield Static(self.INTRO, id=f"{self.STEP.lower()}-intro")
            yield DeviceCodePanel(id="signin")
            yield from self.compose_step()
            yield FieldMessage(id=f"{self.STEP.lower()}-message")

    def compose_step(self) -> Iterable[Widget]:
        return ()

    def on_mount(self) -> None:
        self.run_step()

    def run_step(self) -> object:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        waiting = self.phase == "signing_in" and self.code is not None
        sign_in = device_code_key_enabled(action, waiting=waiting, wizard=self.wizard)
        if sign_in is not None:
            return sign_in
        if action in ("next", "retry"):
            return self.phase in self.SETTLED
        return self.check_step_action(action)

    def check_step_action(self, action: str) -> bool:
        return True

    def action_next(self) -> None:
        from clmwizard.flow import Next

        if self.phase in self.SETTLED:
            self.answer(Next())

    def action_retry(self) -> None:
        if self.phase in self.SETTLED:
            self.run_step()

    def fail(self, error: BaseException, tidy: Callable[[], None] = lambda: None) -> None:
        """A server's failure beside the step, never a crash (`tidy` clears what it leaves);
        nothing when the user has left the step meanwhile (its widgets going)."""
        with contextlib.suppress(NoMatches):
            if not self.is_attached:
                return
            self.end_wait()
            tidy()
            self.message.show_error(wizard_failure(error, cast("Step", self.STEP)))
            self.set_phase("failed")

    @property
    def settings(self) -> MicrosoftSettings:
        if self._settings is None:  # the sign-in as a person this profile made (connect)
            from clmwizard.powerplatform.setup import user_settings

            self._settings = user_settings(self.profile, base=self.wizard.context.microsoft())
        return self._settings

    def on_unmount(self) -> None:
        self._cancel.set()

    def set_phase(self, phase: Phase) -> None:
        self.phase = phase
        self.refresh_bindings()

    # -- the sign-in -----------------------------------------------------------------------

    async def sign_in(self, *, flow: bool) -> tuple[MicrosoftSignIn, MicrosoftSignIn | None]:
        """The Power Apps sign-in (cached by Publish: silent) and, with `flow`, the Flow API's
        token silently from the same account."""
        from clmwizard.powerplatform.setup import flow_sign_in, remember_user_sign_in

        self.set_phase("signing_in")
        self.signin_panel.say("Signing in to Microsoft…")
        settings, name = self.settings, self.profile.name
        secrets = await asyncio.to_thread(self.wizard.secret_store)
        who = await self.device_code_sign_in(settings, secrets, name)
        flow_who = None
        if flow:
            async with self.wizard.context.client_factory(ca_bundle=settings.ca_bundle) as http:
                flow_who = await flow_sign_in(http, settings, secrets, name)
        with contextlib.suppress(ClmWizardError):  # a convenience for the next sign-in
            profiles = self.wizard.context.profiles
            await asyncio.to_thread(remember_user_sign_in, profiles, name, settings)
        self.code = None
        how = " (the sign-in Publish made)" if who.from_cache else ""
        self.signin_panel.say(f"✓ Signed in to Microsoft as [b]{escape(who.username)}[/b]{how}")
        self.set_phase("working")
        return who, flow_who

    # -- waiting -----------------------------------------------------------------------------

    @property
    def message(self) -> FieldMessage:
        return self.query_one(f"#{self.STEP.lower()}-message", FieldMessage)

    def start_wait(self, what: str, limit: float) -> None:
        self.waiting_for, self.limit = what, limit
        self._last_tick = 0.0
        self.tick(0.0)

    def tick(self, waited: float) -> None:
        """The wait line: spinner, the time waited, the limit (called ~10×/s by the core)."""
        if not self.is_attached or time.monotonic() - self._last_tick < 0.1:
            return
        self._last_tick = time.monotonic()
        self._frame = (self._frame + 1) % len(SPINNER)
        self.query_one("#wait", Static).update(
            f"{SPINNER[self._frame]} {escape(self.waiting_for)}  "
            f"[b]{clock(waited)}[/b] / {clock(self.limit)}"
        )

    def end_wait(self, text: str = "") -> None:
        if self.is_attached:
            self.query_one("#wait", Static).update(text)
