"""`credentials` on a profile signed in against the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import yaml

from clmwizard.cli import main
from clmwizard.commands import credentials as credentials_command
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from tests.support.keyrings import MemoryKeyring

DAY = 24 * 3600


def test_credentials_masked_revealed_json_yaml(
    emu: Emulator,
    signed_in: Callable[..., None],
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    refresh = memory_keyring.stored("refresh_token")
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
    signed_in: Callable[..., None],
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
