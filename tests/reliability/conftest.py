"""Fixtures of the fault matrix: short client timeouts and backoff, an emulator per cell."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import httpx
import pytest

from clmwizard.commands import login as login_command
from clmwizard.docusign import http as docusign_http
from clmwizard.docusign import session as docusign_session
from clmwizard.emulator import Emulator
from tests.docusign.helpers import loopback_redirect_uri
from tests.reliability.harness import TIMEOUT


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff and Retry-After waits in milliseconds, and a client timeout of TIMEOUT."""
    monkeypatch.setattr(docusign_http, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(docusign_http, "RETRY_AFTER_CAP", 0.05)
    original = docusign_http.make_client

    @functools.wraps(original)
    def short(*, timeout: float = TIMEOUT) -> httpx.AsyncClient:
        return original(timeout=min(timeout, TIMEOUT))

    # The modules that bound the factory at import time, and the one the screens import late.
    for module in (docusign_http, login_command, docusign_session):
        monkeypatch.setattr(module, "make_client", short)


@pytest.fixture
def redirect_uri() -> str:
    return loopback_redirect_uri()


@pytest.fixture
def emu(redirect_uri: str) -> Iterator[Emulator]:
    with Emulator(redirect_uris=[redirect_uri]) as emulator:
        yield emulator
