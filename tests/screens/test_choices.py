"""Choices read as text and `enter` means "next": on every step screen with a list, a focused
list and enter go to the next step and leave the choice as it was; the highlight starts on the
chosen item; a saved profile's environment changes only after a yes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.docusign.discovery import parse_userinfo
from clmwizard.docusign.oauth import TokenSet
from clmwizard.flow import Answer, Choice, Next, Saved
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.scopes import ScopesScreen
from clmwizard.store.profile import SECRET_KEY, Profile
from clmwizard.widgets.toggles import TextCheckbox, TextRadioSet, TextSelectionList
from tests.support.pilot import plain_screen, until
from tests.support.snapshot_world import (
    ACCOUNT,
    KEY,
    NOW,
    OTHER,
    SECRET,
    USERINFO,
    fake_network,
    signed_in,
)

SIZE = (100, 32)


def signed_in_at(environment: str, auth_server: str, clm_auth_server: str, name: str) -> Profile:
    """A profile signed in 29 days ago against `environment`'s servers."""
    return replace(
        signed_in(name, timedelta(days=29)),
        environment=environment,
        auth_server=auth_server,
        clm_auth_server=clm_auth_server,
    )


def production(name: str = "acme") -> Profile:
    return signed_in_at(
        "production", "https://account.docusign.com", "https://auth.springcm.com", name
    )


def custom_server(name: str = "acme") -> Profile:
    """The issue's case: a custom-server profile, whose choice is the last of the list."""
    return signed_in_at("custom", "http://127.0.0.1:47001", "http://127.0.0.1:47002", name)


def with_its_secret(world: WizardContext, profile: Profile) -> Profile:
    """`profile` saved, its secret key in the world's keyring."""
    world.profiles.save(profile)
    world.open_secrets().set_many(profile.name, {SECRET_KEY: SECRET})
    return profile


async def new_key_screen(pilot: Pilot[None], app: ClmWizardApp, answers: list[Answer]) -> None:
    """The Key screen of a new profile acme, its key and secret filled in."""
    draft = app.start_draft(name="acme")
    draft.integration_key, draft.secret_key = KEY, SECRET
    await show(pilot, KeyScreen(), answers)


async def show(pilot: Pilot[None], screen: WizardScreen, answers: list[Answer]) -> None:
    """Push a step screen as the flow would and collect the answer it dismisses with."""
    await pilot.pause()
    await pilot.app.push_screen(screen, callback=answers.append)
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def focus(pilot: Pilot[None], widget: Widget) -> None:
    widget.focus()
    await pilot.pause()
    assert widget.has_focus


def highlighted(radio: TextRadioSet) -> str | None:
    assert radio._selected is not None
    return radio.query("RadioButton")[radio._selected].name


# -- Integration key ----------------------------------------------------------------------


@pytest.mark.parametrize("focused", ["#environment", "#pkce"])
async def test_key_screen_enter_on_a_choice_goes_next(world: WizardContext, focused: str) -> None:
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        await new_key_screen(pilot, app, answers)
        screen = app.screen
        radio = screen.query_one("#environment", TextRadioSet)
        assert highlighted(radio) == "demo"
        await focus(pilot, radio)
        await pilot.press("down")  # the highlight moves to Production; nothing is chosen yet
        assert highlighted(radio) == "production" and radio.chosen_name == "demo"
        text = plain_screen(app)
        assert "(•) Developer account" in text and "( ) Production" in text
        assert "Environment: Developer — account-d.docusign.com" in text
        if focused == "#pkce":
            await focus(pilot, screen.query_one("#pkce", TextCheckbox))
        await pilot.press("enter")
        assert answers == [Next()]
    assert app.draft.environment.name == "demo" and app.draft.use_pkce


async def test_key_screen_space_chooses_and_the_choice_is_echoed(world: WizardContext) -> None:
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        await new_key_screen(pilot, app, answers)
        await focus(pilot, app.screen.query_one("#environment", TextRadioSet))
        await pilot.press("down", "space")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)  # a new profile: nothing to ask
        text = plain_screen(app)
        assert "( ) Developer account" in text and "(•) Production" in text
        assert "Environment: Production — account.docusign.com" in text
        await pilot.press("enter")
        assert answers == [Next()]
    assert app.draft.environment.name == "production"


async def reconsent(pilot: Pilot[None], app: ClmWizardApp, profile: Profile) -> KeyScreen:
    await pilot.pause()
    app.begin(Choice.resume(profile))
    await until(pilot, lambda: isinstance(app.screen, KeyScreen))
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, KeyScreen)
    return screen


