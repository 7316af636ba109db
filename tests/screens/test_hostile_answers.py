"""Hostile servers through the wizard: a garbled answer (nested too deeply, a broken gzip body)
is a plain message beside the step, never a crash; a name carrying Textual markup or escape
sequences is shown literally, and clicking it does nothing but choose it."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext, default_client_factory
from clmwizard.docusign.discovery import parse_userinfo
from clmwizard.docusign.oauth import TokenSet
from clmwizard.emulator import Emulator
from clmwizard.flow import Answer
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.publish import PublishScreen
from clmwizard.store.profile import Profile, PublishedConnector
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import TextRadioButton
from tests.support.demo_tour import to_export
from tests.support.pilot import plain_screen, until
from tests.support.records import publish_record
from tests.support.snapshot_world import (
    KEY,
    NOW,
    SECRET,
    USERINFO,
    open_signed_in,
    settle,
    signed_in,
)

SIZE = (120, 40)
CLICK = "[@click=app.screenshot('pwned.svg','{folder}')]Contoso"
ESCAPES = "\x1b]52;c;cHduZWQ=\x07Fabrikam\x1b[2J"


def nested() -> httpx.Response:
    body = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    return httpx.Response(200, content=body, headers={"content-type": "application/json"})


def bad_gzip() -> httpx.Response:
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    return httpx.Response(200, content=b"\x1f\x8b this is no gzip at all", headers=headers)


GARBLED: dict[str, Callable[[], httpx.Response]] = {"nested": nested, "gzip": bad_gzip}


def microsoft_answers(
    context: WizardContext, answer: Callable[[httpx.Request], httpx.Response]
) -> None:
    """The Power Apps and Flow answers (`/providers/…` on the clients made with `ca_bundle`)
    from `answer`; the Microsoft sign-in on those clients and DocuSign's (the emulator's) as
    usual."""
    from clmwizard.http import ssl_context

    class Answering(httpx.AsyncBaseTransport):
        def __init__(self, ca_bundle: str | None) -> None:
            self.real = httpx.AsyncHTTPTransport(verify=ssl_context(ca_bundle))

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/providers/"):
                return answer(request)
            return await self.real.handle_async_request(request)

        async def aclose(self) -> None:
            await self.real.aclose()

    def client_factory(**options: Any) -> httpx.AsyncClient:
        if "ca_bundle" in options:
            return httpx.AsyncClient(transport=Answering(options["ca_bundle"]))
        return default_client_factory(**options)

    context.client_factory = client_factory


async def on_publish(pilot: Pilot[None], app: ClmWizardApp) -> PublishScreen:
    """The demo tour to the written bundle, then Publish with the device code approved."""
    await to_export(pilot, app)
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, PublishScreen))
    screen = app.screen
    assert isinstance(screen, PublishScreen)
    await until(pilot, lambda: screen.code is not None or screen.who is not None)
    if screen.code is not None:
        await pilot.press("a")
    await until(pilot, lambda: screen.who is not None, timeout=20)
    return screen


@pytest.mark.parametrize("garbled", sorted(GARBLED))
async def test_a_garbled_environment_list_is_a_message_beside_the_step(
    publish_context: WizardContext,
    garbled: str,
) -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return GARBLED[garbled]()

    microsoft_answers(publish_context, answer)
    app = ClmWizardApp(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_publish(pilot, app)
        message = screen.query_one("#env-message", FieldMessage)
        # a plain error naming the service and what was wrong: not the expected JSON, or a
        # compressed answer that does not decompress
        await until(pilot, lambda: "The Power Apps API" in message.text, timeout=20)
        assert app.is_running and app.screen is screen
        assert "Traceback" not in message.text
        assert screen.phase == "signing_in" and screen.check_action("next", ()) is True
        tried = len(asked)
        await pilot.press("enter")  # tries again: a cached sign-in, the list asked again
        await until(pilot, lambda: len(asked) > tried, timeout=20)
        # a plain error naming the service and what was wrong: not the expected JSON, or a
        # compressed answer that does not decompress
        await until(pilot, lambda: "The Power Apps API" in message.text, timeout=20)
        assert app.is_running
    assert app.return_code in (None, 0)


async def test_a_hostile_environment_name_is_shown_literally_and_a_click_only_chooses_it(
    publish_context: WizardContext,
    emu: Emulator,
    tmp_path: Path,
) -> None:
    folder = Path.cwd()  # the tmp_path
    name = CLICK.format(folder=".")
    hostile = emu.power_platform.add_environment(name)
    other = emu.power_platform.add_environment(ESCAPES)
    app = ClmWizardApp(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_publish(pilot, app)
        await until(pilot, lambda: screen.phase == "environment", timeout=20)
        text = plain_screen(app)
        assert name in text, text
        assert "␛]52;c;cHduZWQ=␇Fabrikam␛[2J" in text
        assert "\x1b" not in "".join(str(b.label) for b in screen.query(TextRadioButton))
        buttons = {button.name: button for button in screen.query(TextRadioButton)}
        assert other in buttons
        await pilot.click(buttons[hostile])
        await pilot.pause()
        await until(pilot, lambda: screen._chosen_environment() == hostile)
        await pilot.pause(0.3)
        assert not list(folder.glob("pwned*.svg"))
        assert name in plain_screen(app)


async def open_discovery(pilot: Pilot[None], app: ClmWizardApp, userinfo: dict[str, Any]) -> None:
    draft = app.draft
    draft.integration_key, draft.secret_key = KEY, SECRET
    draft.tokens = TokenSet("access-token-fake", "refresh-token-fake", 28800, NOW)
    draft.userinfo = parse_userinfo(userinfo, "https://account-d.docusign.com")
    answers: list[Answer] = []
    await pilot.pause()
    await app.push_screen(DiscoveryScreen(), callback=answers.append)
    await pilot.pause()


@pytest.mark.parametrize("garbled", sorted(GARBLED))
async def test_a_garbled_discovery_answer_is_a_message_beside_the_step(
    world: WizardContext, garbled: str
) -> None:
    world.client_factory = lambda **options: httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: GARBLED[garbled]())
    )
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        app.start_draft(name="acme")
        await open_discovery(pilot, app, USERINFO)
        message = app.screen.query_one("#discovery-message", FieldMessage)
        await until(pilot, lambda: "✗" in message.text)
        assert app.is_running and isinstance(app.screen, DiscoveryScreen)
        assert "Traceback" not in message.text


async def test_hostile_account_names_are_shown_literally_and_a_click_only_chooses(
    world: WizardContext, tmp_path: Path
) -> None:
    hostile = CLICK.format(folder=".")  # "." is the test's folder (the world's cwd)
    userinfo = copy.deepcopy(USERINFO)
    userinfo["accounts"][0]["account_name"] = hostile
    userinfo["accounts"][1]["account_name"] = ESCAPES
    userinfo["name"] = "[b]Alex[/b] \x1b[31mMorgan"
    world.client_factory = lambda **options: httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(404))
    )
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        app.start_draft(name="acme")
        await open_discovery(pilot, app, userinfo)
        text = plain_screen(app)
        assert hostile in text, text
        assert "␛]52;c;cHduZWQ=␇Fabrikam␛[2J" in text
        first = next(iter(app.screen.query(TextRadioButton)))
        await pilot.click(first)
        await pilot.pause(0.3)
        assert first.value
        assert not list(tmp_path.glob("pwned*.svg"))
        assert hostile in plain_screen(app)


def hostile_profile(name: str) -> Profile:
    """A saved profile whose server-given names carry markup and escape sequences."""
    profile = dataclasses.replace(
        signed_in(name, timedelta(days=20)),
        account_name=CLICK.format(folder="."),
        user_name="[b]Alex[/b] \x1b[31mMorgan",
        user_email="[@click=app.quit]alex@example.com",
    )
    profile.publications.append(
        publish_record(
            PublishedConnector("clm", "shared_clm-5f", ESCAPES + CLICK.format(folder="."), "x"),
            environment_id="Default-11111111-2222-3333-4444-555555555555",
            client_id=KEY,
        )
    )
    return profile


async def test_every_screen_shows_hostile_names_literally(world: WizardContext) -> None:
    """Start (the profile list), the rotation checklist and a dialog quoting a name:
    each shows the names as text; clicking them does nothing but choose."""
    from clmwizard.screens.dialogs import ConfirmDialog
    from clmwizard.screens.fields import FieldsScreen
    from clmwizard.screens.rotation import RotationChecklist
    from clmwizard.screens.start import StartScreen

    profile = hostile_profile("acme")
    world.profiles.save(profile)
    shown = CLICK.format(folder=".")
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        assert shown[:20] in plain_screen(app)  # the list cuts the account name at 20
        await pilot.click("#profiles", offset=(30, 1))
        await pilot.pause(0.2)
        checklist = RotationChecklist("acme")
        await app.push_screen(checklist)
        await settle(pilot)
        text = plain_screen(app)
        assert "␛]52;c;cHduZWQ=␇Fabrikam␛[2J" + shown in text, text
        await pilot.click("#checklist", offset=(10, 3))
        await pilot.press("escape")
        await settle(pilot)
        await open_signed_in(pilot, FieldsScreen(profile), profile)
        assert isinstance(app.screen, FieldsScreen)
        dialog = ConfirmDialog(f"Adopt {ESCAPES}{shown}?", f"{profile.user_name} {shown}")
        await app.push_screen(dialog)
        await settle(pilot)
        text = plain_screen(app)
        assert f"Adopt ␛]52;c;cHduZWQ=␇Fabrikam␛[2J{shown}?" in text, text
        assert f"[b]Alex[/b] ␛[31mMorgan {shown}" in text, text
        await pilot.click(".dialog-title", offset=(10, 0))
        await pilot.pause(0.2)
        assert app.is_running
    assert not list(Path.cwd().glob("pwned*.svg"))


@pytest.mark.parametrize("garbled", sorted(GARBLED))
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/userinfo"])
async def test_a_garbled_token_or_userinfo_answer_is_a_message_with_a_way_out(
    world: WizardContext, garbled: str, path: str
) -> None:
    from clmwizard.docusign.consent import ConsentRequest
    from clmwizard.screens.tokens import TokensScreen

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            return GARBLED[garbled]()
        tokens = {"access_token": "access-token-fake", "refresh_token": "refresh-token-fake"}
        return httpx.Response(200, json={**tokens, "expires_in": 28800})

    world.client_factory = lambda **options: httpx.AsyncClient(
        transport=httpx.MockTransport(answer)
    )
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        draft = app.start_draft(name="acme")
        draft.integration_key, draft.secret_key = KEY, SECRET
        draft.consent = ConsentRequest("https://example.invalid", "state", None, "http://x/cb")
        await app.push_screen(TokensScreen("code-fake"))
        message = app.screen.query_one("#tokens-message", FieldMessage)
        await until(pilot, lambda: message.text.startswith("✗"))
        assert app.is_running and isinstance(app.screen, TokensScreen)
        assert "Traceback" not in message.text
        assert "esc back to consent" in plain_screen(app)
