"""The wizard's JWT parts against the emulator over real sockets: the start-screen line, the JWT
step after Discovery and from the start screen (j), consent needed → approve → check again, a
wrong RSA key beside its field and back to Key; no RSA key material on any rendered screen."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Input, OptionList

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.jwt import JwtScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.start import StartScreen
from clmwizard.store.profile import RSA_PRIVATE_KEY, JwtConsentRecord, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.url_line import UrlLine
from tests.qualities.security.leaks import Needles, files_under, find, kind_of, log_text
from tests.support.demo_tour import complete_demo_sign_in
from tests.support.jwt_profiles import other_rsa_key
from tests.support.pilot import make_app, until

SIZE = (120, 36)
USER = "5b6c2f4e-1d3a-4c2b-8e9f-0a1b2c3d4e5f"
OTHER = "7e8f9a0b-1d3a-4c2b-8e9f-0a1b2c3d4e5f"


def message(app: ClmWizardApp, selector: str) -> str:
    return app.screen.query_one(selector, FieldMessage).text


def start_lines(app: ClmWizardApp) -> dict[str, str]:
    """Each profile's row on the start screen, as plain text."""
    options = app.screen.query_one("#profiles", OptionList)
    lines = {}
    for index in range(options.option_count):
        option = options.get_option_at_index(index)
        prompt = option.prompt
        lines[option.id or ""] = (
            prompt.plain if isinstance(prompt, Text) else Text.from_markup(str(prompt)).plain
        )
    return lines


class Screens:
    """What was rendered, to scan for key material afterwards."""

    def __init__(self) -> None:
        self.shots: dict[str, str] = {}

    def take(self, app: ClmWizardApp, label: str) -> None:
        self.shots[f"{label} ({type(app.screen).__name__})"] = app.export_screenshot()

    def assert_no_pem(self, *pems: str, tokens: Iterable[str] = (), **more: str | bytes) -> None:
        """No RSA key (nor a JWT access token) on a screen, nor in `more` (files, logs)."""
        needles = Needles()
        for index, pem in enumerate(pems):
            needles.add_pem(f"RSA key {index}", pem)
        for index, token in enumerate(tokens):
            needles.add(f"access token {index}", token)
        assert len(needles) > 20
        assert self.shots
        hits = find(needles, {**self.shots, **more})
        assert hits == [], "\n".join(hits)


async def _to_key_with_demo_jwt(pilot, app: ClmWizardApp) -> None:  # type: ignore[no-untyped-def]
    """Start → new profile → Key, then ask for the demo's JWT user and test RSA key."""
    await until(pilot, lambda: isinstance(app.screen, StartScreen))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, KeyScreen))
    await pilot.press("ctrl+t")
    await until(pilot, lambda: "test RSA key" in message(app, "#jwt-message"))


async def _key_to_jwt_step(pilot, app: ClmWizardApp) -> JwtScreen:  # type: ignore[no-untyped-def]
    """From Key with its fields filled in: sign in as the demo user and save, on to JWT."""
    from clmwizard.screens.consent import ConsentScreen
    from clmwizard.screens.tokens import TokensScreen

    app.screen.query_one("#integration-key", Input).focus()
    await pilot.press("enter", "enter")
    await until(pilot, lambda: isinstance(app.screen, ConsentScreen))
    consent = app.screen
    assert isinstance(consent, ConsentScreen)
    await until(pilot, lambda: consent.state == "listening")
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
    await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
    app.screen.query_one("#host-general", Input).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, JwtScreen))
    return app.screen  # type: ignore[return-value]


def _settled(screen: JwtScreen) -> bool:
    return not screen.checking and (screen.result is not None or _shown_error(screen))


def _shown_error(screen: JwtScreen) -> bool:
    return any(m.text.startswith("✗") for m in screen.query(FieldMessage))


