"""The wizard's Connect and Heartbeat steps after Publish, against the emulator's Power Platform
over real sockets: the demo user approves the device code and follows the consent link (the
emulator's browser stand-in), the heartbeat's test run reads CLM through the connector."""

from __future__ import annotations

import re
import threading

import pytest
from rich.text import Text
from textual.widgets import OptionList

from clmwizard.app import ClmWizardApp, closing_text
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import follow_consent_link
from clmwizard.screens.connect import ConnectScreen
from clmwizard.screens.heartbeat import HeartbeatScreen
from clmwizard.screens.start import StartScreen
from tests.support.demo_tour import connect, heartbeat, publish, screen_text, to_connect, to_export
from tests.support.pilot import make_app, message, until

SIZE = (120, 40)


def profile_line(app: ClmWizardApp) -> str:
    options = app.screen.query_one("#profiles", OptionList)
    for index in range(options.option_count):
        option = options.get_option_at_index(index)
        if option.id == "demo":
            return Text.from_markup(str(option.prompt)).plain
    return ""


@pytest.mark.parametrize("layout", ["single", "three"])
async def test_publish_connect_heartbeat_then_a_second_run_reuses_everything(
    publish_context: WizardContext, emu: Emulator, layout: str
) -> None:
    app = make_app(publish_context)
    pp = emu.power_platform
    want = 1 if layout == "single" else 3
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app, emu, layout)
        # One device-code sign-in: Connect signs in silently with what Publish cached.
        assert pp.pending_device_codes() == []
        await connect(pilot, app, screen)
        text = screen_text(app)
        assert text.count("Connected") >= want
        assert "Signed in to Microsoft" in text and "the sign-in Publish made" in text
        statuses = [c for c in pp.connections()]
        assert len(statuses) == want
        # The exit summary: each redirect URL proven by its sign-in, no pre-sign-in verdict left.
        summary = closing_text(app) or ""
        assert summary.count("DocuSign: ✓ proven: the connection's DocuSign sign-in") == want
        assert "could not tell before sign-in" not in summary
        assert "Register this redirect URL" not in summary, summary
        beat = await heartbeat(pilot, app)
        assert beat.succeeded, screen_text(app)
        summary = closing_text(app) or ""
        assert "DocuSign: ✓ proven: the heartbeat run signed in to DocuSign through it" in summary
        text = screen_text(app)
        assert "Test run succeeded" in text
        assert re.search(r"CLM answered \d+ attribute groups?\.", text), text
        assert "keeps alive: the connection to" in text
        if layout == "three":
            assert "not kept alive:" in text  # upload and download: what to do for them
        else:
            assert "not kept alive:" not in text
        assert len(pp.flows()) == 1
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))

        # The start screen: the last known health (from the profile, no network) with its age;
        # h asks Power Automate again (the cached sign-in), with a clock while it asks.
        await until(pilot, lambda: "heartbeat run succeeded" in profile_line(app))
        line = profile_line(app)
        assert re.search(r"✓ heartbeat run succeeded: \d+ attribute groups? just now", line)
        assert "checked" not in line
        await pilot.press("h")
        await until(pilot, lambda: "checked just now" in profile_line(app), timeout=20)
        assert "heartbeat run succeeded" in profile_line(app)
        assert "demo: heartbeat run succeeded" in message(app, "#start-message")

        # Second run from the start screen: publish updates, connect reuses, heartbeat updates.
        await pilot.pause(0.3)
        await pilot.press("p")
        again = await publish(pilot, app, emu)
        assert again.phase == "published"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        second = app.screen
        assert isinstance(second, ConnectScreen)
        await until(pilot, lambda: second.phase == "done", timeout=20)
        assert "the profile's connection" in screen_text(app)
        assert len(pp.connections()) == want
        beat = await heartbeat(pilot, app)
        assert beat.succeeded
        assert "updated (the same flow as before)" in screen_text(app)
        assert len(pp.flows()) == 1


async def test_an_unregistered_redirect_url_stops_with_the_url_then_carries_on(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app, emu, "single", register=False)
        await until(pilot, lambda: screen.phase == "blocked", timeout=20)
        url = screen.redirect_url
        assert url is not None
        text = screen_text(app)
        assert url in text and "Redirect URIs" in text
        assert "refuses the redirect URL" in text and "press r to check again" in text
        connections = len(emu.power_platform.connections())
        assert connections == 1  # made before the check; r reuses it
        emu.register_redirect_uri(url)  # as the user would at DocuSign
        await pilot.press("r")
        await connect(pilot, app, screen)
        assert "the profile's connection" in screen_text(app)
        assert len(emu.power_platform.connections()) == 1


