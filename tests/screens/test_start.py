"""The start screen: an unknown --profile offered as a new one, messages that do not outlive
their profile, the delete dialog, and demo texts that never speak of a keyring."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from textual.widgets import Input, OptionList, Static

from clmwizard.context import WizardContext
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.start import StartScreen
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from clmwizard.widgets.field_message import FieldMessage
from tests.support.demo_tour import complete_demo_sign_in
from tests.support.pilot import make_app, until
from tests.support.snapshot_world import signed_in

SIZE = (100, 32)


def start_message(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#start-message", FieldMessage).text  # type: ignore[no-any-return]


async def test_an_unknown_profile_name_is_offered_as_a_new_profile(
    demo_context: WizardContext,
) -> None:
    demo_context.initial_profile = "contoso"
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "contoso" in start_message(app))
        assert "no profile named contoso" in start_message(app).lower()
        assert "enter to create it" in start_message(app)
        options = app.screen.query_one("#profiles", OptionList)
        assert options.highlighted == 0
        assert "+ New profile contoso" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        assert app.screen.query_one("#profile-name", Input).value == "contoso"
        assert app.draft.profile_name == "contoso"


async def _signed_in_demo(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """A saved demo profile, back on the start screen."""
    await complete_demo_sign_in(pilot, app)
    await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
    await pilot.press("escape")
    await until(
        pilot, lambda: isinstance(app.screen, StartScreen) and "demo" in app.screen.listings
    )
    await pilot.pause()


async def _refreshed_demo(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """The saved demo profile highlighted on the start screen and refreshed there (f)."""
    await _signed_in_demo(pilot, app)
    app.screen.query_one("#profiles", OptionList).highlighted = 1
    await pilot.press("f")
    await until(pilot, lambda: "refreshed" in start_message(app))


async def test_a_message_about_a_deleted_profile_goes_away(demo_context: WizardContext) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await _refreshed_demo(pilot, app)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        detail = " ".join(str(s.render()) for s in app.screen.query(".dialog-detail"))
        assert "DocuSign grant" in detail and "Profile → Connected Apps" in detail
        assert "connectors" in detail and "Data → Custom connectors" in detail
        assert "keyring" not in detail  # the demo's secrets are held in memory
        await pilot.press("y")
        await until(pilot, lambda: "deleted" in start_message(app))
        await until(pilot, lambda: "demo" not in app.screen.listings)
        assert "refreshed" not in start_message(app)
        assert "Connected Apps" in start_message(app)


async def test_a_flow_started_from_the_start_screen_leaves_no_old_message(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await _refreshed_demo(pilot, app)
        await pilot.press("c")  # re-consent, then back
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        assert start_message(app) == ""


async def test_demo_texts_never_speak_of_the_keyring(demo_context: WizardContext) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await _signed_in_demo(pilot, app)
        app.screen.query_one("#profiles", OptionList).highlighted = 1
        await pilot.press("c")  # re-consent: the stored secret is read back
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        await until(
            pilot, lambda: "stored secret" in app.screen.query_one("#secret-key-message").text
        )
        shown = [str(widget.render()) for widget in app.screen.query(Static)]
        assert "in memory for this run" in app.screen.query_one("#secret-key-message").text
        assert not any("read from the keyring" in text for text in shown), shown


async def test_export_publish_and_rotation_wait_until_the_profile_is_signed_in(
    tmp_path: Path,
) -> None:
    secrets = MemorySecretStore()
    context = WizardContext(
        profiles=ProfileStore(tmp_path / "profiles"), open_secrets=lambda: secrets
    )
    context.profiles.save(replace(signed_in("acme", timedelta(days=29)), clm_hosts=None))
    app = make_app(context)
    not_yet = "acme is not signed in yet: press enter to continue its setup."
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, StartScreen) and "acme" in app.screen.listings
        )
        app.screen.query_one("#profiles", OptionList).highlighted = 1
        for key, said in (
            ("e", not_yet),
            ("s", "finish this profile's setup first"),
            ("p", not_yet),
        ):
            await pilot.press(key)
            await until(pilot, lambda said=said: said in start_message(app))
            assert isinstance(app.screen, StartScreen)
