"""The wizard's Connect, Heartbeat and rotation steps when the platform says no, against the
emulator over real sockets: a rotated-away connector secret, a revoked DocuSign grant, no Premium
licence (the emulator's switch; Microsoft's answer is unconfirmed, U), a 403 from the Flow API and
a rotation the heartbeat cannot prove. Each ends on its step with its own plain message and the
next key; nothing made so far is lost, and the key retries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.screens.connect import ConnectScreen
from clmwizard.screens.heartbeat import HeartbeatScreen
from tests.support.demo_tour import (
    SIZE,
    connect,
    connector_secrets,
    heartbeat,
    rotate_with_demo_spare,
    screen_text,
    to_connect,
)
from tests.support.pilot import make_app, message, until

HOURS_9 = 9 * 3600


def flows_path(emu: Emulator) -> str:
    env = emu.power_platform.default_environment
    return f"/providers/Microsoft.ProcessSimple/environments/{env}/flows"


def runs(emu: Emulator) -> int:
    return sum(len(flow.get("runs", [])) for flow in emu.power_platform.flows())


async def connected(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> ConnectScreen:
    screen = await to_connect(pilot, app, emu, "single")
    await connect(pilot, app, screen)
    return screen


async def beating(pilot: Pilot[None], app: ClmWizardApp, emu: Emulator) -> HeartbeatScreen:
    """Connected, and the heartbeat's first run succeeded."""
    await connected(pilot, app, emu)
    beat = await heartbeat(pilot, app)
    assert beat.succeeded
    return beat


async def test_a_rotated_away_connector_secret_fails_the_sign_in_and_r_tries_again(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app, emu, "single")
        await until(pilot, lambda: screen.phase == "waiting", timeout=20)
        emu.revoke_secret("secret_key")  # deleted at DocuSign; the connector still carries it
        await pilot.press("a")
        await until(pilot, lambda: screen.phase == "failed", timeout=20)
        said = message(app, "#connect-message")
        assert "refused the client secret" in said, said
        assert "rotated away" in said
        # the wizard's way, in keys: rotate from the start screen, then try again here
        assert "f finishes here" in said and "s rotates the secret key" in said, said
        assert "clmwizard" not in said, said
        assert "press r" in said.lower()
        assert len(emu.power_platform.connections()) == 1
        await pilot.press("r")  # the same connection, a new sign-in link
        await until(pilot, lambda: screen.phase == "waiting", timeout=20)
        assert screen.link is not None and screen.link in screen_text(app)
        assert len(emu.power_platform.connections()) == 1


async def test_a_revoked_grant_fails_the_run_and_esc_connect_signs_in_again(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        beat = await beating(pilot, app, emu)
        emu.revoke_consent()  # the user revoked the app at DocuSign
        emu.advance_clock(HOURS_9)  # the connection's access token ran out: it must refresh
        await pilot.press("r")
        await until(pilot, lambda: beat.phase == "done" and not beat.succeeded, timeout=30)
        text = screen_text(app)
        assert "✗ Test run failed" in text and "DocuSign refused the connection's sign-in" in text
        said = message(app, "#heartbeat-message")
        assert "Esc goes back to Connect" in said and "signs in again" in said, said
        assert "clmwizard" not in text.split("✗ Test run", 1)[1], text
        assert len(emu.power_platform.flows()) == 1
        await pilot.press("escape")  # Connect: the same connection, a new sign-in
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        again = app.screen
        assert isinstance(again, ConnectScreen)
        await connect(pilot, app, again)
        assert "the profile's connection" in screen_text(app)
        assert len(emu.power_platform.connections()) == 1
        beat = await heartbeat(pilot, app)
        assert beat.succeeded, screen_text(app)
        assert "updated (the same flow as before)" in screen_text(app)
        assert len(emu.power_platform.flows()) == 1


def no_premium_licence(emu: Emulator) -> Callable[[], None]:
    emu.power_platform.set_platform(premium_licence=False)  # U: the answer is unconfirmed
    return lambda: emu.power_platform.set_platform(premium_licence=True)  # the admin's licence


def flow_api_403(emu: Emulator) -> Callable[[], None]:
    emu.inject_fault("flow", flows_path(emu), status=403)  # one answer: then the role is given
    return lambda: None


@pytest.mark.parametrize(
    ("refuse", "words"),
    [
        (no_premium_licence, ("needs a Premium licence", "Power Automate Premium")),
        (flow_api_403, ("The Flow API refused to create the heartbeat flow", "Environment Maker")),
    ],
    ids=["no-premium-licence", "flow-api-403"],
)
async def test_a_refused_heartbeat_flow_is_named_and_r_tries_again(
    publish_context: WizardContext,
    emu: Emulator,
    refuse: Callable[[Emulator], Callable[[], None]],
    words: tuple[str, str],
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot, app, emu)
        fixed = refuse(emu)
        beat = await heartbeat(pilot, app)
        assert beat.phase == "failed"
        said = message(app, "#heartbeat-message")
        assert all(word in said for word in words), said
        assert "run the command again" not in said and "press r" in said.lower(), said
        assert emu.power_platform.flows() == []
        fixed()
        await pilot.press("r")
        await until(pilot, lambda: beat.phase == "done", timeout=30)
        assert beat.succeeded, screen_text(app)
        assert len(emu.power_platform.flows()) == 1


async def test_a_rotation_the_heartbeat_cannot_prove_keeps_the_old_secret_and_u_proves_again(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        await beating(pilot, app, emu)
        await pilot.press("enter")
        # CLM fails the heartbeat's call, every retry included: the run proves nothing
        emu.inject_fault("general", f"/v2/{emu.account_id}/attributegroups", status=503, count=50)
        before = runs(emu)
        checklist = await rotate_with_demo_spare(pilot, app)
        await until(pilot, lambda: "through the new secret failed" in screen_text(app), timeout=40)
        said = message(app, "#checklist-message")
        assert "keep the OLD secret key" in said and "503" in said, said
        assert "u updates and proves again" in said, said
        assert "Now delete the OLD secret" not in screen_text(app)
        assert connector_secrets(emu) == [emu.spare_secret_key]  # the update itself is kept
        assert runs(emu) == before + 1
        emu.clear_faults()  # CLM answers again
        await pilot.press("u")
        await until(pilot, lambda: "heartbeat ran through them" in screen_text(app), 40)
        said = message(app, "#checklist-message")
        assert "CLM answered" in said and "Keep the old secret key" in said, said  # 8 h yet
        assert runs(emu) == before + 2
        assert app.screen is checklist