async def test_a_declined_consent_says_so_and_r_tries_again(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app, emu, "single")
        await until(pilot, lambda: screen.phase == "waiting", timeout=20)
        link = screen.link
        assert link is not None
        emu.revoke_consent()  # else DocuSign skips its consent page (already consented)
        ca = emu.power_platform.ca_cert
        threading.Thread(
            target=follow_consent_link, args=(link, "decline"), kwargs={"ca_cert": ca}
        ).start()
        await until(pilot, lambda: screen.phase == "failed", timeout=20)
        text = screen_text(app)
        assert "was declined" in text and "Press r and choose Accept" in text
        await pilot.press("r")
        await connect(pilot, app, screen)
        assert len(emu.power_platform.connections()) == 1


async def test_the_demo_tour_ends_with_a_succeeded_heartbeat_in_nine_keys_after_export(
    publish_context: WizardContext, emu: Emulator, codes_wait: None
) -> None:
    """The README's tour after the bundle, key for key (the part up to Export: test_flows)."""
    from clmwizard.screens.publish import PublishScreen

    app = make_app(publish_context)
    keys: list[str] = []

    async def press(key: str) -> None:
        keys.append(key)
        await pilot.press(key)

    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app)
        await press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, PublishScreen))
        publish_screen = app.screen
        assert isinstance(publish_screen, PublishScreen)
        await until(pilot, lambda: publish_screen.code is not None)
        await press("a")
        await until(pilot, lambda: publish_screen.phase == "environment", timeout=20)
        await press("enter")
        await until(pilot, lambda: publish_screen.phase == "planned", timeout=20)
        await press("enter")
        await until(pilot, lambda: publish_screen.phase == "published", timeout=30)
        await press("g")
        await until(pilot, lambda: "NOT registered" not in screen_text(app))
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        connect_screen = app.screen
        assert isinstance(connect_screen, ConnectScreen)
        await until(pilot, lambda: connect_screen.phase == "waiting", timeout=20)
        await press("a")
        await until(pilot, lambda: connect_screen.phase == "done", timeout=20)
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, HeartbeatScreen))
        beat = app.screen
        assert isinstance(beat, HeartbeatScreen)
        await until(pilot, lambda: beat.phase == "done", timeout=30)
        assert beat.succeeded
        assert f"Test run succeeded: CLM answered {beat.result}." in screen_text(app)
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
    assert len(keys) == 9, keys  # the README: nine keys after the bundle, seventeen in all


async def test_rotation_runs_the_heartbeat_and_keeps_the_old_secret_for_8_hours(
    publish_context: WizardContext, emu: Emulator
) -> None:
    from tests.support.demo_tour import connector_secrets, rotate_with_demo_spare

    app = make_app(publish_context)
    pp = emu.power_platform
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app, emu, "single")
        await connect(pilot, app, screen)
        beat = await heartbeat(pilot, app)
        assert beat.succeeded
        await pilot.press("enter")
        # The platform refreshes a connection's grant only when its access token ran out (8 h,
        # the emulator's default): the run right after the rotation uses the old secret's token
        # and proves nothing about the new one, so the old one stays.
        runs_before = sum(len(flow.get("runs", [])) for flow in pp.flows())
        await rotate_with_demo_spare(pilot, app)
        await until(pilot, lambda: "heartbeat ran through them" in screen_text(app), timeout=40)
        flat = " ".join(screen_text(app).split())
        assert re.search(r"CLM answered \d+ attribute groups?\. Keep the old secret key", flat)
        assert re.search(
            r"until a heartbeat run after \d{4}-\d\d-\d\d \d\d:\d\d \S+ succeeds", flat
        )
        assert "Now delete the OLD secret" not in flat
        (listing,) = publish_context.profiles.list()
        assert listing.profile is not None
        (record,) = listing.profile.publications
        assert record.secret_rotated_at is not None and record.rotation_proven_at is None
        # the wizard's own Microsoft sign-in (Connect) is what the CLI reuses next time
        signed = listing.profile.microsoft_user
        assert signed is not None
        assert signed.client_id == publish_context.microsoft().client_id
        assert connector_secrets(emu) == [emu.spare_secret_key]
        assert sum(len(flow.get("runs", [])) for flow in pp.flows()) == runs_before + 1