@pytest.mark.parametrize(
    ("saved", "words"),
    [
        (production, "Production — account.docusign.com"),
        (custom_server, "custom server — 127.0.0.1:47001"),
    ],
    ids=["production", "custom"],
)
async def test_reconsent_highlight_starts_on_the_saved_environment(
    world: WizardContext, saved: Callable[[], Profile], words: str
) -> None:
    profile = with_its_secret(world, saved())
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        screen = await reconsent(pilot, app, profile)
        radio = screen.query_one("#environment", TextRadioSet)
        name = profile.environment
        assert highlighted(radio) == name and radio.chosen_name == name
        assert f"Environment: {words}" in plain_screen(app)
        await focus(pilot, radio)
        await pilot.press("enter")  # the trap: enter used to choose the first item
        await until(pilot, lambda: isinstance(app.screen, ScopesScreen))
    assert app.draft.environment.name == name
    assert app.draft.environment.auth_server == profile.auth_server


@pytest.mark.parametrize("yes", [True, False], ids=["yes-changes", "no-keeps"])
async def test_changing_a_saved_profiles_environment_asks(world: WizardContext, yes: bool) -> None:
    profile = with_its_secret(world, production())
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        screen = await reconsent(pilot, app, profile)
        radio = screen.query_one("#environment", TextRadioSet)
        await focus(pilot, radio)
        await pilot.press("up", "space")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        question = app.screen.query_one(".dialog-title").render()
        assert "acme" in str(question) and "Production" in str(question)
        await pilot.press("y" if yes else "n")
        await until(pilot, lambda: app.screen is screen)
        chosen = "demo" if yes else "production"
        assert radio.chosen_name == chosen and highlighted(radio) == chosen
        text = plain_screen(app)
        if yes:
            assert "(•) Developer account" in text and "( ) Production" in text
            assert "Environment: Developer — account-d.docusign.com" in text
        else:
            assert "( ) Developer account" in text and "(•) Production" in text
            assert "Environment: Production — account.docusign.com" in text
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ScopesScreen))
    assert app.draft.environment.name == chosen


# -- Scopes ---------------------------------------------------------------------------------


async def test_scopes_enter_on_either_list_goes_next_and_keeps_the_scopes(
    world: WizardContext,
) -> None:
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        for list_id in ("#preset", "#scopes"):
            answers: list[Answer] = []
            app.start_draft(name="acme")
            before = list(app.draft.scopes)
            await show(pilot, ScopesScreen(), answers)
            widget = app.screen.query_one(list_id)
            await focus(pilot, widget)
            await pilot.press("down", "down")
            await pilot.press("enter")
            assert answers == [Next()], list_id
            assert app.draft.scopes == before, list_id


async def test_scopes_read_as_text_custom_is_described_and_the_preset_stays_in_view(
    world: WizardContext,
) -> None:
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.start_draft(name="acme")
        await show(pilot, ScopesScreen(), answers)
        screen = app.screen
        radio = screen.query_one("#preset", TextRadioSet)
        assert radio.has_focus and highlighted(radio) == "clm"
        text = plain_screen(app)
        assert "(•) CLM connector" in text and "( ) eSignature only" in text
        assert "[x] extended" in text and "[ ] impersonation" in text
        assert "Scopes: 4 chosen, extended kept" in text
        footer = text.splitlines()[-1]
        assert "↑↓ move" in footer and "space choose" in footer and "next" in footer

        await pilot.press("up", "space")  # Custom is the last preset
        await pilot.pause()
        text = plain_screen(app)
        assert "(•) Custom" in text and "( ) CLM connector" in text
        assert "Custom: tick the scopes below." in text
        assert "What a Power Automate CLM connector needs" not in text

        scopes = screen.query_one("#scopes", TextSelectionList)
        await focus(pilot, scopes)
        await pilot.press("down", "space")  # untick extended
        await pilot.press(*["down"] * 25)  # to the end of the list
        await pilot.pause()
        text = plain_screen(app)
        assert "Scopes: 3 chosen, extended NOT chosen" in text
        lines = text.splitlines()
        assert any(line.strip() == "Preset" for line in lines[:6]), text
        assert app.draft.scopes == ["signature", "spring_read", "spring_write"]
        await pilot.press("enter")
        assert answers == [Next()]


# -- Discovery: the account ---------------------------------------------------------------


