"""A keyring that is absent, discards secrets, is locked or hangs: the command line refuses before
consent (exit 4, naming the backend and --ephemeral); the wizard finds it before its first step
(and, when the keyring fails later, beside the save), offers memory for this run and stays
responsive; the start screen still lists profiles."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked
from textual.widgets import Static

from clmwizard.app import ClmWizardApp
from clmwizard.cli import main
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.errors import EXIT_KEYRING
from clmwizard.screens.dialogs import KeyringDialog
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.keys_help import KeysHelpDialog
from clmwizard.screens.start import StartScreen
from clmwizard.store.profile import SECRET_KEY
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import backend_name, open_secret_store
from clmwizard.widgets.field_message import FieldMessage
from tests.support.cli import Cli, cli
from tests.support.keyrings import FailingAfterKeyring, MemoryKeyring, SlowKeyring
from tests.support.login import login_argv
from tests.support.pilot import SIZE, browser_stand_in, message, sign_in_to_discovery, until
from tests.support.store_fixtures import make_profile


class LockedKeyring(MemoryKeyring):
    """A Secret Service whose collection stays locked: the unlock prompt was dismissed."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


BACKENDS: dict[str, Callable[[], KeyringBackend]] = {
    "absent": fail.Keyring,
    "null": null.Keyring,
    "locked": LockedKeyring,
    "slow": lambda: SlowKeyring(delay=10.0),
}


