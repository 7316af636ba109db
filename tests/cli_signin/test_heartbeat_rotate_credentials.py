"""`refresh`, `rotate` and `credentials` on a profile signed in against the emulator."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
import yaml

from clmwizard.cli import main
from clmwizard.commands import credentials as credentials_command
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from clmwizard.store.profiles import ProfileStore
from tests.support.keyrings import MemoryKeyring

DAY = 24 * 3600
SignIn = Callable[..., None]


def stored(keyring: MemoryKeyring, item: str) -> str | None:
    return keyring.items.get(("clmwizard", f"acme/{item}"))


def test_refresh_heartbeat(
    emu: Emulator,
    signed_in: SignIn,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    before = stored(memory_keyring, "refresh_token")
    emu.advance_clock(25 * DAY)
    assert main(["refresh", "--profile", "acme"]) == 0
    out = capsys.readouterr().out
    assert "✓ Refreshed acme: DocuSign issued a new refresh token" in out
    assert "(renewed by every refresh)" in out
    after = stored(memory_keyring, "refresh_token")
    assert after and after != before and after not in out
    assert ProfileStore().load("acme").last_refresh_at is not None

    emu.revoke_consent()
    assert main(["refresh", "--profile", "acme"]) == 3
    err = capsys.readouterr().err
    assert "✗ DocuSign no longer accepts the grant: consent was probably revoked" in err
    assert "clmwizard login --profile acme" in err


def test_refresh_without_extended(
    emu: Emulator, signed_in: SignIn, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in("--scopes", "signature spring_read spring_write")
    assert main(["refresh", "--profile", "acme"]) == 0
    assert "fixed, because the scopes lack `extended`" in capsys.readouterr().out
    emu.advance_clock(31 * DAY)
    assert main(["refresh", "--profile", "acme"]) == 3
    err = capsys.readouterr().err
    assert "✗ The refresh token expired: without `extended` it dies 30 days after consent" in err
    assert '--scopes "signature spring_read spring_write extended"' in err


def test_refresh_of_an_unknown_profile(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh", "--profile", "ghost"]) == 1
    assert "✗ There is no profile named 'ghost'." in capsys.readouterr().err


def test_rotate(
    emu: Emulator,
    signed_in: SignIn,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", "a-wrong-new-secret")
    assert main(["rotate", "--profile", "acme"]) == 2
    err = capsys.readouterr().err
    assert "✗ DocuSign refused the new secret key (secret_refused). Nothing changed" in err
    assert stored(memory_keyring, "secret_key") == emu.secret_key
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)

    monkeypatch.setattr("sys.stdin", io.StringIO(emu.spare_secret_key + "\n"))
    assert main(["rotate", "--profile", "acme", "--secret-key-stdin"]) == 0
    out = capsys.readouterr().out
    assert "✓ The new secret key works" in out
    assert "Security tab → Client secret" in out
    assert "delete the old secret key" in out and emu.spare_secret_key not in out
    assert stored(memory_keyring, "secret_key") == emu.spare_secret_key
    emu.revoke_secret("secret_key")
    assert main(["refresh", "--profile", "acme"]) == 0


def test_credentials_masked_revealed_json_yaml(
    emu: Emulator,
    signed_in: SignIn,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    refresh = stored(memory_keyring, "refresh_token")
    assert refresh
    assert main(["credentials", "--profile", "acme"]) == 0
    out = capsys.readouterr().out
    assert emu.secret_key not in out and refresh not in out
    assert f"Integration key (client id)  {emu.integration_key}" in out
    assert "Secret key (client secret)   ••••••••••••••••" in out
    assert emu.clm_hosts["download"] in out and emu.account_id in out

    assert main(["credentials", "--profile", "acme", "--format", "json", "--reveal"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["secret_key"] == emu.secret_key and data["refresh_token"] == refresh
    assert data["clm_upload"] == emu.clm_hosts["upload"]
    assert list(data) == list(credentials_command.ITEMS)

    assert main(["credentials", "--profile", "acme", "--format", "yaml"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    # Machine formats never carry a mask a script could take for the value.
    assert data["secret_key"] is None and data["refresh_token"] is None
    assert data["masked"] == ["secret_key", "refresh_token"]
    assert data["account_id"] == emu.account_id


def test_credentials_copy(
    emu: Emulator,
    signed_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    copied: list[str] = []
    cleared: list[tuple[str, float]] = []

    def schedule(value: str, after: float) -> int:
        cleared.append((value, after))
        return 1

    monkeypatch.setattr(credentials_command, "copy_text", copied.append)
    monkeypatch.setattr(credentials_command, "schedule_clear_in_background", schedule)
    assert main(["credentials", "--profile", "acme", "--copy", "secret_key"]) == 0
    out = capsys.readouterr().out
    assert copied == [emu.secret_key] and cleared == [(emu.secret_key, 30)]
    assert "Secret key (client secret) copied to the clipboard; it clears in 30 s" in out
    assert emu.secret_key not in out

    assert main(["credentials", "--profile", "acme", "--copy", "clm_general"]) == 0
    assert copied[-1] == emu.clm_hosts["general"] and len(cleared) == 1

    assert main(["credentials", "--profile", "acme", "--copy", "password"]) == 2
    assert "Choose one of: integration_key, secret_key" in capsys.readouterr().err

    def no_clipboard(text: str) -> None:
        raise ClmWizardError("No clipboard is available here.", fix="Install xclip.")

    monkeypatch.setattr(credentials_command, "copy_text", no_clipboard)
    assert main(["credentials", "--profile", "acme", "--copy", "account_id"]) == 1
    assert "✗ No clipboard is available here." in capsys.readouterr().err