async def test_discovery_account_highlight_and_enter(world: WizardContext) -> None:
    fake_network(world)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        draft = app.start_draft(name="acme")
        draft.integration_key, draft.secret_key = KEY, SECRET
        draft.tokens = TokenSet("access-token-fake", "refresh-token-fake", 28800, NOW)
        draft.userinfo = parse_userinfo(USERINFO, "https://account-d.docusign.com")
        await show(pilot, DiscoveryScreen(), answers)
        radio = app.screen.query_one("#account", TextRadioSet)
        # The default account is listed second: the highlight starts there, not on the first.
        assert radio.chosen_name == ACCOUNT.account_id
        assert highlighted(radio) == ACCOUNT.account_id
        text = plain_screen(app)
        assert f"(•) {ACCOUNT.account_name}" in text and f"( ) {OTHER.account_name}" in text
        assert f"Account: {ACCOUNT.account_name} — {ACCOUNT.account_id}" in text
        await focus(pilot, radio)
        await pilot.press("up")
        assert highlighted(radio) == OTHER.account_id
        await pilot.press("enter")
        await until(pilot, lambda: bool(answers))
    assert isinstance(answers[0], Saved)
    assert answers[0].profile.account_id == ACCOUNT.account_id


async def test_discovery_space_chooses_the_other_account(world: WizardContext) -> None:
    fake_network(world)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        draft = app.start_draft(name="acme")
        draft.tokens = TokenSet("access-token-fake", "refresh-token-fake", 28800, NOW)
        draft.userinfo = parse_userinfo(USERINFO, "https://account-d.docusign.com")
        await show(pilot, DiscoveryScreen(), answers)
        await focus(pilot, app.screen.query_one("#account", TextRadioSet))
        await pilot.press("up", "space")
        await until(pilot, lambda: draft.account is not None and draft.account == OTHER)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = plain_screen(app)
        assert f"( ) {ACCOUNT.account_name}" in text and f"(•) {OTHER.account_name}" in text
        assert f"Account: {OTHER.account_name} — {OTHER.account_id}" in text


# -- Export: the layout ---------------------------------------------------------------------


@pytest.mark.parametrize("choose", [False, True], ids=["enter-keeps", "space-chooses"])
async def test_export_layout_enter_exports_and_space_chooses(
    world: WizardContext, tmp_path: Path, choose: bool
) -> None:
    profile = signed_in("acme", timedelta(days=29))
    world.profiles.save(profile)
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        app.start_draft(profile)
        await show(pilot, ExportScreen(profile), answers)
        radio = app.screen.query_one("#layout", TextRadioSet)
        assert highlighted(radio) == "single"  # one connector by default
        assert "Layout: one connector — one redirect URL to register, one sign-in per user" in (
            plain_screen(app)
        )
        await focus(pilot, radio)
        await pilot.press("down", *(["space"] if choose else []))
        await pilot.pause()
        text = plain_screen(app)
        if choose:
            assert "(•) Three connectors" in text and "( ) One connector" in text
            assert "Layout: three connectors — three redirect URLs to register" in text
        else:
            assert "( ) Three connectors" in text and "(•) One connector" in text
        await pilot.press("enter")
        bundle = tmp_path / "acme-connector"
        await until(pilot, lambda: (bundle / "README.md").exists())
        await app.workers.wait_for_complete()
    assert answers == []  # export stays on its screen
    saved = world.profiles.load("acme")
    assert saved.exports[-1].layout == ("three" if choose else "single")
    assert saved.layout == saved.exports[-1].layout  # the profile's layout: Fields, publish follow
    assert (bundle / "general").is_dir() == choose


# -- Fields: the portal's tab order ---------------------------------------------------------


async def test_fields_tabs_follow_the_portals_order(world: WizardContext) -> None:
    profile = with_its_secret(world, signed_in("acme", timedelta(days=29)))
    app = ClmWizardApp(world)
    answers: list[Answer] = []
    async with app.run_test(size=SIZE) as pilot:
        app.start_draft(profile)
        await show(pilot, FieldsScreen(profile), answers)
        screen = app.screen
        assert isinstance(screen, FieldsScreen)
        text = plain_screen(app)
        selector = next(line for line in text.splitlines() if "Security" in line)
        assert selector.index("General") < selector.index("Security") < selector.index("Definition")
        seen = [screen.tab]
        for _ in range(3):
            await pilot.press("tab")
            seen.append(screen.tab)
        assert seen == ["Security", "Definition", "General", "Security"]
        await pilot.press("shift+tab")
        assert screen.tab == "General"
