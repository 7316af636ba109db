"""The wizard's Publish step against the emulator's Power Platform over TLS (real sockets)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.powerplatform.redirect import UNKNOWN_LINE
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.publish import PublishScreen
from clmwizard.widgets.field_message import FieldMessage
from tests.support.demo_tour import (
    at_the_environments,
    finish_after_publish,
    on_publish,
    publish,
    screen_text,
    to_export,
)
from tests.support.pilot import (
    make_app,
    until,
    until_workers_done,
)

SIZE = (120, 40)


@pytest.mark.parametrize("layout", ["single", "three"])
async def test_publish_creates_then_updates_without_duplicates(
    publish_context: WizardContext, emu: Emulator, layout: str
) -> None:
    app = make_app(publish_context)
    env = emu.power_platform.default_environment
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app, layout)
        await pilot.press("ctrl+p")
        screen = await publish(pilot, app, emu)
        assert screen.phase == "published"
        want = 1 if layout == "single" else 3
        assert len(emu.power_platform.connectors(env)) == want
        text = screen_text(app)
        assert "Connectors in" in text and "at DocuSign:" in text
        for outcome in screen._published():
            assert outcome.connector_id in text
            assert outcome.redirect_url and outcome.redirect_url in text
        # The emulator's DocuSign knows none of these redirect URLs yet.
        assert "NOT registered" in text
        # Register them, then one key asks DocuSign again.
        demo = publish_context.demo
        assert demo is not None and demo.register_redirect_uri is not None
        if layout == "single":  # registered in DocuSign by hand, then r asks again
            for outcome in screen._published():
                demo.register_redirect_uri(outcome.redirect_url)
            await pilot.press("r")
        else:  # the demo's g registers them on the emulator's key and asks again
            await pilot.press("g")
        await until(pilot, lambda: "NOT registered" not in screen_text(app))
        assert UNKNOWN_LINE in screen_text(app)  # a sign-in page proves nothing
        await finish_after_publish(pilot, app)
        await until_workers_done(pilot, "profiles")
        await pilot.press("p")  # publish again, from the start screen
        screen = await publish(pilot, app, emu)
        assert screen.plan is not None
        assert {item.action for item in screen.plan.connectors} == {"update"}
        assert len(emu.power_platform.connectors(env)) == want  # no duplicates
    profile = publish_context.profiles.load("demo")
    assert len(profile.publications) == 1
    assert len(profile.publications[0].connectors) == want


async def test_adoption_asks_and_no_leaves_it_alone(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    env = emu.power_platform.default_environment
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app)
        await pilot.press("ctrl+p")
        await publish(pilot, app, emu)
        # Forget what was published: the same-named connector must be offered for adoption.
        publish_context.profiles.update("demo", lambda profile: profile.publications.clear())
        await finish_after_publish(pilot, app)
        await until_workers_done(pilot, "profiles")
        await pilot.press("p")
        await publish(pilot, app, emu)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Adopt" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("escape")  # no
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        await until(pilot, lambda: screen.phase == "published")
        assert "left alone" in screen_text(app)
        assert len(emu.power_platform.connectors(env)) == 1


async def test_no_maker_role_is_shown_beside_its_cause(
    publish_context: WizardContext, emu: Emulator
) -> None:
    pp = emu.power_platform
    pp.set_maker(pp.default_environment, False)
    async with on_publish(publish_context) as (app, pilot):
        screen = await at_the_environments(pilot, app)
        await pilot.press("enter")
        env_message = screen.query_one("#env-message", FieldMessage)
        await until(pilot, lambda: "Environment Maker" in env_message.text)
        # beside the environment choice, which stays open for another choice
        assert "403" in env_message.text and "choose another environment above" in env_message.text
        assert "EnvironmentAccess" in env_message.text
        assert screen.phase == "environment"
        assert pp.connectors(pp.default_environment) == []


async def test_keys_answer_while_publishing_with_latency(
    publish_context: WizardContext, emu: Emulator
) -> None:
    async with on_publish(publish_context) as (app, pilot):
        screen = await at_the_environments(pilot, app)
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "planned", timeout=20)
        emu.inject_fault("powerapps", "/providers", latency=0.5, count=100)
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "publishing")
        worst = 0.0
        for _ in range(5):
            started = time.perf_counter()
            await pilot.press("tab")
            await pilot.pause()
            worst = max(worst, time.perf_counter() - started)
            if app.screen is not screen:
                await pilot.press("escape")
        assert screen.phase == "publishing"  # still at it, and keys were answered meanwhile
        assert worst < 0.4, worst
        await until(pilot, lambda: screen.phase == "published", timeout=60)


async def test_a_declined_device_code_is_said_beside_the_sign_in_and_enter_retries(
    publish_context: WizardContext, emu: Emulator, codes_wait: None
) -> None:
    async with on_publish(publish_context) as (app, pilot):
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        await until(pilot, lambda: screen.code is not None)
        code = screen.code
        assert code is not None and code.user_code in screen_text(app)
        emu.power_platform.decline_device_code(code.user_code)
        signin_message = screen.query_one("#signin-message", FieldMessage)
        await until(pilot, lambda: "declined" in signin_message.text, timeout=20)
        assert screen.phase == "signing_in" and screen.signin_failed
        await pilot.press("enter")  # try again: a new code
        await until(pilot, lambda: screen.code is not None and screen.code != code)
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "environment", timeout=20)


# Each of Entra's answers with its own words and its own fix, as the CLI says them.
@pytest.mark.parametrize(
    ("trouble", "words", "fix"),
    [
        ("expired", "The sign-in code expired", "within 15 minutes"),
        ("unknown code", "did not recognise the sign-in code", "newest code"),
        ("public client flows off", "does not allow public client flows", "Allow public client"),
    ],
)
async def test_sign_in_failures_are_said_beside_the_sign_in(
    publish_context: WizardContext,
    emu: Emulator,
    codes_wait: None,
    trouble: str,
    words: str,
    fix: str,
) -> None:
    pp = emu.power_platform
    if trouble == "public client flows off":
        settings = dataclasses.replace(publish_context.microsoft(), client_id=pp.client_id)
        publish_context.microsoft = lambda: settings
    async with on_publish(publish_context) as (app, pilot):
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        if trouble != "public client flows off":
            await until(pilot, lambda: screen.code is not None)
            assert screen.code is not None
            if trouble == "expired":
                emu.advance_clock(901)
            else:
                pp.forget_device_code(screen.code.user_code)
        message = screen.query_one("#signin-message", FieldMessage)
        await until(pilot, lambda: words in message.text, timeout=20)
        assert fix in message.text and screen.signin_failed
        assert pp.connectors(pp.default_environment) == []


async def test_a_revoked_cached_token_is_dropped_and_the_sign_in_asked_once_more(
    publish_context: WizardContext, emu: Emulator, codes_wait: None
) -> None:
    async with on_publish(publish_context) as (app, pilot):
        await publish(pilot, app, emu)
        await finish_after_publish(pilot, app)
        emu.power_platform.revoke_access_tokens()
        await until_workers_done(pilot, "profiles")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        # the cached sign-in is refused (401): a new device code, not an error
        await until(pilot, lambda: screen.code is not None, timeout=20)
        assert "refused the cached sign-in" in screen.query_one("#env-message", FieldMessage).text
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "environment", timeout=20)


async def test_ctrl_c_after_publishing_quits_without_asking(
    publish_context: WizardContext, emu: Emulator
) -> None:
    """Everything is stored once published: ctrl+c must not ask "Quit without saving?"."""
    async with on_publish(publish_context) as (app, pilot):
        screen = await publish(pilot, app, emu)
        assert screen.phase == "published"
        assert not app.has_unsaved_input(), _draft_difference(app)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
    assert app.return_code == 0


def _draft_difference(app: ClmWizardApp) -> str:
    before, now = app._draft_as_shown, app._draft
    if before is None or now is None:
        return f"draft as shown {before!r}, draft {now!r}"
    return ", ".join(
        name for name in vars(now) if getattr(now, name) != getattr(before, name, None)
    )