@pytest.fixture
def use_backend() -> Iterator[Callable[[KeyringBackend], KeyringBackend]]:
    previous = keyring.get_keyring()

    def use(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


# --- the command line ------------------------------------------------------------------------


K = TypeVar("K", bound=KeyringBackend)
__all__ = ["cli"]  # the fixture


@pytest.fixture
def signed_in_on(
    emu: Emulator,
    config_dir: Path,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[K], K]:
    """`clmwizard login` (profile acme, the browser stand-in) with `backend` as the keyring."""

    def sign_in(backend: K) -> K:
        use_backend(backend)
        monkeypatch.setenv("BROWSER", f"{sys.executable} -m clmwizard.emulator.browser %s")
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        assert main(login_argv(emu, profile="acme", timeout=15)) == 0
        capsys.readouterr()
        return backend

    return sign_in


@pytest.mark.parametrize("kind", list(BACKENDS))
def test_login_refuses_before_consent_naming_the_backend_and_the_way_out(
    kind: str,
    emu: Emulator,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = use_backend(BACKENDS[kind]())
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    started = time.monotonic()
    code = main(login_argv(emu))
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == EXIT_KEYRING, err
    assert backend_name(backend) in err
    assert "--ephemeral" in err
    assert "Traceback" not in err
    assert "Open this address" not in out and "/oauth/auth" not in out  # no consent began
    assert emu.request_log == []  # nothing at all was sent to DocuSign
    assert not (config_dir / "profiles" / "acme.yaml").exists()
    assert elapsed < 5.0  # a hanging keyring is given up on (3 s), not waited for


@pytest.mark.parametrize("command", ["refresh", "credentials", "rotate", "fields --reveal"])
def test_other_commands_refuse_an_absent_keyring_with_exit_4(
    command: str,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ProfileStore().save(make_profile("acme"))
    use_backend(fail.Keyring())
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", "c0ffee00-1111-4222-8333-444455556666")
    assert main([*command.split(), "--profile", "acme"]) == EXIT_KEYRING
    err = capsys.readouterr().err
    assert "no keyring (keyring's fail backend)" in err
    assert "--ephemeral" in err


def test_login_with_ephemeral_works_without_any_keyring(
    emu: Emulator,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_backend(fail.Keyring())
    monkeypatch.setenv("BROWSER", f"{sys.executable} -m clmwizard.emulator.browser %s")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert main(["--ephemeral", *login_argv(emu)]) == 0
    out, err = capsys.readouterr()
    assert "memory for this run only" in err
    assert re.search(r"Secrets stored in +memory — this run only", out)
    assert ProfileStore().load("acme").account_id == emu.account_id


# --- the wizard ------------------------------------------------------------------------------


def keyring_context(opened: list[str]) -> WizardContext:
    return WizardContext(
        profiles=ProfileStore(),
        open_secrets=lambda: open_secret_store(timeout=0.5),
        open_browser=browser_stand_in(opened),
        consent_timeout=30.0,
    )


@pytest.mark.parametrize("kind", list(BACKENDS))
async def test_wizard_finds_the_keyring_trouble_before_the_first_step_and_m_keeps_memory(
    kind: str,
    emu: Emulator,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
    config_dir: Path,
) -> None:
    backend = use_backend(BACKENDS[kind]())
    app = ClmWizardApp(keyring_context([]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, KeyringDialog), 5)
        shown = app.screen.query_one("#keyring-error", FieldMessage).text
        assert backend_name(backend) in shown or "did not answer" in shown, shown
        hint = " ".join(str(part.render()) for part in app.screen.query(Static))
        assert "memory for this run only" in hint
        assert emu.request_log == []  # found before anything was sent to DocuSign
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        assert app.secrets_are_ephemeral
        await sign_in_to_discovery(pilot, app, emu)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen), 5)
        assert app.secret_store().get("acme", SECRET_KEY) == emu.secret_key
        assert ProfileStore().load("acme").account_id == emu.account_id
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await until(pilot, lambda: "acme" in app.screen.listings)  # type: ignore[attr-defined]
    if isinstance(backend, MemoryKeyring):
        assert backend.items == {}  # nothing was half-written to the broken keyring


async def test_a_keyring_failing_only_at_the_save_offers_ctrl_e(
    emu: Emulator,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
    config_dir: Path,
) -> None:
    # The check up front writes and deletes one test secret; the save's writes then fail.
    backend = use_backend(FailingAfterKeyring(ok_writes=1))
    app = ClmWizardApp(keyring_context([]))
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_to_discovery(pilot, app, emu)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "✗" in message(app, "#discovery-message"), 5)
        hint = str(app.screen.query_one("#discovery-next", Static).render())
        assert "ctrl+e" in hint and "memory for this run only" in hint
        assert isinstance(app.screen, DiscoveryScreen)
        assert not (config_dir / "profiles" / "acme.yaml").exists()
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen), 5)
        assert app.secrets_are_ephemeral
        assert app.secret_store().get("acme", SECRET_KEY) == emu.secret_key
    assert backend.items == {}


async def test_a_hanging_keyring_never_freezes_the_wizard(
    emu: Emulator, use_backend: Callable[[KeyringBackend], KeyringBackend]
) -> None:
    use_backend(SlowKeyring(delay=10.0))
    context = keyring_context([])
    context.open_secrets = lambda: open_secret_store(timeout=4.0)
    app = ClmWizardApp(context)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.pause()
        pressed_at = time.monotonic()
        await pilot.press("n")  # the check up front hangs in its thread…
        await pilot.press("question_mark")  # …while keys are handled
        await until(pilot, lambda: isinstance(app.screen, KeysHelpDialog), 3)
        # Shown before the keyring gave up (4 s): the wizard did not wait for it.
        assert time.monotonic() - pressed_at < 4.0
        assert not any(isinstance(screen, KeyringDialog) for screen in app.screen_stack)
        await until(pilot, lambda: isinstance(app.screen, KeyringDialog), 12)
        assert "did not answer" in app.screen.query_one("#keyring-error", FieldMessage).text
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        assert app.secrets_are_ephemeral


