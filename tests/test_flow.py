"""The wizard's order (flow.py), driven by a script instead of Textual: which step is shown, with
what, after which answer. No screen is involved, so this runs without a terminal."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clmwizard import flow
from clmwizard.docusign.consent import ConsentRequest
from clmwizard.draft import Draft
from clmwizard.flow import (
    Answer,
    Back,
    Choice,
    Code,
    FixJwt,
    FixScopes,
    Next,
    Saved,
    StepInput,
    StepName,
)
from clmwizard.store.profile import Profile

KEY = "3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"
Reply = Answer | Callable[[StepInput], Answer]


@dataclass
class Script:
    """A stand-in for the app: the expected step and the answer to give, one pair per show."""

    replies: list[tuple[StepName, Reply]]
    shown: list[StepInput] = field(default_factory=list)

    async def show(self, shown: StepInput) -> Answer:
        assert self.replies, f"the flow showed {shown.step} after the script ended"
        expected, reply = self.replies.pop(0)
        assert shown.step == expected, [s.step for s in self.shown] + [shown.step]
        self.shown.append(shown)
        return reply(shown) if callable(reply) else reply

    @property
    def steps(self) -> list[str]:
        return [shown.step for shown in self.shown]

    def codes(self) -> list[str | None]:
        return [shown.code for shown in self.shown if shown.step == "Tokens"]


def signed_in(name: str = "acme") -> Profile:
    draft = Draft(profile_name=name, integration_key=KEY)
    profile = draft.base_profile()
    profile.account_id = "9a217f4f-d7c0-4a89-9f9c-3e2d6442bd14"
    return profile


def consented(shown: StepInput) -> Answer:
    """Consent as the screen does it: a consent request in the draft, then the code."""
    shown.draft.consent = ConsentRequest("https://example.invalid", "state", None, "uri")
    return Code(f"code-{len(shown.draft.scopes)}")


def signing_in(
    saved: Profile, key: Reply | None = None, code: str = "c"
) -> list[tuple[StepName, Reply]]:
    """Key (`key`, else Next) → Scopes → Consent (`code`) → Tokens → Discovery, which saves
    `saved`."""
    return [
        ("Key", key or Next()),
        ("Scopes", Next()),
        ("Consent", Code(code)),
        ("Tokens", Next()),
        ("Discovery", Saved(saved)),
    ]


def run(script: Script, choice: flow.Choice) -> None:
    asyncio.run(flow.run(script, choice))
    assert script.replies == [], f"the flow stopped early, before {script.replies[0][0]}"


def test_a_new_profile_from_key_to_export_and_back_to_start() -> None:
    saved = signed_in()
    script = Script(
        [
            *signing_in(saved, code="the-code"),
            ("Fields", Next()),
            ("Export", Back()),
            ("Fields", Back()),
        ]
    )
    run(script, Choice.new("acme"))
    assert script.steps == [
        "Key",
        "Scopes",
        "Consent",
        "Tokens",
        "Discovery",
        "Fields",
        "Export",
        "Fields",
    ]
    assert script.codes() == ["the-code"]
    draft = script.shown[0].draft
    assert draft.profile_name == "acme"
    assert all(shown.draft is draft for shown in script.shown)  # one draft through the flow
    assert draft.existing is saved
    assert [s.profile for s in script.shown[5:]] == [saved, saved, saved]


def test_back_into_tokens_never_resends_the_code() -> None:
    script = Script(
        [
            ("Key", Next()),
            ("Scopes", Next()),
            ("Consent", consented),
            ("Tokens", Next()),
            ("Discovery", Back()),  # Tokens again: shows what it got, no code to send
            ("Tokens", Back()),  # Consent again: a new consent, a new code
            ("Consent", Code("second")),
            ("Tokens", Next()),
            ("Discovery", Back()),
            ("Tokens", Back()),
            ("Consent", Back()),
            ("Scopes", Back()),
            ("Key", Back()),
        ]
    )
    run(script, Choice.new())
    assert script.codes() == ["code-4", None, "second", None]
    assert script.steps.count("Tokens") == 4


def test_tokens_jumps_to_scopes_and_new_scopes_forget_the_consent() -> None:
    def fewer_scopes(shown: StepInput) -> Answer:
        assert shown.draft.consent is not None  # the consent of the refused scopes, until Next
        shown.draft.scopes = ["signature", "spring_read", "spring_write"]
        return Next()

    def check_forgotten(shown: StepInput) -> Answer:
        assert shown.draft.consent is None and shown.draft.tokens is None
        return consented(shown)

    script = Script(
        [
            ("Key", Next()),
            ("Scopes", Next()),
            ("Consent", consented),
            ("Tokens", FixScopes()),
            ("Scopes", fewer_scopes),
            ("Consent", check_forgotten),
            ("Tokens", Back()),
            ("Consent", Back()),
            ("Scopes", Back()),
            ("Key", Back()),
        ]
    )
    run(script, Choice.new())
    assert script.steps[3:6] == ["Tokens", "Scopes", "Consent"]
    assert script.codes() == ["code-4", "code-3"]


def test_esc_on_the_key_step_ends_the_flow() -> None:
    script = Script([("Key", Back())])
    run(script, Choice.new())
    assert script.steps == ["Key"]
    assert script.shown[0].load_secret is False


def test_continuing_a_profile_reads_its_stored_secret_on_the_key_step_only() -> None:
    profile = signed_in("contoso")
    script = Script([("Key", Next()), ("Scopes", Back()), ("Key", Back())])
    run(script, Choice.resume(profile))
    assert [shown.load_secret for shown in script.shown] == [True, False, True]
    draft = script.shown[0].draft
    assert draft.existing is profile and draft.profile_name == "contoso"
    assert draft.integration_key == KEY


def test_opening_a_signed_in_profile_shows_its_fields_then_export() -> None:
    profile = signed_in()
    script = Script([("Fields", Next()), ("Export", Back()), ("Fields", Back())])
    run(script, Choice.at("Fields", profile))
    assert all(shown.profile is profile for shown in script.shown)


def test_export_from_the_start_screen_goes_back_to_start() -> None:
    profile = signed_in()
    script = Script([("Export", Back())])
    run(script, Choice.at("Export", profile))
    assert script.steps == ["Export"]


def test_publish_connect_heartbeat_follow_export_esc_comes_back_and_done_ends_the_flow() -> None:
    profile = signed_in()
    script = Script(
        [
            ("Fields", Next()),
            ("Export", Next()),
            ("Publish", Back()),
            ("Export", Next()),
            ("Publish", Next()),
            ("Connect", Back()),
            ("Publish", Next()),
            ("Connect", Next()),
            ("Heartbeat", Back()),
            ("Connect", Next()),
            ("Heartbeat", Next()),
        ]
    )
    run(script, Choice.at("Fields", profile))
    assert script.steps == [
        "Fields",
        "Export",
        "Publish",
        "Export",
        "Publish",
        "Connect",
        "Publish",
        "Connect",
        "Heartbeat",
        "Connect",
        "Heartbeat",
    ]
    assert all(shown.profile is profile for shown in script.shown)


def test_done_on_connect_ends_the_flow_at_the_start_screen() -> None:
    script = Script([("Publish", Next()), ("Connect", flow.Done())])
    run(script, flow.Choice.at("Publish", signed_in()))
    assert script.steps == ["Publish", "Connect"]


def test_publish_from_the_start_screen_ends_on_esc_or_goes_on_to_connect_and_heartbeat() -> None:
    script = Script([("Publish", Back())])
    run(script, flow.Choice.at("Publish", signed_in()))
    assert script.steps == ["Publish"]
    script = Script([("Publish", Next()), ("Connect", Next()), ("Heartbeat", Next())])
    run(script, flow.Choice.at("Publish", signed_in()))
    assert script.steps == ["Publish", "Connect", "Heartbeat"]


def test_a_flow_started_mid_way_ends_on_esc_there() -> None:
    draft = Draft.new("acme")
    script = Script([("Consent", consented), ("Tokens", Back()), ("Consent", Back())])
    asyncio.run(flow.run_from(script, draft, "Consent"))
    assert script.replies == []


def test_the_order_names_only_known_steps() -> None:
    names = {short for short, _ in flow.STEPS}
    assert len(names) == len(flow.STEPS)
    assert set(flow.NEXT) | set(flow.NEXT.values()) <= names
    assert set(flow.BACK) | set(flow.BACK.values()) <= names
    assert set(flow.SIGN_IN_STEPS) <= names


@pytest.mark.parametrize("module", ["clmwizard.flow"])
def test_a_whole_flow_runs_without_textual(module: str) -> None:
    """A scripted sign-in in a fresh interpreter loads neither textual nor rich."""
    probe = f"""
