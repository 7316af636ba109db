"""`clmwizard rotate` after `publish`: the new secret reaches every published connector (with the
cached Microsoft sign-in, silently) before the old one is declared removable; without a sign-in
the steps per connector; `doctor` names the stored Microsoft sign-in."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.store.profile import MS_TOKEN_CACHE
from clmwizard.store.secrets import open_secret_store
from tests.support.cli import Cli
from tests.support.keyrings import MemoryKeyring
from tests.support.powerplatform_fixtures import DeviceCodeSignIns

Argv = Callable[..., list[str]]


def secrets_in_connectors(emu: Emulator) -> list[str]:
    pp = emu.power_platform
    return [c["clientSecrets"]["token"] for c in pp.connectors(pp.default_environment)]


def test_rotate_updates_every_connector_then_says_until_when_to_keep_the_old(
    microsoft: Emulator, approver: DeviceCodeSignIns, acme_publish: Argv, cli: Cli
) -> None:
    assert cli(*acme_publish("--layout", "three")).code == 0
    assert secrets_in_connectors(microsoft) == [microsoft.secret_key] * 3
    code, out, _ = cli("rotate", "--profile", "acme", secret=microsoft.spare_secret_key)
    assert code == 0
    assert secrets_in_connectors(microsoft) == [microsoft.spare_secret_key] * 3
    assert out.count("now has the new secret key") == 3
    assert out.index("now has the new secret key") < out.index("delete the old secret key")
    # a connection may use the old secret's access token for 8 hours: keep it until a run after
    flat = " ".join(out.split())
    assert "Keep the old secret key at DocuSign until a heartbeat run after" in flat
    assert "No heartbeat runs through them: `clmwizard heartbeat --profile acme`" in flat
    assert len(approver) == 1  # the publish sign-in, reused silently
    assert microsoft.spare_secret_key not in out


def test_without_a_microsoft_sign_in_rotate_gives_the_steps_and_keeps_the_old(
    microsoft: Emulator, acme_publish: Argv, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    assert cli(*acme_publish()).code == 0
    open_secret_store().delete("acme", [MS_TOKEN_CACHE])  # the sign-in is gone
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal to sign in on
    code, out, _ = cli("rotate", "--profile", "acme", secret=microsoft.spare_secret_key)
    assert code == 1
    assert "still have the OLD secret key" in out
    assert "Data → Custom connectors" in out and "paconn update" in out
    assert "Keep the old secret key in DocuSign" in out
    assert "delete the old secret key" not in out
    assert secrets_in_connectors(microsoft) == [microsoft.secret_key]
    # Signing in again and rerunning rotate with the same secret finishes the job.
    code, out, _ = cli(*acme_publish("--dry-run"))
    assert code == 0
    assert "Carrying an older secret key (an unfinished rotation)" in out
    code, out, _ = cli("rotate", "--profile", "acme", secret=microsoft.spare_secret_key)
    assert code == 0
    assert "already stored" in out and "delete the old secret key" in out
    assert secrets_in_connectors(microsoft) == [microsoft.spare_secret_key]


DAY = 24 * 3600


def test_rotate(
    emu: Emulator,
    signed_in: Callable[..., None],
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", "a-wrong-new-secret")
    assert main(["rotate", "--profile", "acme"]) == 2
    err = capsys.readouterr().err
    assert "✗ DocuSign refused the new secret key (secret_refused). Nothing changed" in err
    assert memory_keyring.stored("secret_key") == emu.secret_key
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)

    monkeypatch.setattr("sys.stdin", io.StringIO(emu.spare_secret_key + "\n"))
    assert main(["rotate", "--profile", "acme", "--secret-key-stdin"]) == 0
    out = capsys.readouterr().out
    assert "✓ The new secret key works" in out
    assert "Security tab → Client secret" in out
    assert "delete the old secret key" in out and emu.spare_secret_key not in out
    assert memory_keyring.stored("secret_key") == emu.spare_secret_key
    emu.revoke_secret("secret_key")
    assert main(["refresh", "--profile", "acme"]) == 0