@pytest.mark.parametrize("kind", ["absent", "null", "slow"])
async def test_the_start_screen_lists_profiles_whatever_the_keyring(
    kind: str,
    use_backend: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    profiles = ProfileStore()
    profiles.save(make_profile("acme"))
    profiles.save(make_profile("contoso"))
    use_backend(BACKENDS[kind]())
    app = ClmWizardApp(keyring_context([]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        screen = app.screen
        assert isinstance(screen, StartScreen)
        await until(pilot, lambda: set(screen.listings) == {"acme", "contoso"}, 3)
        await pilot.press("f")  # refresh needs the keyring: an error, not a hang
        await until(pilot, lambda: "✗" in message(app, "#start-message"), 5)
        assert "acme" in screen.listings


class FreezingKeyring(MemoryKeyring):
    """A keyring that works, then (once `freeze` is set) hangs on every write: the Secret
    Service stuck right after DocuSign answered a refresh."""

    def __init__(self) -> None:
        super().__init__()
        self.freeze = False

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.freeze:
            time.sleep(30)
        super().set_password(service, username, password)


@pytest.mark.parametrize("command", ["refresh", "rotate"])
def test_a_keyring_that_freezes_after_docusign_answered_says_the_token_is_used_up(
    command: str, emu: Emulator, signed_in_on: Callable[[K], K], cli: Cli
) -> None:
    backend = signed_in_on(FreezingKeyring())
    backend.freeze = True
    new_secret = emu.spare_secret_key if command == "rotate" else None
    started = time.monotonic()
    code, _, err = cli(command, "--profile", "acme", secret=new_secret)
    assert code == EXIT_KEYRING
    assert time.monotonic() - started < 15  # the keyring's timeout, not the hang
    assert "did not answer" in err
    assert "the stored refresh token is used up" in err  # before: only "did not answer"
    assert "The grant is lost" in err and "clmwizard login --profile acme" in err
    if command == "rotate":
        assert "rotation's proving refresh" in err and "secret key is unchanged" in err


async def test_the_wizard_refuses_to_delete_a_profile_while_the_keyring_is_unusable(
    use_backend: Callable[[KeyringBackend], KeyringBackend],
) -> None:
    """Like `clmwizard profiles delete`: deleting the file would leave its keyring items."""
    profiles = ProfileStore()
    profiles.save(make_profile("acme"))
    use_backend(fail.Keyring())
    app = ClmWizardApp(keyring_context([]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        screen = app.screen
        assert isinstance(screen, StartScreen)
        await until(pilot, lambda: "acme" in screen.listings, 3)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: "✗" in message(app, "#start-message"), 5)
        assert "keyring" in message(app, "#start-message").lower()
    assert profiles.exists("acme")  # before: "Profile acme deleted", its items left behind


class ReplacedMeanwhileKeyring(MemoryKeyring):
    """Another writer that ignores the grant lock stores `newer` right after this run read the
    refresh token."""

    def __init__(self) -> None:
        super().__init__()
        self.newer: str | None = None

    def get_password(self, service: str, username: str) -> str | None:
        value = super().get_password(service, username)
        if username.endswith("/refresh_token") and self.newer is not None:
            newer, self.newer = self.newer, None
            super().set_password(service, username, newer)
        return value


def test_a_token_replaced_by_a_writer_ignoring_the_lock_is_not_blamed_on_revoked_consent(
    emu: Emulator, signed_in_on: Callable[[K], K], capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    import httpx

    backend = signed_in_on(ReplacedMeanwhileKeyring())
    stored = backend.get_password("clmwizard", "acme/refresh_token")
    basic = base64.b64encode(f"{emu.integration_key}:{emu.secret_key}".encode()).decode()
    answer = httpx.post(  # the other writer's refresh: uses up the stored token
        f"{emu.auth_server}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": stored or ""},
        headers={"Authorization": f"Basic {basic}"},
    ).json()
    backend.newer = answer["refresh_token"]
    capsys.readouterr()
    assert main(["refresh", "--profile", "acme"]) == 3
    err = capsys.readouterr().err
    assert "another program has stored a newer one" in err and "revoked" not in err
    assert main(["refresh", "--profile", "acme"]) == 0  # the grant was alive all along
