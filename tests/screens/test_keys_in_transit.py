"""Keys typed while one screen gives way to the next reach the next screen's first field:
none is lost, and none lands on the screen in between (the start screen, whose letters act)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from textual import events
from textual.widgets import Input

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from tests.support.pilot import type_burst, until
from tests.support.snapshot_world import settle, signed_in

SIZE = (100, 32)


def press_now(app: ClmWizardApp, key: str, character: str | None = None) -> None:
    """One key sent as a terminal sends it, without waiting for the app to act on it."""
    event = events.Key(key, character)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


async def soon(condition: Callable[[], object]) -> None:
    """Yield to the event loop (no more) until `condition()` holds: the screen change has just
    begun, the next screen is not shown yet."""
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the screen change never began")


async def test_a_name_typed_as_the_key_screen_opens_lands_in_its_first_field(
    world: WizardContext,
) -> None:
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        type_burst(pilot, "n")  # a new profile: the flow starts, the Key screen is on its way
        await soon(lambda: app._flow is not None)
        assert not isinstance(app.screen, KeyScreen)  # typed before it is there
        type_burst(pilot, "acme")  # "e" and "c" are start-screen keys (export, re-consent)
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        field = app.screen.query_one("#profile-name", Input)
        await until(pilot, lambda: field.value == "acme")
        assert app.focused is field


async def test_keys_typed_as_fields_gives_way_to_export_reach_its_folder(
    world: WizardContext,
) -> None:
    profile = signed_in("acme", timedelta(days=29))
    world.profiles.save(profile)
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the signed-in profile: its Fields
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        await settle(pilot)
        fields = app.screen
        press_now(app, "enter", "\r")  # on to Export
        await soon(lambda: fields not in app.screen_stack)
        assert not isinstance(app.screen, ExportScreen)
        type_burst(pilot, "2d")  # "d" on the start screen would ask to delete the profile
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        folder = app.screen.query_one("#out-dir", Input)
        await until(pilot, lambda: folder.value.endswith("2d"))
        assert app.focused is folder
        assert world.profiles.exists("acme")


async def test_keys_still_queued_when_the_screen_is_shown_keep_their_order(
    world: WizardContext,
) -> None:
    """On a busy machine the app may not have read every key typed during a screen change when
    the next screen is shown: those still queued must not overtake the ones already held."""
    app = ClmWizardApp(world)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        field = app.screen.query_one("#profile-name", Input)
        await until(pilot, lambda: app.focused is field)
        app.hold_keys()  # a screen change begins
        type_burst(pilot, "ac")
        await until(pilot, lambda: len(app._held_keys or ()) == 2)  # read and held
        for char in "me":  # typed too, not read yet when the next screen is shown
            app.post_message(events.Key(char, char))
        app.release_keys()
        await until(pilot, lambda: len(field.value) == 4)
        assert field.value == "acme"
