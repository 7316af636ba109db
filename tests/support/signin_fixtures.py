"""Fixtures shared by every area that signs in against the emulator: the emulator itself, the
redirect URI it registers, fast retries, and `clmwizard login` for a profile.

Imported by tests/conftest.py: every area gets them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from clmwizard import http as http_layer
from clmwizard.cli import main
from clmwizard.emulator import Emulator
from tests.docusign.helpers import loopback_redirect_uri
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv

BROWSER = f"{sys.executable} -m clmwizard.emulator.browser %s"


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds, not seconds (areas that want it make it autouse)."""
    monkeypatch.setattr(http_layer, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(http_layer, "RETRY_AFTER_CAP", 0.05)


@pytest.fixture
def redirect_uri() -> str:
    return loopback_redirect_uri()


@pytest.fixture
def emu(request: pytest.FixtureRequest, redirect_uri: str) -> Iterator[Emulator]:
    """A fresh DocuSign emulator on ephemeral loopback ports, with `redirect_uri` registered
    (an area whose `redirect_uri` is empty gets only the emulator's defaults); an indirect param
    sets the number of accounts (`@pytest.mark.parametrize("emu", [2], indirect=True)`)."""
    accounts = getattr(request, "param", 1)
    extra = [redirect_uri] if redirect_uri else []
    with Emulator(redirect_uris=extra, accounts=accounts) as emulator:
        yield emulator


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
    """`clmwizard login` for a profile (`acme` unless named) through the browser stand-in."""

    def sign_in(*extra: str, profile: str = "acme") -> None:
        monkeypatch.setenv("BROWSER", BROWSER)
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        assert main(login_args(*extra, profile=profile)) == 0, capsys.readouterr().err
        capsys.readouterr()
        monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)

    return sign_in
