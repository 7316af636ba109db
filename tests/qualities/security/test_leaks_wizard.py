"""Secret-leak scan of the wizard: a real (non-demo) sign-in with a wrong secret first and an RSA
key, discovery, fields, a copied secret, export, then a rerun that refreshes, rotates and meets a
dead grant. Every secret the emulator issued, the PKCE verifiers and the RSA key are then looked
for in the config folder, the bundle, every screen as rendered, stdout/stderr, the logs and the
arguments and environment of every process (the clipboard clearer included). The SVG
snapshots in tests/screens/__snapshots__ hold the snapshot tests' fixed secrets only where a
reveal was asked."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.screens.dialogs import SecretPrompt
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.start import StartScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.store.profile import RSA_PRIVATE_KEY, SECRET_KEY
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from clmwizard.widgets.copy_table import CopyTable
from tests.qualities.security.leaks import (
    Needles,
    assert_no_hits,
    clearers_seen,
    client_logs,
    debug_logs,
    emulator_needles,
    files_under,
    find,
    process_texts,
    recorded_clearers,
)
from tests.support.pilot import (
    SIZE,
    browser_stand_in,
    consent_in_browser,
    fill_key_screen,
    message,
    until,
)
from tests.support.terminal import PtyProcess

SNAPSHOTS = Path(__file__).parents[2] / "screens" / "__snapshots__"


def fake_rsa_key() -> str:
    body = base64.encodebytes(secrets.token_bytes(1190)).decode().strip()
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


class Screens:
    """Every screen as rendered (SVG text), collected while the flows run."""

    def __init__(self) -> None:
        self.shots: dict[str, str] = {}
        self.revealed: dict[str, str] = {}

    def take(self, app: ClmWizardApp, label: str, *, revealed: bool = False) -> None:
        target = self.revealed if revealed else self.shots
        target[f"screen {len(target)} {label} ({type(app.screen).__name__})"] = (
            app.export_screenshot()
        )


@pytest.mark.display
async def test_wizard_flows_leak_no_secret(
    emu: Emulator,
    config_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    debug_logs(caplog, "httpx", "httpcore", "textual", "asyncio", "keyring")
    monkeypatch.chdir(tmp_path)
    rsa_key = fake_rsa_key()
    rsa_file = tmp_path / "outside" / "jwt.pem"
    rsa_file.parent.mkdir()
    rsa_file.write_text(rsa_key)
    wrong_secret = emu.secret_key[:-6] + "000000"
    store = MemorySecretStore()
    opened: list[str] = []

    browser = browser_stand_in(opened)
    context = WizardContext(
        profiles=ProfileStore(),
        open_secrets=lambda: store,
        open_browser=browser,
        consent_timeout=30.0,
        clipboard_clear_seconds=60.0,
    )
    import clmwizard.clipboard as clipboard

    clearers = recorded_clearers(monkeypatch, clipboard)
    screens = Screens()
    verifiers: list[str] = []

    async def consent(pilot: Pilot[None], app: ClmWizardApp) -> None:
        """From the filled-in Key screen, the default scopes, through consent to Tokens."""

        def listening() -> None:
            assert app.draft.consent is not None and app.draft.consent.code_verifier
            verifiers.append(app.draft.consent.code_verifier)
            screens.take(app, "consent")

        await pilot.press("ctrl+n")
        await consent_in_browser(pilot, app, listening=listening)

    app = ClmWizardApp(context)
    async with app.run_test(size=SIZE) as pilot:
        await fill_key_screen(pilot, app, emu, wrong_secret, rsa_file=rsa_file)
        screens.take(app, "key filled")
        await consent(pilot, app)
        await until(pilot, lambda: "✗" in message(app, "#tokens-message"))
        assert "secret key" in message(app, "#tokens-message").lower()
        screens.take(app, "wrong secret")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
        app.screen.query_one("#secret", Input).value = emu.secret_key
        screens.take(app, "secret prompt")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
        screens.take(app, "tokens")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
        await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
        screens.take(app, "discovery")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        fields = app.screen
        assert isinstance(fields, FieldsScreen)
        await until(pilot, lambda: fields.client_secret is not None)
        table = fields.query_one("#field-table", CopyTable)
        for _ in range(4):
            secret_hotkeys = [
                hotkey
                for hotkey in "123456789"
                if (item := table.item_for_hotkey(hotkey)) is not None and item.secret
            ]
            if secret_hotkeys:
                break
            await pilot.press("tab")
            await pilot.pause()
        screens.take(app, "fields security")
        assert secret_hotkeys, "no copyable secret on the fields screen"
        await pilot.press(secret_hotkeys[0])
        await until(pilot, lambda: bool(app._pending_clears), 10)
        screens.take(app, "secret copied")
        await pilot.press("r")
        await pilot.pause()
        screens.take(app, "fields revealed", revealed=True)
        await pilot.press("r")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.press("ctrl+s")
        bundle = tmp_path / "acme-connector"
        await until(pilot, lambda: (bundle / "README.md").exists())
        await pilot.pause()
        screens.take(app, "exported")
    assert len(clearers) == 1, "quitting with a copied secret hands it to the clearer"
    assert store.get("acme", RSA_PRIVATE_KEY) == rsa_key
    assert store.get("acme", SECRET_KEY) == emu.secret_key

    # The rerun: refresh, a wrong rotation, the real one, then a dead grant.
    rerun = WizardContext(
        profiles=ProfileStore(),
        open_secrets=lambda: store,
        initial_profile="acme",
        open_browser=browser,
        consent_timeout=30.0,
    )
    app = ClmWizardApp(rerun)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen.listings)
        await pilot.press("f")
        await until(pilot, lambda: "refreshed" in message(app, "#start-message"))
        screens.take(app, "refreshed")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
        app.screen.query_one("#secret", Input).value = wrong_secret
        await pilot.press("enter")
        await until(pilot, lambda: "✗" in message(app, "#secret-message"))
        screens.take(app, "rotation refused")
        app.screen.query_one("#secret", Input).value = emu.spare_secret_key
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                type(app.screen).__name__ == "RotationChecklist" and app.screen.profile is not None
            ),  # type: ignore[attr-defined]
        )
        await pilot.pause()
        screens.take(app, "rotation checklist")
        await pilot.press("escape")
        await until(pilot, lambda: "proven and stored" in message(app, "#start-message"))
        emu.revoke_consent()
        await pilot.press("f")
        await until(pilot, lambda: "✗" in message(app, "#start-message"))
        screens.take(app, "dead grant")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))
        await until(pilot, lambda: app.screen.query_one("#secret-key", Input).value != "")
        screens.take(app, "re-consent key")
        await consent(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
        screens.take(app, "re-consented")

    needles = emulator_needles(
        emu,
        pkce_verifier=verifiers,
        typed_secret=[wrong_secret],
    )
    for index, line in enumerate(rsa_key.splitlines()[1:-1:4]):
        needles.forms[f"RSA key line {index}"] = line
    assert len(verifiers) == 2 and len(emu.issued_secrets()) >= 8
    out, err = capfd.readouterr()
    haystacks: dict[str, str | bytes] = {"stdout": out, "stderr": err, **screens.shots}
    haystacks.update(files_under(config_dir, bundle))
    haystacks.update(client_logs(caplog.records))
    haystacks.update({f"consent URL {i}": url for i, url in enumerate(opened)})
    with clearers_seen(clearers) as clearer:
        argv = clearer[f"/proc/{clearers[0]}/cmdline"]
        assert b"--after" in argv and b"--clear-if-hash" not in argv  # the hash goes by stdin
        haystacks.update(clearer)
        haystacks.update(process_texts())
    assert len(screens.shots) >= 14
    assert_no_hits(needles, haystacks)
    # Not blind: the revealed fields screen does show the stored secret key.
    assert any("secret key" in hit for hit in find(needles, screens.revealed))


def test_snapshots_show_a_secret_only_where_a_reveal_was_asked() -> None:
    from tests.screens import test_snapshots

    needles = Needles()
    needles.add("snapshot secret key", test_snapshots.SECRET, test_snapshots.KEY)
    for value in ("access-token-fake", "refresh-token-fake"):
        needles.forms[value] = value
    svgs = files_under(SNAPSHOTS)
    assert len(svgs) >= 15
    hits = {hit.rsplit(" in ", 1)[1] for hit in find(needles, svgs)}
    assert {Path(where).name for where in hits} == {"test_fields[revealed].svg"}


# --- crash reports --------------------------------------------------------------------------

# The real wizard in a real terminal (a pty), with a bug planted in its first screen: a function
# that holds the secret key and a never-registered secret in local variables, then raises.
CRASHING_WIZARD = """
import sys
from clmwizard.app import ClmWizardApp
from clmwizard.commands import wizard
from clmwizard.context import WizardContext
from clmwizard.redact import register_secret
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore

