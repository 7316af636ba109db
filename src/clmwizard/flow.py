"""The wizard's order: which step follows which, what each step answers, where back and the
"fix it" jumps lead, and the draft they fill. Free of Textual: the app shows a step with
`push_screen_wait`, the tests with a script (`Steps.show` is all a flow needs).

    start screen ─ new / continue / re-consent ─→ sign_in ─ Saved ─→ profile_steps
                 ─ open a signed-in profile ────────────────────────→ profile_steps
                 ─ export ──────────────────────────────────────────→ profile_steps(Export)
                 ─ publish ─────────────────────────────────────────→ profile_steps(Publish)

    sign_in:        Key → Scopes → Consent ─Code→ Tokens → Discovery ─Saved→ (Fields)
                    esc goes one step back; esc on Key ends the flow (the start screen).
                    Tokens ─FixScopes→ Scopes. Back into Tokens never resends a code: the code
                    is handed to Tokens once; Tokens shown again shows the tokens it got.
    profile_steps:  (JWT →) Fields ─ExportAsked→ Export ─Next→ Publish ─Next→ Connect ─Next→
                    Heartbeat (each optional: esc goes one step back; Connect ─Done→ and
                    Heartbeat's Next end at the start screen); esc on Export → Fields, on the
                    first step → start.
                    JWT comes first after sign-in when the draft names a JWT
                    integration user (uses_jwt), and alone from the start screen (CheckJwt).
                    JWT ─FixJwt→ Key → JWT again (or, when the key, environment or redirect URI
                    changed, Scopes → … → Discovery → JWT).

Adding a step: its name and title, its place in SIGN_IN_STEPS or PROFILE_STEPS (next and back
follow from the order), and the screen in the app's STEP_SCREENS.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from clmwizard.context import DemoSetup
    from clmwizard.draft import Draft
    from clmwizard.store.profile import Profile

StepName = Literal[
    "Key",
    "Scopes",
    "Consent",
    "Tokens",
    "Discovery",
    "JWT",
    "Fields",
    "Export",
    "Publish",
    "Connect",
    "Heartbeat",
]

# The order: signing in, then what a saved profile's steps are.
SIGN_IN_STEPS: tuple[StepName, ...] = ("Key", "Scopes", "Consent", "Tokens", "Discovery")
PROFILE_STEPS: tuple[StepName, ...] = ("JWT", "Fields", "Export", "Publish", "Connect", "Heartbeat")
TITLES: dict[StepName, str] = {
    "Key": "Integration key",
    "JWT": "JWT Grant",
    "Fields": "Connector fields",
}
# A check: the step after it is reached from it, esc there never leads back into it.
CHECKS: frozenset[StepName] = frozenset({"JWT"})

STEPS: tuple[tuple[StepName, str], ...] = tuple(
    (step, TITLES.get(step, step)) for step in (*SIGN_IN_STEPS, *PROFILE_STEPS)
)
_PAIRS = [pair for order in (SIGN_IN_STEPS, PROFILE_STEPS) for pair in pairwise(order)]
# Where a step's plain "next" and "esc" lead; a step missing from BACK ends its flow on esc.
NEXT: dict[StepName, StepName] = dict(_PAIRS)
BACK: dict[StepName, StepName] = {after: before for before, after in _PAIRS if before not in CHECKS}


# -- what a step answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Back:
    """esc: the step before, or the start screen."""


@dataclass(frozen=True)
class Next:
    """Done: the step's values are in the draft."""


@dataclass(frozen=True)
class Code:
    """Consent: the authorization code DocuSign sent back (single use)."""

    code: str


@dataclass(frozen=True)
class FixScopes:
    """Tokens: DocuSign refused the scopes; choose others."""


@dataclass(frozen=True)
class Saved:
    """Discovery: the profile and its secrets are stored."""

    profile: Profile


@dataclass(frozen=True)
class FixJwt:
    """JWT: DocuSign refused the user GUID or the RSA key; change them on the Key screen."""


@dataclass(frozen=True)
class Done:
    """Connect: finished here, back to the start screen (connecting stays optional)."""


Answer = Back | Next | Code | FixScopes | Saved | FixJwt | Done


@dataclass
class StepInput:
    """What a step is shown with."""

    step: StepName
    draft: Draft
    code: str | None = None  # Tokens: the code to exchange, the first time only
    load_secret: bool = False  # Key: read the stored secret key (an existing profile)
    profile: Profile | None = None  # JWT, Fields and Export: the saved profile


class Steps(Protocol):
    """Shows one step and waits for its answer (the app: push_screen_wait)."""

    async def show(self, shown: StepInput) -> Answer: ...


@runtime_checkable
class KeyringCheck(Protocol):
    """Steps that can tell, before the first sign-in step, whether secrets can be stored (the
    app: the keyring, or the user's choice to keep them in memory for this run)."""

    async def keyring_ready(self) -> bool: ...


async def keyring_ready(steps: Steps) -> bool:
    """False when the user would rather fix the keyring first; Steps without the check (a
    test's script) have nothing to check."""
    return await steps.keyring_ready() if isinstance(steps, KeyringCheck) else True


