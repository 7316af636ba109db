from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv
from tests.support.signin_fixtures import emu, fast_backoff, redirect_uri

BROWSER = f"{sys.executable} -m clmwizard.emulator.browser %s"


@pytest.fixture
def login_args(emu: Emulator, redirect_uri: str) -> Callable[..., list[str]]:
    def build(*extra: str, profile: str = "acme") -> list[str]:
        return login_argv(emu, *extra, profile=profile, redirect_uri=redirect_uri)

    return build


@pytest.fixture
def signed_in(
    emu: Emulator,
    login_args: Callable[..., list[str]],
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., None]:
    """Sign profile `acme` in through the browser stand-in."""

    def sign_in(*extra: str) -> None:
        monkeypatch.setenv("BROWSER", BROWSER)
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        assert main(login_args(*extra)) == 0, capsys.readouterr().err
        capsys.readouterr()
        monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)

    return sign_in
