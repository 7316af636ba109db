"""`clmwizard refresh` on a profile signed in against the emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
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
    # It ends as every command that changes something does: the steps left by hand.
    assert "\nLeft to do by hand:\n  1. Create the connector — this terminal: `clmwizard " in out
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
