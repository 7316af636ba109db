"""Whole wizard flows driven with Pilot against the emulator over real loopback sockets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from textual.widgets import Input, RadioSet

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.screens.consent import ConsentScreen
from clmwizard.screens.dialogs import ConfirmDialog, SecretPrompt
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.scopes import ScopesScreen
from clmwizard.screens.start import StartScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.store.profile import REFRESH_TOKEN, SECRET_KEY
from clmwizard.store.secrets import SecretStore
from clmwizard.widgets.field_message import FieldMessage
from tests.support.demo_tour import complete_demo_sign_in, key_to_consent, to_key_screen
from tests.support.pilot import make_app, tokens_done, until

SIZE = (100, 32)


def message_text(app: object, selector: str) -> str:
    return app.screen.query_one(selector, FieldMessage).text  # type: ignore[attr-defined,no-any-return]


def consent_redirect_location(url: str) -> str:
    """Accept on the emulator's consent page like a browser, but stop before the redirect."""
    with httpx.Client() as client:
        page = client.get(url)
        if page.status_code in (301, 302, 303):
            return page.headers["location"]
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        fields["decision"] = "accept"
        origin = httpx.URL(url).copy_with(path="/oauth/consent", query=None)
        answer = client.post(str(origin), data=fields)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


async def saved_demo(demo_context: WizardContext) -> SecretStore:
    """A first run: the demo signed in and its hosts saved (on to Fields); its secret store."""
    first = make_app(demo_context)
    async with first.run_test(size=SIZE) as pilot:
        await complete_demo_sign_in(pilot, first)
        await until(pilot, lambda: first.screen.query_one("#host-general", Input).value != "")
        first.screen.query_one("#host-general", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(first.screen, FieldsScreen))
    return first.secret_store()


def rerun_of(demo_context: WizardContext, store: SecretStore) -> WizardContext:
    """The wizard started again on the same profiles and secrets, profile demo first."""
    return WizardContext(
        profiles=demo_context.profiles,
        open_secrets=lambda: store,
        initial_profile="demo",
        consent_timeout=30.0,
    )


def listed(app: ClmWizardApp) -> bool:
    return isinstance(app.screen, StartScreen) and bool(app.screen.listings)


async def test_new_profile_to_exported_bundle_in_few_keys(
    demo_context: WizardContext, emu: Emulator, tmp_path: Path
) -> None:
    app = make_app(demo_context)
    presses = 0
    async with app.run_test(size=SIZE) as pilot:

        async def press(*keys: str) -> None:
            nonlocal presses
            presses += len(keys)
            await pilot.press(*keys)

        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, ScopesScreen))
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        screen = app.screen
        assert isinstance(screen, ConsentScreen)
        await until(pilot, lambda: screen.state == "listening")
        await press("a")
        await tokens_done(pilot, app)
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
        await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
        assert app.screen.query_one("#host-upload", Input).value.startswith(emu.clm_hosts["upload"])
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        await press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await press("enter")
        bundle = tmp_path / "demo-connector"
        await until(pilot, lambda: (bundle / "README.md").exists())

    assert presses <= 8, presses  # the README's demo tour: 8 keys from launch to a bundle
    definition = json.loads((bundle / "clm" / "apiDefinition.swagger.json").read_text())
    assert definition["host"] == httpx.URL(emu.clm_hosts["general"]).netloc.decode()
    profile = demo_context.profiles.load("demo")
    assert profile.account_id == emu.account_id
    assert profile.exports and profile.exports[-1].path == str(bundle.resolve())
    store = app.secret_store()
    assert store.get("demo", SECRET_KEY) == emu.secret_key
    assert store.get("demo", REFRESH_TOKEN)
    for path in bundle.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in emu.issued_secrets():
                assert secret.encode() not in data, path


async def test_paste_fallback_completes_sign_in(demo_context: WizardContext) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await to_key_screen(pilot, app)
        screen = await key_to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        assert app.draft.consent is not None
        location = consent_redirect_location(app.draft.consent.url)
        paste = screen.query_one("#paste", Input)
        paste.value = location.replace("state=", "state=x")  # someone else's redirect first
        paste.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "✗" in message_text(app, "#consent-message"), 5)
        assert "state" in message_text(app, "#consent-message").lower()
        assert isinstance(app.screen, ConsentScreen)
        paste.value = location
        await pilot.press("enter")
        await tokens_done(pilot, app)


async def test_wrong_secret_is_explained_and_fixed_without_new_consent(
    demo_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        key_screen = await to_key_screen(pilot, app)
        secret = key_screen.query_one("#secret-key", Input)
        secret.value = "0" * 8 + emu.secret_key[8:]
        secret.focus()
        screen = await key_to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, TokensScreen))
        await until(pilot, lambda: "✗" in message_text(app, "#tokens-message"))
        refused = message_text(app, "#tokens-message")
        assert "most likely the secret key is wrong" in refused
        assert "s ago and was sent once, so it has not expired" in refused  # the listener's time
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
        app.screen.query_one("#secret", Input).value = emu.secret_key
        await pilot.press("enter")
        await tokens_done(pilot, app)
        assert app.draft.secret_key == emu.secret_key


