"""Copying from the wizard: the real X clipboard (xclip under Xvfb), OSC 52 and manual copy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clmwizard import clipboard
from clmwizard.app import ClmWizardApp
from clmwizard.clipboard import copy_text, paste_text
from clmwizard.context import WizardContext
from clmwizard.screens.dialogs import ManualCopyDialog
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.store.profile import SECRET_KEY, ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.support.pilot import press_until, until, until_workers_done

SECRET = "b7c1d2e3-aaaa-4bbb-8ccc-0123456789ab"
KEY = "3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"


def profile() -> Profile:
    return Profile(
        name="acme",
        environment="demo",
        auth_server="https://account-d.docusign.com",
        clm_auth_server="https://authuat.springcm.com",
        integration_key=KEY,
        scopes=["signature", "spring_read", "spring_write", "extended"],
        redirect_uri="http://127.0.0.1:8765/callback",
        account_id="9a217f4f-d7c0-4a89-9f9c-3e2d6442bd14",
        account_name="Northwind Traders",
        clm_hosts=ClmHosts(
            "https://apiuatna11.springcm.com/",
            "https://apiuploaduatna11.springcm.com/",
            "https://apidownloaduatna11.springcm.com/",
        ),
        refresh_token_expires_at=datetime.now(UTC) + timedelta(days=29),
    )


@pytest.fixture
def context(tmp_path: Path) -> Iterator[WizardContext]:
    secrets = MemorySecretStore()
    secrets.set_many("acme", {SECRET_KEY: SECRET})
    store = ProfileStore(tmp_path / "profiles")
    store.save(profile())
    yield WizardContext(profiles=store, open_secrets=lambda: secrets, clipboard_clear_seconds=1.0)


def clears_done(app: ClmWizardApp, started: int) -> bool:
    """The wizard's own clear has run, and every helper started since `started` has exited."""
    busy = any(w.group == "clipboard" and not w.is_finished for w in app.workers)
    helpers = clipboard._helpers[started:]
    return not app._pending_clears and not busy and all(h.poll() is not None for h in helpers)


async def open_fields(app: ClmWizardApp, pilot: object) -> None:
    app.start_draft(profile())
    await app.push_screen(FieldsScreen(profile()))
    screen = app.screen
    assert isinstance(screen, FieldsScreen)
    await until(pilot, lambda: screen.client_secret == SECRET)  # type: ignore[arg-type]


@pytest.mark.display
async def test_copied_secret_reaches_the_x_clipboard_and_is_cleared(context: WizardContext) -> None:
    copy_text("before")
    app = ClmWizardApp(context)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await open_fields(app, pilot)
        await pilot.press("4")  # Security tab: 4 is the client secret
        await until(pilot, lambda: paste_text() == SECRET, 5)
        # The notice follows the copy (the worker copies, then hands over to the app).
        await until(pilot, lambda: any("clears in 1 s" in n.message for n in app._notifications))
        await until(pilot, lambda: paste_text() != SECRET, 5)
        assert paste_text() == ""


@pytest.mark.display
async def test_clipboard_is_left_alone_when_it_no_longer_holds_the_secret(
    context: WizardContext,
) -> None:
    app = ClmWizardApp(context)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_fields(app, pilot)
        started = len(clipboard._helpers)
        await pilot.press("4")
        await until(pilot, lambda: paste_text() == SECRET, 5)
        copy_text("something the user copied since")
        # Both clearers have had their turn: the wizard's timer and the detached helper.
        await until(pilot, lambda: clears_done(app, started), 5)
        assert len(clipboard._helpers) == started + 1
        assert paste_text() == "something the user copied since"


@pytest.mark.display
async def test_plain_values_are_copied_and_not_cleared(context: WizardContext) -> None:
    app = ClmWizardApp(context)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_fields(app, pilot)
        started = len(clipboard._helpers)
        await pilot.press("3")  # client id
        await until(pilot, lambda: paste_text() == KEY, 5)
        await until_workers_done(pilot, "clipboard")
        # Nothing will clear it: no timer in the wizard, no detached helper started.
        assert not app._pending_clears and len(clipboard._helpers) == started
        assert paste_text() == KEY