# -- the start screen's choices ---------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the start screen chose: the step its flow starts at, for a saved profile (or, with
    none, a new one named `name`). `load_secret`: Key reads the stored secret key (finishing the
    setup of a saved profile, or re-consenting)."""

    first: StepName
    profile: Profile | None = None
    name: str = ""
    load_secret: bool = False

    @classmethod
    def new(cls, name: str = "") -> Choice:
        return cls("Key", name=name)

    @classmethod
    def resume(cls, profile: Profile) -> Choice:
        """Re-consent, or finish the setup of a profile that is not signed in yet."""
        return cls("Key", profile, load_secret=True)

    @classmethod
    def at(cls, first: StepName, profile: Profile) -> Choice:
        """A saved profile's step: Fields (open), Export, JWT (check) or Publish."""
        return cls(first, profile)


def uses_jwt(draft: Draft) -> bool:
    """The JWT step is part of this draft's flow: it names a JWT integration user (the RSA key
    is typed on the Key screen or stored already; the step says so when it is missing)."""
    return bool(draft.jwt_user_id)


def shown_steps(draft: Draft | None, current: str = "") -> tuple[tuple[StepName, str], ...]:
    """The steps the indicator names: JWT only when this draft uses it (or it is shown)."""
    if current == "JWT" or (draft is not None and uses_jwt(draft)):
        return STEPS
    return tuple(step for step in STEPS if step[0] != "JWT")


# -- the flows --------------------------------------------------------------------------------


async def run(steps: Steps, choice: Choice, demo: DemoSetup | None = None) -> None:
    """Everything that follows a choice on the start screen, until it is back on top."""
    from clmwizard.draft import Draft

    if choice.profile is None:
        draft = Draft.new(choice.name, demo)
    else:
        draft = Draft.of_profile(choice.profile)
    await run_from(steps, draft, choice.first, load_secret=choice.load_secret)


async def run_from(
    steps: Steps, draft: Draft, first: StepName, *, load_secret: bool = False
) -> None:
    """From `first` on with this draft: sign in (when `first` is a sign-in step), then the
    saved profile's Fields and Export."""
    if first in SIGN_IN_STEPS:
        saved = await sign_in(steps, draft, load_secret=load_secret, first=first)
        if saved is not None:
            await profile_steps(steps, draft, saved, first="JWT" if uses_jwt(draft) else "Fields")
    elif draft.existing is not None:
        await profile_steps(steps, draft, draft.existing, first=first)


async def sign_in(
    steps: Steps, draft: Draft, *, load_secret: bool = False, first: StepName = "Key"
) -> Profile | None:
    """Key → Scopes → Consent → Tokens → Discovery: the saved profile, or None on esc.

    The keyring is checked before the first step, not when Discovery stores the profile."""
    if not await keyring_ready(steps):
        return None
    step = first
    code: str | None = None  # from Consent, handed to Tokens once: a code is single-use
    while True:
        shown = StepInput(step, draft, code=code, load_secret=load_secret and step == "Key")
        code = None
        answer = await steps.show(shown)
        match answer:
            case Back():
                if step == first or step not in BACK:
                    return None
                step = BACK[step]
            case Code(code=received):
                code, step = received, "Tokens"
            case FixScopes():
                step = "Scopes"
            case Saved(profile=profile):
                draft.existing = profile
                return profile
            case Next():
                if step == "Scopes" and draft.consent is not None:
                    draft.forget_sign_in()  # other scopes: a new consent
                step = NEXT[step]


async def profile_steps(
    steps: Steps, draft: Draft, profile: Profile, *, first: StepName = "Fields"
) -> None:
    """(JWT →) Fields ⇄ Export for a saved profile; esc on the first step ends the flow."""
    step = first
    while True:
        answer = await steps.show(StepInput(step, draft, profile=profile))
        if isinstance(answer, Back):
            if step == first or step not in BACK:
                return
            step = BACK[step]
        elif isinstance(answer, Done):
            return
        elif isinstance(answer, FixJwt):
            profile = await fix_jwt(steps, draft, profile)
        elif isinstance(answer, Next) and step not in NEXT:
            return  # the last step (Heartbeat) is done: back to the start screen
        elif isinstance(answer, Next):
            if step == "JWT" and not profile.is_signed_in:
                return  # checked from the start screen before sign-in: no fields to show yet
            step = NEXT[step]


async def fix_jwt(steps: Steps, draft: Draft, profile: Profile) -> Profile:
    """JWT ─FixJwt→ Key: the profile the JWT step checks next (esc on Key keeps it as it is).
    Changing the key, environment or redirect URI there needs a new sign-in (Scopes on)."""
    before = (draft.integration_key, draft.environment, draft.redirect_uri)
    answer = await steps.show(StepInput("Key", draft, load_secret=True))
    if not isinstance(answer, Next):
        return profile
    if (draft.integration_key, draft.environment, draft.redirect_uri) == before:
        return profile
    saved = await sign_in(steps, draft, first="Scopes")
    return profile if saved is None else saved