@pytest.mark.parametrize("emu", [2], indirect=True)
async def test_account_choice_when_the_user_has_several(
    demo_context: WizardContext, emu: Emulator
) -> None:
    other = next(a for a in emu.accounts if not a["is_default"])
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await complete_demo_sign_in(pilot, app)
        radio = app.screen.query_one("#account", RadioSet)
        assert radio.pressed_button is not None
        assert radio.pressed_button.name == emu.account_id
        for button in radio.query("RadioButton"):
            if button.name == other["account_id"]:
                button.value = True
        await until(pilot, lambda: app.draft.account.account_id == other["account_id"])
        await until(pilot, lambda: "found" in message_text(app, "#discovery-message"))
        app.screen.query_one("#host-general", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
    assert demo_context.profiles.load("demo").account_id == other["account_id"]


async def test_rerun_rotates_the_secret_and_refreshes(
    demo_context: WizardContext, emu: Emulator
) -> None:
    store = await saved_demo(demo_context)
    old_refresh = store.get("demo", REFRESH_TOKEN)

    app = make_app(rerun_of(demo_context, store))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: listed(app))
        await pilot.press("f")
        await until(pilot, lambda: "refreshed" in message_text(app, "#start-message"))
        assert store.get("demo", REFRESH_TOKEN) != old_refresh
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
        app.screen.query_one("#secret", Input).value = "not-the-secret-" + "9" * 20
        await pilot.press("enter")
        await until(pilot, lambda: "✗" in message_text(app, "#secret-message"))
        assert store.get("demo", SECRET_KEY) == emu.secret_key
        app.screen.query_one("#secret", Input).value = emu.spare_secret_key
        await pilot.press("enter")
        # the checklist follows a proven rotation; esc closes it (k on the start screen reopens)
        await until(pilot, lambda: type(app.screen).__name__ == "RotationChecklist")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await until(pilot, lambda: "proven and stored" in message_text(app, "#start-message"))
    assert store.get("demo", SECRET_KEY) == emu.spare_secret_key


async def test_an_old_profile_asks_once_to_trust_its_server_on_refresh_and_rotate(
    demo_context: WizardContext, emu: Emulator
) -> None:
    """A profile saved before trusted_auth_server existed: f and s ask (naming the server)
    instead of telling the user about --trust-server; a yes is recorded, a no sends nothing."""
    from clmwizard.screens.dialogs import ConfirmDialog
    from clmwizard.store.profile import Profile

    store = await saved_demo(demo_context)
    server = demo_context.profiles.load("demo").auth_server

    def forget_trust(profile: Profile) -> None:
        profile.trusted_auth_server = None

    demo_context.profiles.update("demo", forget_trust)
    old_refresh = store.get("demo", REFRESH_TOKEN)
    app = make_app(rerun_of(demo_context, store))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: listed(app))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert server in app.screen.question
        await pilot.press("n")
        await until(pilot, lambda: "Nothing sent" in message_text(app, "#start-message"))
        assert "--" not in message_text(app, "#start-message")
        assert store.get("demo", REFRESH_TOKEN) == old_refresh
        assert demo_context.profiles.load("demo").trusted_auth_server is None
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, lambda: "refreshed" in message_text(app, "#start-message"))
        assert store.get("demo", REFRESH_TOKEN) != old_refresh
        assert demo_context.profiles.load("demo").trusted_auth_server == server
        await pilot.press("f")  # confirmed once: no second question
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        await until(pilot, lambda: "refreshed" in message_text(app, "#start-message"))

        demo_context.profiles.update("demo", forget_trust)
        app.screen.load_profiles()  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert server in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
        app.screen.query_one("#secret", Input).value = emu.spare_secret_key
        await pilot.press("enter")
        from clmwizard.screens.rotation import RotationChecklist

        await until(pilot, lambda: isinstance(app.screen, RotationChecklist), 20)
        await pilot.press("escape")  # the checklist comes back with k; the message is under it
        await until(pilot, lambda: "proven and stored" in message_text(app, "#start-message"))
    assert store.get("demo", SECRET_KEY) == emu.spare_secret_key
    assert demo_context.profiles.load("demo").trusted_auth_server == server


async def test_quitting_mid_flow_stores_nothing(demo_context: WizardContext, emu: Emulator) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await complete_demo_sign_in(pilot, app)
        await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))  # asks first
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0
    assert demo_context.profiles.list() == []
    assert app.secret_store().get("demo", SECRET_KEY) is None
    assert app.secret_store().get("demo", REFRESH_TOKEN) is None


async def test_decline_is_explained_and_consent_can_start_again(
    demo_context: WizardContext, emu: Emulator
) -> None:
    from dataclasses import replace

    from clmwizard.emulator.browser import follow_consent

    assert demo_context.demo is not None
    demo_context.demo = replace(
        demo_context.demo, approve=lambda url: follow_consent(url, "decline")
    )
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await to_key_screen(pilot, app)
        screen = await key_to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        await pilot.press("a")
        await until(pilot, lambda: screen.state == "failed")
        text = message_text(app, "#consent-error")
        assert "declined" in text.lower()
        await pilot.press("r")
        await until(pilot, lambda: screen.state == "listening")


async def test_consent_timeout_names_the_likely_causes(demo_context: WizardContext) -> None:
    demo_context.consent_timeout = 0.5
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await to_key_screen(pilot, app)
        screen = await key_to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "failed", 5)
        # The likely cause is the redirect URI, so the message sits beside it.
        text = message_text(app, "#redirect-message").lower()
        assert "redirect uri" in text and "environment" in text