@pytest.mark.display
async def test_ctrl_c_in_the_masked_secret_field_copies_nothing(
    context: WizardContext,
) -> None:
    copy_text("unchanged")
    app = ClmWizardApp(context)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        app.start_draft(name="acme2")
        await app.push_screen(KeyScreen())
        secret = app.screen.query_one("#secret-key")
        secret.value = SECRET  # type: ignore[attr-defined]
        secret.focus()
        await pilot.press("ctrl+shift+a", "ctrl+c", "ctrl+x")
        await pilot.pause()
        assert secret.value == SECRET  # type: ignore[attr-defined]
        assert app.clipboard != SECRET
        assert paste_text() == "unchanged"
        assert any("not copied" in n.message for n in app._notifications)


async def test_without_any_clipboard_the_value_is_shown_for_manual_copy(
    context: WizardContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_TTY", "TERM_PROGRAM", "WT_SESSION", "TMUX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "dumb")
    app = ClmWizardApp(context)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_fields(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, ManualCopyDialog), 5)
        assert KEY in str(app.screen.query_one("#manual-value").render())
        await pilot.press("escape")
        assert isinstance(app.screen, FieldsScreen)


async def test_osc52_is_used_when_chosen(
    context: WizardContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLMWIZARD_CLIPBOARD", "osc52")
    app = ClmWizardApp(context)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await open_fields(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: app.clipboard == KEY, 5)
        assert any("OSC 52" in n.message for n in app._notifications)


CONNECTORS = ("general", "upload", "download")


# One test per connector (about 100 key presses each): xdist spreads them over the workers.
@pytest.mark.parametrize("connector", CONNECTORS)
async def test_every_value_of_every_definition_action_is_copied_on_its_own(
    connector: str, context: WizardContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Definition tab opens each action; each of its portal values has its own copy key."""
    from clmwizard.connector.fields import action_definitions
    from clmwizard.screens.dialogs import ActionValuesDialog
    from clmwizard.widgets.copy_table import CopyTable

    monkeypatch.setenv("CLMWIZARD_CLIPBOARD", "osc52")
    app = ClmWizardApp(context)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_fields(app, pilot)
        await pilot.press("ctrl+l")  # one connector → three: the actions of each host
        await pilot.press("tab")  # Security → Definition
        for _ in range(CONNECTORS.index(connector)):
            await pilot.press("right")  # the next connector
        actions = action_definitions(profile(), connector)
        assert len(actions) >= 3
        # Each key is sent as a terminal sends it and waited for only until its effect shows
        # (pilot.press waits for idle: ~0.1 s a key, and this test presses about 300).
        for hotkey, action in zip(CopyTable.HOTKEYS, actions, strict=False):
            await press_until(pilot, hotkey, lambda: isinstance(app.screen, ActionValuesDialog))
            dialog = app.screen
            assert isinstance(dialog, ActionValuesDialog) and dialog.action == action
            values = action.values()
            assert [key for key, _, _ in values][:5] == [
                "summary",
                "description",
                "operation_id",
                "visibility",
                "verb",
            ]
            url = dict((key, value) for key, _, value in values)["url"]
            assert url.startswith("https://api") and "/v2/" in url
            for number, (_, _, value) in enumerate(values, start=1):
                assert value
                app.copy_to_clipboard("")  # so a key that copies nothing cannot pass
                await press_until(pilot, str(number), lambda v=value: app.clipboard == v)  # type: ignore[misc]
            await press_until(pilot, "escape", lambda: isinstance(app.screen, FieldsScreen))


async def test_the_fields_screen_shows_the_profiles_layout_one_connector(
    context: WizardContext,
) -> None:
    """A single-layout profile: one connector, every action in it; l switches to three, saved
    with the profile, and back."""
    from clmwizard.widgets.copy_table import CopyTable

    app = ClmWizardApp(context)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_fields(app, pilot)
        screen = app.screen
        assert isinstance(screen, FieldsScreen)
        selector = str(screen.query_one("#selector").render())
        assert "›clm‹" in selector and "general" not in selector and "upload" not in selector
        layout_line = str(screen.query_one("#layout-line").render())
        assert layout_line.startswith("Layout: one connector (one redirect URL")
        await pilot.press("tab")  # Security → Definition
        await pilot.pause()
        table = screen.query_one("#field-table", CopyTable)
        from clmwizard.connector.operations import OPERATIONS

        assert len(table.items) == len(OPERATIONS)  # every action, upload and download too
        assert "←/→" not in " ".join(str(k.render()) for k in screen.query("FooterKey"))
        await pilot.press("ctrl+l")
        await until(pilot, lambda: context.profiles.load("acme").layout == "three")
        selector = str(screen.query_one("#selector").render())
        assert "›general‹" in selector and "upload" in selector and "download" in selector
        assert len(table.items) < len(OPERATIONS)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: context.profiles.load("acme").layout == "single")
