"""`clmwizard refresh` on a profile signed in against the emulator."""

from __future__ import annotations

from collections.abc import Callable

from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from tests.support.cli import Cli
from tests.support.keyrings import MemoryKeyring

DAY = 24 * 3600
REFRESH = ("refresh", "--profile", "acme")


def test_refresh_heartbeat(
    emu: Emulator, signed_in: Callable[..., None], memory_keyring: MemoryKeyring, cli: Cli
) -> None:
    signed_in()
    before = memory_keyring.stored("refresh_token")
    emu.advance_clock(25 * DAY)
    code, out, _ = cli(*REFRESH)
    assert code == 0
    assert "✓ Refreshed acme: DocuSign issued a new refresh token" in out
    assert "(renewed by every refresh)" in out
    # It ends as every command that changes something does: the steps left by hand.
    assert "\nLeft to do by hand:\n  1. Create the connector — this terminal: `clmwizard " in out
    after = memory_keyring.stored("refresh_token")
    assert after and after != before and after not in out
    assert ProfileStore().load("acme").last_refresh_at is not None

    emu.revoke_consent()
    code, _, err = cli(*REFRESH)
    assert code == 3
    assert "✗ DocuSign no longer accepts the grant: consent was probably revoked" in err
    assert "clmwizard login --profile acme" in err


def test_refresh_without_extended(emu: Emulator, signed_in: Callable[..., None], cli: Cli) -> None:
    signed_in("--scopes", "signature spring_read spring_write")
    code, out, _ = cli(*REFRESH)
    assert code == 0
    assert "fixed, because the scopes lack `extended`" in out
    emu.advance_clock(31 * DAY)
    code, _, err = cli(*REFRESH)
    assert code == 3
    assert "✗ The refresh token expired: without `extended` it dies 30 days after consent" in err
    assert '--scopes "signature spring_read spring_write extended"' in err


def test_refresh_of_an_unknown_profile(memory_keyring: MemoryKeyring, cli: Cli) -> None:
    code, _, err = cli("refresh", "--profile", "ghost")
    assert code == 1
    assert "✗ There is no profile named 'ghost'." in err