secret_key, planted = sys.argv[1], sys.argv[2]
register_secret(secret_key)

def buggy_default_screen(self):
    typed_secret = secret_key
    unregistered = planted
    raise RuntimeError("a bug in the first screen")

ClmWizardApp.get_default_screen = buggy_default_screen
context = WizardContext(profiles=ProfileStore(), open_secrets=MemorySecretStore)
sys.exit(wizard._run_app(context))
"""


def run_in_pty(argv: list[str], timeout: float = 30.0) -> tuple[int, bytes]:
    """(exit code, everything written to the terminal) of `argv` run in a pseudo-terminal."""
    child = PtyProcess(argv, lines=30)
    return child.finish(timeout), bytes(child.output)


def test_a_wizard_crash_exits_non_zero_and_its_report_shows_no_secret(tmp_path: Path) -> None:
    """Before the fix: Textual's report listed the local variables (the secret key among them)
    and the wizard exited 0."""
    import sys

    secret_key = "5b9f3c1e-8d2a-4f6b-9c7e-1a2b3c4d5e6f"
    planted = "never-registered-" + secrets.token_hex(16)
    code, output = run_in_pty([sys.executable, "-c", CRASHING_WIZARD, secret_key, planted])
    text = output.decode("utf-8", "replace")
    assert code == 1, text[-2000:]
    assert "RuntimeError" in text and "a bug in the first screen" in text, text[-2000:]
    needles = Needles()
    needles.add("secret key", secret_key)
    needles.add("unregistered local", planted)
    hits = find(needles, {"crash report": output})
    assert hits == [], "\n".join(hits)
