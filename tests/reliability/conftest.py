"""Fixtures of the fault matrix: short client timeouts and backoff, an emulator per cell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clmwizard.docusign import http as docusign_http
from clmwizard.emulator import Emulator
from tests.docusign.helpers import loopback_redirect_uri


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff and Retry-After waits in milliseconds (the drivers build the CLI and the wizard
    with harness.short_client, a client timeout of TIMEOUT)."""
    monkeypatch.setattr(docusign_http, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(docusign_http, "RETRY_AFTER_CAP", 0.05)


@pytest.fixture
def redirect_uri() -> str:
    return loopback_redirect_uri()


@pytest.fixture
def emu(redirect_uri: str) -> Iterator[Emulator]:
    with Emulator(redirect_uris=[redirect_uri]) as emulator:
        yield emulator
