"""The Discovery screen: hosts outside DocuSign's CLM domains are flagged in text and saved only
after a yes; plain http off loopback is refused; no save while a host lookup runs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Input

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.docusign.discovery import parse_userinfo
from clmwizard.docusign.oauth import TokenSet
from clmwizard.flow import Answer, Saved
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.store.profile import ClmHosts, Profile
from clmwizard.widgets.field_message import FieldMessage
from tests.support.answers import account_answer
from tests.support.demo_tour import to_consent
from tests.support.pilot import plain_screen, until
from tests.support.snapshot_world import HOSTS, KEY, NOW, SECRET, USERINFO, signed_in

SIZE = (100, 40)
EVIL = ClmHosts("https://clm.evil.example", "https://clm.evil.example", "https://clm.evil.example")


def serve_hosts(world: WizardContext, hosts: ClmHosts, gate: asyncio.Event | None = None) -> None:
    """CLM discovery through an httpx.MockTransport; with `gate`, the lookup waits for it."""

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/account"):
            if gate is not None:
                await gate.wait()
            return account_answer(hosts)
        return httpx.Response(404)

    def client_factory(**options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(answer))

    world.client_factory = client_factory


async def discovered(
    pilot: Pilot[None], app: ClmWizardApp, answers: list[Answer], stored: Profile | None = None
) -> None:
    """A draft for acme (or for `stored`), then Discovery open with the hosts found."""
    if stored is None:
        app.start_draft(name="acme")
    else:
        app.start_draft(stored)
    await open_discovery(pilot, app, answers)
    await until(pilot, lambda: "found" in message(app, "#discovery-message"))


async def open_discovery(pilot: Pilot[None], app: ClmWizardApp, answers: list[Answer]) -> None:
    draft = app.draft
    draft.integration_key, draft.secret_key = KEY, SECRET
    draft.tokens = TokenSet("access-token-fake", "refresh-token-fake", 28800, NOW)
    draft.userinfo = parse_userinfo(USERINFO, "https://account-d.docusign.com")
    await pilot.pause()
    await app.push_screen(DiscoveryScreen(), callback=answers.append)
    await pilot.pause()


def message(app: ClmWizardApp, selector: str) -> str:
    return app.screen.query_one(selector, FieldMessage).text


async def test_a_discovered_host_outside_docusign_is_flagged_and_needs_a_yes(
    world: WizardContext,
) -> None:
    serve_hosts(world, EVIL)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        await discovered(pilot, app, answers)
        text = plain_screen(app)
        assert "! clm.evil.example is outside DocuSign's CLM domains" in text, text
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = plain_screen(app)
        assert "Use clm.evil.example? It is not one of DocuSign's CLM hosts." in text
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.detail.startswith("clm.evil.example is outside DocuSign's CLM domains")
        assert "would send every Power Automate user's DocuSign token there" in dialog.detail
        assert "(CLM: Admin → System Domains)" in dialog.detail
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
        assert "Not saved: clm.evil.example is not confirmed" in message(app, "#hosts-message")
        assert answers == [] and not world.profiles.exists("acme")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, lambda: bool(answers))
    saved = answers[0]
    assert isinstance(saved, Saved)
    assert saved.profile.confirmed_hosts == ["clm.evil.example"]
    assert world.profiles.load("acme").confirmed_hosts == ["clm.evil.example"]


async def test_a_host_confirmed_before_is_not_asked_again(world: WizardContext) -> None:
    serve_hosts(world, EVIL)
    stored = replace(
        signed_in("acme", timedelta(days=29)), clm_hosts=EVIL, confirmed_hosts=["clm.evil.example"]
    )
    world.profiles.save(stored)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        await discovered(pilot, app, answers, stored)
        assert message(app, "#host-general-message").endswith("(confirmed by you)")
        await pilot.press("enter")
        await until(pilot, lambda: bool(answers))
        assert not isinstance(app.screen, ConfirmDialog)
    assert isinstance(answers[0], Saved)
    assert answers[0].profile.confirmed_hosts == ["clm.evil.example"]


async def test_plain_http_off_loopback_is_refused_beside_the_field(world: WizardContext) -> None:
    serve_hosts(world, HOSTS)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        await discovered(pilot, app, answers)
        field = app.screen.query_one("#host-upload", Input)
        field.value = "http://apiuploaduatna11.springcm.com"
        await pilot.pause()
        assert "! apiuploaduatna11.springcm.com is not reached over https" in plain_screen(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "uses plain http" in message(app, "#host-upload-message")
        assert not isinstance(app.screen, ConfirmDialog) and answers == []


async def test_no_save_while_the_lookup_runs(world: WizardContext) -> None:
    """After switching accounts the inputs hold the old hosts until the lookup ends."""
    gate = asyncio.Event()
    serve_hosts(world, HOSTS, gate)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        app.start_draft(name="acme")
        await open_discovery(pilot, app, answers)
        app.screen.query_one("#host-general", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "Still finding" in message(app, "#discovery-message"))
        assert answers == [] and not world.profiles.exists("acme")
        gate.set()
        await until(pilot, lambda: "found" in message(app, "#discovery-message"))
        await pilot.press("enter")
        await until(pilot, lambda: bool(answers))
    assert isinstance(answers[0], Saved)
    assert answers[0].profile.clm_hosts is not None
    assert answers[0].profile.clm_hosts.general == HOSTS.general.rstrip("/")


async def test_the_fields_screen_warns_beside_a_confirmed_host(world: WizardContext) -> None:
    from clmwizard.screens.fields import FieldsScreen

    stored = replace(
        signed_in("acme", timedelta(days=29)),
        clm_hosts=replace(HOSTS, general="https://clm.evil.example"),
        confirmed_hosts=["clm.evil.example"],
    )
    world.profiles.save(stored)
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        app.start_draft(stored)
        await pilot.pause()
        await app.push_screen(FieldsScreen(stored))
        await pilot.pause()
        warning = "! clm.evil.example is outside DocuSign's CLM domains"
        assert warning in plain_screen(app)
        assert message(app, "#host-warning").endswith("(confirmed by you).")
        await pilot.press("ctrl+l")  # three connectors: the warning is the general one's only
        await pilot.pause()
        assert warning in plain_screen(app)
        await pilot.press("right")  # the upload connector: a DocuSign host, no warning
        await pilot.pause()
        assert warning not in plain_screen(app)


async def test_clm_is_asked_once_with_the_new_token_never_at_an_unconfirmed_host(
    world: WizardContext,
) -> None:
    asked: list[httpx.Request] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/account"):
            hosts = HOSTS if "evil" not in str(world.initial_profile) else EVIL
            return account_answer(hosts)
        asked.append(request)
        return httpx.Response(200, json={"Items": [{}, {}, {}], "Total": 12})

    world.client_factory = lambda **options: httpx.AsyncClient(
        transport=httpx.MockTransport(answer)
    )
    for profile in ("trusted", "evil"):
        world.initial_profile = profile
        asked.clear()
        app = ClmWizardApp(world)
        async with app.run_test(size=SIZE) as pilot:
            app.start_draft(name="acme")
            await open_discovery(pilot, app, [])
            await until(pilot, lambda: "found" in message(pilot.app, "#discovery-message"))  # type: ignore[arg-type]
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = message(app, "#clm-message")
            account = app.draft.account
        if profile == "trusted":
            assert account is not None
            assert [r.url.path for r in asked] == [f"/v2/{account.account_id}/attributegroups"]
            assert asked[0].headers["Authorization"] == "Bearer access-token-fake"
            assert shown.startswith("✓ CLM answered: 12 attribute groups")
        else:
            assert asked == [] and shown == ""


async def test_the_clm_answer_against_the_emulator(demo_context: WizardContext) -> None:
    from tests.support.pilot import make_app

    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        await pilot.press("a")
        await until(pilot, lambda: app.screen.__class__.__name__ == "TokensScreen")
        await until(pilot, lambda: getattr(app.screen, "done", False))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
        await until(pilot, lambda: "CLM answered" in message(app, "#clm-message"))
        assert " attribute groups (127.0.0.1:" in message(app, "#clm-message")