import asyncio, sys
import {module} as flow
from clmwizard.store.profile import Profile

class Steps:
    def __init__(self):
        self.seen = []
    async def show(self, shown):
        self.seen.append(shown.step)
        if shown.step == "Consent":
            return flow.Code("c")
        if shown.step == "Discovery":
            return flow.Saved(shown.draft.base_profile())
        if shown.step == "Fields" and "Export" in self.seen:
            return flow.Back()
        if shown.step == "Export":
            return flow.Back()
        return flow.Next()

steps = Steps()
asyncio.run(flow.run(steps, flow.Choice.new("acme")))
print(" ".join(steps.seen))
print(sorted(name for name in sys.modules if name.split(".")[0] in ("textual", "rich")))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    seen, ui = result.stdout.splitlines()
    assert seen == "Key Scopes Consent Tokens Discovery Fields Export Fields"
    assert ui == "[]"


def test_the_first_frame_does_not_load_the_flow(tmp_path: Path) -> None:
    """flow.py and the step screens are imported when a flow starts, not for the start screen."""
    probe = """
import sys
from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore

context = WizardContext(profiles=ProfileStore(sys.argv[1]), open_secrets=MemorySecretStore)
app = ClmWizardApp(context)

async def first_frame(pilot):
    app.exit()

app.run(headless=True, size=(100, 32), auto_pilot=first_frame)
late = ("clmwizard.flow", "clmwizard.screens.key", "clmwizard.screens.tokens", "httpx")
print(sorted(name for name in late if name in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "profiles")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -- the JWT step -------------------------------------------------------------------------------

USER = "5b6c2f4e-1d3a-4c2b-8e9f-0a1b2c3d4e5f"


def with_jwt_user(shown: StepInput) -> Answer:
    """Key → Advanced: a JWT integration user (and an RSA key) filled in."""
    shown.draft.jwt_user_id = USER
    shown.draft.rsa_private_key = "-----BEGIN PRIVATE KEY-----\n…"
    return Next()


def jwt_profile() -> Profile:
    from clmwizard.store.profile import ClmHosts

    profile = signed_in()
    profile.jwt_user_id = USER
    host = "https://apiuatna11.springcm.com"
    profile.clm_hosts = ClmHosts(host, host, host)
    return profile


def test_the_jwt_step_follows_discovery_when_key_names_a_jwt_user() -> None:
    saved = jwt_profile()
    script = Script(
        [
            *signing_in(saved, key=with_jwt_user),
            ("JWT", Next()),
            ("Fields", Back()),
        ]
    )
    run(script, Choice.new("acme"))
    assert script.steps[4:] == ["Discovery", "JWT", "Fields"]
    assert script.shown[5].profile is saved


def test_without_a_jwt_user_discovery_leads_to_fields_and_the_indicator_has_no_jwt() -> None:
    saved = signed_in()
    script = Script(
        [
            *signing_in(saved),
            ("Fields", Back()),
        ]
    )
    run(script, Choice.new("acme"))
    draft = script.shown[0].draft
    assert "JWT" not in [short for short, _ in flow.shown_steps(draft)]
    draft.jwt_user_id = USER
    names = [short for short, _ in flow.shown_steps(draft)]
    assert names.index("JWT") == names.index("Discovery") + 1
    assert names.index("Fields") == names.index("JWT") + 1


def test_esc_on_the_jwt_step_after_sign_in_ends_the_flow_the_profile_kept() -> None:
    script = Script(
        [
            *signing_in(jwt_profile(), key=with_jwt_user),
            ("JWT", Back()),
        ]
    )
    run(script, Choice.new("acme"))
    assert script.steps[-1] == "JWT"


def test_check_jwt_from_the_start_screen_then_fields_or_back_to_start() -> None:
    profile = jwt_profile()
    script = Script([("JWT", Next()), ("Fields", Back())])
    run(script, Choice.at("JWT", profile))
    assert script.shown[0].profile is profile
    assert script.shown[0].draft.jwt_user_id == USER

    not_signed_in = jwt_profile()
    not_signed_in.clm_hosts = None
    script = Script([("JWT", Next())])  # no fields to show yet: back to the start screen
    run(script, Choice.at("JWT", not_signed_in))

    script = Script([("JWT", Back())])
    run(script, Choice.at("JWT", profile))


def test_fix_jwt_goes_to_key_and_back_to_jwt_without_a_new_sign_in() -> None:
    def new_rsa_key(shown: StepInput) -> Answer:
        assert shown.load_secret  # the stored secret key is read again
        shown.draft.rsa_private_key = "-----BEGIN PRIVATE KEY-----\nother"
        return Next()

    profile = jwt_profile()
    script = Script(
        [
            ("JWT", FixJwt()),
            ("Key", new_rsa_key),
            ("JWT", FixJwt()),
            ("Key", Back()),  # esc on Key: the JWT step again, nothing changed
            ("JWT", Next()),
            ("Fields", Back()),
        ]
    )
    run(script, Choice.at("JWT", profile))
    assert script.shown[2].draft.rsa_private_key.endswith("other")
    assert all(s.profile is profile for s in script.shown if s.step != "Key")


def test_fix_jwt_with_another_integration_key_signs_in_again_then_jwt() -> None:
    resaved = jwt_profile()

    def other_key(shown: StepInput) -> Answer:
        shown.draft.integration_key = "9d1c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"
        shown.draft.forget_sign_in()
        return Next()

    script = Script(
        [
            ("JWT", FixJwt()),
            *signing_in(resaved, key=other_key, code="new"),
            ("JWT", Next()),
            ("Fields", Back()),
        ]
    )
    run(script, Choice.at("JWT", jwt_profile()))
    assert script.shown[6].profile is resaved
    assert script.codes() == ["new"]


@dataclass
class KeyringScript(Script):
    """A script whose keyring check answers `ready` (the app asks the keyring and the user)."""

    ready: bool = True
    checks: int = 0

    async def keyring_ready(self) -> bool:
        self.checks += 1
        return self.ready


def test_the_keyring_is_checked_before_the_first_sign_in_step() -> None:
    refused = KeyringScript(replies=[], ready=False)
    run(refused, Choice.new("acme"))  # nothing shown: back on the start screen
    assert refused.checks == 1 and refused.steps == []
    ready = KeyringScript(replies=[("Key", Back())])
    run(ready, Choice.new("acme"))
    assert ready.checks == 1 and ready.steps == ["Key"]
    opened = KeyringScript(replies=[("Fields", Back())], ready=False)
    run(opened, Choice.at("Fields", signed_in()))  # a saved profile's steps need no new secrets
    assert opened.checks == 0


def test_next_and_back_follow_the_two_orders() -> None:
    """Each order's steps lead to the following one; esc leads to the one before, except into
    a check (JWT): esc on Fields after JWT ends the flow."""
    assert flow.STEPS[0] == ("Key", "Integration key")
    assert [step for step, _ in flow.STEPS] == [*flow.SIGN_IN_STEPS, *flow.PROFILE_STEPS]
    assert flow.NEXT["Tokens"] == "Discovery" and "Discovery" not in flow.NEXT
    assert flow.NEXT["JWT"] == "Fields" and flow.NEXT["Publish"] == "Connect"
    assert flow.NEXT["Connect"] == "Heartbeat" and "Heartbeat" not in flow.NEXT
    assert flow.BACK["Publish"] == "Export" and "Fields" not in flow.BACK
    assert flow.BACK["Heartbeat"] == "Connect" and flow.BACK["Connect"] == "Publish"
    assert "Key" not in flow.BACK and "JWT" not in flow.BACK