async def test_start_screen_says_given_needed_or_not_checked(tmp_path: Path) -> None:
    profiles = ProfileStore(tmp_path / "profiles")
    checked = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def profile(name: str, user: str | None, record: JwtConsentRecord | None) -> Profile:
        made = Profile(
            name, "demo", "https://account-d.docusign.com", "https://authuat.springcm.com",
            "3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f", ["signature"], "http://127.0.0.1:8765/cb",
            jwt_user_id=user, jwt_consent=record,
        )  # fmt: skip
        profiles.save(made)
        return made

    profile("given", USER, JwtConsentRecord("given", USER, checked))
    profile("needed", USER, JwtConsentRecord("needed", USER, checked))
    profile("fresh", USER, None)
    profile("stale", USER, JwtConsentRecord("given", OTHER, checked))
    profile("nojwt", None, None)
    app = make_app(WizardContext(profiles=profiles, open_secrets=MemorySecretStore))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(getattr(app.screen, "listings", None)))
        await pilot.pause()
        lines = start_lines(app)
        assert "✓ JWT: consent given for 5b6c2f4e… (checked 2026-11-30)" in lines["given"]
        assert "! JWT: consent needed — press j" in lines["needed"]
        assert "JWT: not checked yet" in lines["fresh"]
        assert "JWT: not checked yet" in lines["stale"]  # the record is about another user
        assert OTHER not in lines["stale"]
        assert "JWT" not in lines["nojwt"]
        options = app.screen.query_one("#profiles", OptionList)
        options.highlighted = 1 + list(app.screen.listings).index("nojwt")  # type: ignore[attr-defined]
        await pilot.press("j")
        await until(pilot, lambda: "no JWT integration user" in message(app, "#start-message"))
        assert isinstance(app.screen, StartScreen)


async def test_the_jwt_step_after_discovery_gets_a_token(
    demo_context: WizardContext,
    emu: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    app = make_app(demo_context)
    shots = Screens()
    async with app.run_test(size=SIZE) as pilot:
        await _to_key_with_demo_jwt(pilot, app)
        shots.take(app, "key with the demo key")
        screen = await _key_to_jwt_step(pilot, app)
        await until(pilot, lambda: _settled(screen))
        shots.take(app, "jwt given")
        assert message(app, "#jwt-message") == (
            f"✓ JWT Grant works for user {emu.user_id} (token issued)."
        )
        assert not app.screen.query_one("#jwt-consent-panel").display
        indicator = str(app.screen.query_one("#steps").render())
        assert "◉ JWT ─ ○ Fields" in indicator or "◉ JWT Grant ─ ○ Fields" in indicator
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        done = str(app.screen.query_one("#steps").render()).split("◉")[0]
        assert done.count("●") == 6  # Key … Discovery and JWT (named when the line has room)
    profile = demo_context.profiles.load("demo")
    assert profile.jwt_user_id == emu.user_id
    assert profile.jwt_consent is not None and profile.jwt_consent.state == "given"
    assert profile.jwt_consent.user_id == emu.user_id
    assert app.secret_store().get("demo", RSA_PRIVATE_KEY) == emu.jwt_private_key
    assert emu.jwt_private_key not in (demo_context.profiles.path_for("demo")).read_text()
    issued = emu.issued_secrets() - {emu.jwt_private_key}
    access = [t for t in issued if kind_of(t, {5: "access"}) == "access"]
    assert access  # the sign-in's and the JWT Grant's
    shots.assert_no_pem(
        emu.jwt_private_key,
        tokens=access,
        **files_under(tmp_path / "profiles"),
        **log_text(r for r in caplog.records if not r.name.startswith("clmwizard.emulator")),
    )


async def test_consent_needed_then_approve_then_given_and_the_start_line_follows(
    demo_context: WizardContext, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clmwizard.screens.dialogs import ManualCopyDialog

    monkeypatch.setenv("CLMWIZARD_CLIPBOARD", "manual")  # the copy shows the value to copy
    opened: list[str] = []
    demo_context.open_browser = lambda url: opened.append(url) is None
    app = make_app(demo_context)
    shots = Screens()
    async with app.run_test(size=SIZE) as pilot:
        await _to_key_with_demo_jwt(pilot, app)
        screen = await _key_to_jwt_step(pilot, app)
        await until(pilot, lambda: _settled(screen))
        shots.take(app, "jwt needed")
        assert screen.result is not None and screen.result.state == "needed"
        assert "consent needed" in message(app, "#jwt-message")
        url_line = app.screen.query_one("#jwt-consent-url", UrlLine)
        assert url_line.display and "\n" not in str(url_line.query_one(".url").render())
        url = url_line.url
        assert url.startswith(f"{emu.auth_server}/oauth/auth?")
        assert "impersonation" in url
        await pilot.press("o")
        await until(pilot, lambda: opened == [screen.result.consent_url])  # type: ignore[union-attr]
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ManualCopyDialog))
        dialog = app.screen
        assert isinstance(dialog, ManualCopyDialog) and not dialog.secret
        assert dialog.value == opened[0]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("c")  # check again before consenting: still needed
        await until(pilot, lambda: _settled(screen))
        assert screen.result is not None and screen.result.state == "needed"
        await pilot.press("a")  # the demo user accepts on the emulator's consent page
        await until(
            pilot,
            lambda: _settled(screen) and screen.result.state == "given",  # type: ignore[union-attr]
        )
        shots.take(app, "jwt given after consent")
        assert message(app, "#jwt-message").startswith("✓ JWT Grant works for user")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        given = f"✓ JWT: consent given for {emu.user_email} (checked "
        await until(pilot, lambda: given in start_lines(app).get("demo", ""))
        shots.take(app, "start given")

        emu.revoke_jwt_consent()
        await pilot.press("j")  # from the start screen: the JWT step for the highlighted profile
        await until(pilot, lambda: isinstance(app.screen, JwtScreen))
        again = app.screen
        assert isinstance(again, JwtScreen)
        await until(pilot, lambda: _settled(again))
        assert again.result is not None and again.result.state == "needed"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        steps = app.screen.query_one("#steps").render()
        assert isinstance(steps, Text) and steps.cell_len <= 78, steps
        # The current step and its neighbours keep their names; far ones are marks only.
        # Every step to come keeps its name (Heartbeat too); the current one its short name.
        assert "◉ JWT" in steps.plain and steps.plain.endswith("○ Heartbeat"), steps.plain
        shots.take(app, "jwt needed at 80x24")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await until(
            pilot, lambda: "! JWT: consent needed — press j" in start_lines(app).get("demo", "")
        )
        shots.take(app, "start needed")
    assert demo_context.profiles.load("demo").jwt_consent.state == "needed"  # type: ignore[union-attr]
    shots.assert_no_pem(emu.jwt_private_key)


