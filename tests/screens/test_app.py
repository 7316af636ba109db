"""The app's own keys and checks: the keyring up front, quit with unsaved input, the keys help,
where toasts go. Pilot against the emulator over real loopback sockets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static
from textual.widgets._toast import Toast

from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import follow_consent
from clmwizard.errors import KeyringError
from clmwizard.screens.consent import ConsentScreen
from clmwizard.screens.dialogs import ConfirmDialog, KeyringDialog
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.keys_help import KeysHelpDialog
from clmwizard.screens.start import StartScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.store.profile import REFRESH_TOKEN
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import KeyringSecretStore, SecretStore
from tests.support.demo_tour import complete_demo_sign_in, to_key_screen
from tests.support.keyrings import MemoryKeyring
from tests.support.pilot import make_app, sign_in_to_discovery, until

SIZE = (100, 32)


class RefusingStore:
    """A keyring that opens but refuses every write, as a locked collection does."""

    persistent = True
    description = "a refusing test keyring"

    def get(self, profile: str, item: str) -> str | None:
        return None

    def set_many(self, profile: str, items: Mapping[str, str]) -> None:
        raise KeyringError("The keyring is locked, so clmwizard could not store a secret.")

    def delete(self, profile: str, items: Iterable[str]) -> None:
        return None

    def delete_profile(self, profile: str) -> None:
        return None


def no_keyring() -> SecretStore:
    raise KeyringError(
        "clmwizard will not store secrets in this keyring: no keyring.",
        cause="No keyring service was found, so secrets cannot be stored.",
        fix="Install and start a Secret Service.",
    )


def real_context(
    tmp_path: Path, emulator: Emulator, open_secrets: object, **more: object
) -> WizardContext:
    """A wizard for a real account (no demo), signing in against the emulator."""
    return WizardContext(
        profiles=ProfileStore(tmp_path / "profiles"),
        open_secrets=open_secrets,  # type: ignore[arg-type]
        open_browser=lambda url: bool(follow_consent(url, "accept")),
        consent_timeout=30.0,
        **more,  # type: ignore[arg-type]
    )


async def new_profile(pilot: Pilot[None]) -> None:
    """n on the start screen (once its profile list is in)."""
    await until(pilot, lambda: isinstance(pilot.app.screen, StartScreen))
    await pilot.pause()
    await pilot.press("n")


@pytest.mark.parametrize("open_secrets", [no_keyring, RefusingStore], ids=["missing", "refusing"])
async def test_an_unusable_keyring_is_found_before_the_first_step(
    tmp_path: Path, emu: Emulator, open_secrets: object
) -> None:
    app = make_app(real_context(tmp_path, emu, open_secrets))
    async with app.run_test(size=SIZE) as pilot:
        await new_profile(pilot)
        await until(pilot, lambda: isinstance(app.screen, KeyringDialog))
        shown = str(app.screen.query_one("#keyring-error").render())
        assert "keyring" in shown.lower()
        assert "keep the secrets in memory for this run only" in str(
            app.screen.query(Static).last().render()
        )
        await pilot.press("escape")  # fix it first: back on the start screen, no step shown
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        assert not app.secrets_are_ephemeral
        await pilot.press("n")  # asked again: nothing was decided
        await until(pilot, lambda: isinstance(app.screen, KeyringDialog))
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        assert app.secrets_are_ephemeral


async def test_a_working_keyring_is_proven_without_a_trace_and_asked_nothing(
    tmp_path: Path, emu: Emulator
) -> None:
    backend = MemoryKeyring()
    store = KeyringSecretStore(backend)
    app = make_app(real_context(tmp_path, emu, lambda: store))
    async with app.run_test(size=SIZE) as pilot:
        await new_profile(pilot)
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
    assert backend.items == {}  # the throwaway test secret is gone again
    assert not app.secrets_are_ephemeral


async def _sign_in_for_real(pilot, app, emulator: Emulator, name: str) -> None:  # type: ignore[no-untyped-def]
    """The Key screen of a real (non-demo) sign-in filled in, then on to the Fields step."""
    await until(pilot, lambda: isinstance(app.screen, KeyScreen))
    await sign_in_to_discovery(pilot, app, emulator, name=name)
    await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, FieldsScreen))


def _row_text(app, name: str) -> str:  # type: ignore[no-untyped-def]
    options = app.screen.query_one("#profiles", OptionList)
    option = options.get_option(name)
    return str(option.prompt)


@pytest.mark.parametrize("in_memory", [True, False], ids=["in memory", "in the keyring"])
async def test_a_profile_kept_in_memory_is_marked_on_the_start_screen(
    tmp_path: Path, emu: Emulator, in_memory: bool
) -> None:
    """A profile in the keyring is not marked."""
    store = KeyringSecretStore(MemoryKeyring())
    app = make_app(real_context(tmp_path, emu, no_keyring if in_memory else lambda: store))
    async with app.run_test(size=SIZE) as pilot:
        await new_profile(pilot)
        if in_memory:
            await until(pilot, lambda: isinstance(app.screen, KeyringDialog))
            await pilot.press("m")
        await _sign_in_for_real(pilot, app, emu, "acme")
        assert app.secret_store().get("acme", REFRESH_TOKEN)
        await pilot.press("escape")
        await until(
            pilot, lambda: isinstance(app.screen, StartScreen) and "acme" in app.screen.listings
        )
        await pilot.pause()
        row = _row_text(app, "acme")
    if in_memory:
        assert "secrets in memory only, for this run" in row
        assert "gone when clmwizard exits" in row
    else:
        assert "memory" not in row
        assert store.get("acme", REFRESH_TOKEN)


# -- quit --------------------------------------------------------------------------------------


async def test_quit_with_nothing_typed_quits_at_once(demo_context: WizardContext) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await to_key_screen(pilot, app)  # the demo's own values, nothing typed
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
    assert app.return_code == 0


QUIT_KEYS = ["ctrl+q", "ctrl+c"]  # ctrl+c quits like ctrl+q


@pytest.mark.parametrize("quit_key", QUIT_KEYS)
async def test_quit_on_the_start_screen_quits_at_once(
    demo_context: WizardContext, quit_key: str
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.press(quit_key)
        await pilot.pause()
        assert app.return_code == 0
        assert not isinstance(app.screen, ConfirmDialog)


@pytest.mark.parametrize("quit_key", QUIT_KEYS)
async def test_quit_with_typed_input_asks_once(demo_context: WizardContext, quit_key: str) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        key = await to_key_screen(pilot, app)
        field = key.query_one("#integration-key", Input)
        field.focus()
        await pilot.press("end", "x")
        await pilot.press(quit_key)
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert app.return_code is None
        await pilot.press("n")  # stay: nothing is lost
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        assert field.value.endswith("x")
        if quit_key == "ctrl+c":  # with a selection in the field, ctrl+c is the field's copy key
            field.focus()
            await pilot.press("shift+home")
            await pilot.pause()
            assert not field.selection.is_empty
            await pilot.press("ctrl+c")
            await pilot.pause()
            assert isinstance(app.screen, KeyScreen) and app.return_code is None
            await pilot.press("end")
        await pilot.press(quit_key)
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press(quit_key)  # asked once: a second press quits
        await pilot.pause()
        assert app.return_code == 0


async def test_quit_after_consent_asks_and_then_stores_nothing(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await complete_demo_sign_in(pilot, app)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0
    assert demo_context.profiles.list() == []


# -- keys help ---------------------------------------------------------------------------------


async def test_question_mark_and_f1_list_the_keys_the_footer_hides(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_key_screen(pilot, app)
        field = app.screen.query_one("#integration-key", Input)
        before = field.value
        field.focus()
        await pilot.press("end", "question_mark")  # in a field, ? is a character
        assert field.value == before + "?"
        assert isinstance(app.screen, KeyScreen)
        field.value = before
        await pilot.press("enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        consent = app.screen
        await until(pilot, lambda: consent.state == "listening")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
        footer = app.screen.query_one("Footer")
        in_footer = " ".join(str(key.render()) for key in footer.query("FooterKey"))
        assert "fix secret key" not in in_footer  # `k` is bound, but the footer hides it
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysHelpDialog))
        rows = str(app.screen.query_one("#keys-help-rows", Static).render())
        assert "fix secret key" in rows and "change scopes" in rows and "quit" in rows
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TokensScreen))
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysHelpDialog))
        assert "Tokens" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, TokensScreen))


def footer_text(app) -> str:  # type: ignore[no-untyped-def]
    footer = app.screen.query_one("Footer")
    return " ".join(str(key.render()) for key in footer.query("FooterKey"))


async def test_the_footer_names_one_help_key_everywhere(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        assert "f1 keys" in footer_text(app) and "?" not in footer_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        await pilot.pause()
        # A field has focus (? would be typed there): the footer says the same.
        assert "f1 keys" in footer_text(app) and "?" not in footer_text(app)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysHelpDialog))


# -- toasts ------------------------------------------------------------------------------------


async def test_the_saved_toast_sits_on_the_blank_line_at_80x24(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await complete_demo_sign_in(pilot, app)
        await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        await until(pilot, lambda: bool(app.screen.query(Toast)))
        toast = app.screen.query(Toast).last()
        await until(pilot, lambda: toast.region.height == 1)
        assert "Profile demo saved" in str(toast.render())
        steps = app.screen.query_one("#steps")
        body = app.screen.query_one("#body")
        assert toast.region.height == 1
        assert toast.region.y == steps.region.bottom  # the margin line under the steps
        assert toast.region.y < body.region.y  # above everything the body shows


async def test_keys_help_lists_a_lists_choosing_keys_not_its_paging_keys(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysHelpDialog))
        rows = str(app.screen.query_one("#keys-help-rows", Static).render())
        assert "Select" in rows and "new" in rows and "quit" in rows
        assert "Page" not in rows and "Scroll" not in rows and "Copy selected" not in rows