async def test_a_wrong_key_is_shown_beside_the_key_and_fixed_on_the_key_screen(
    demo_context: WizardContext, emu: Emulator, tmp_path: Path
) -> None:
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    wrong = other_rsa_key(pkcs8=False)
    wrong_file = tmp_path / "wrong.pem"
    wrong_file.write_text(wrong)
    app = make_app(demo_context)
    shots = Screens()
    async with app.run_test(size=SIZE) as pilot:
        await _to_key_with_demo_jwt(pilot, app)
        app.screen.query_one("#rsa-key-file", Input).value = str(wrong_file)
        screen = await _key_to_jwt_step(pilot, app)
        await until(pilot, lambda: _settled(screen))
        shots.take(app, "jwt wrong key")
        beside_key = message(app, "#rsa-key-message")
        assert beside_key.startswith("✗ DocuSign refused the JWT assertion")
        assert "wrong key pair is likelier" in beside_key
        assert message(app, "#jwt-message") == ""
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        await pilot.press("ctrl+t")  # the right key this time
        app.screen.query_one("#integration-key", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JwtScreen))  # no new sign-in
        fixed = app.screen
        assert isinstance(fixed, JwtScreen)
        await until(pilot, lambda: _settled(fixed))
        shots.take(app, "jwt fixed")
        assert fixed.result is not None and fixed.result.state == "given", message(
            app, "#rsa-key-message"
        )
        assert message(app, "#rsa-key-message") == ""
    assert app.secret_store().get("demo", RSA_PRIVATE_KEY) == emu.jwt_private_key
    shots.assert_no_pem(emu.jwt_private_key, wrong)


async def test_the_demo_tour_without_jwt_has_no_jwt_step(
    demo_context: WizardContext,
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        await complete_demo_sign_in(pilot, app)
        assert "JWT" not in str(app.screen.query_one("#steps").render())
        await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
        app.screen.query_one("#host-general", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
    assert demo_context.profiles.load("demo").jwt_user_id is None
