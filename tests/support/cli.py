"""`clmwizard ARGS` run in the test's own process through `cli.main()`: the `cli` fixture of the
command tests (tests/commands/conftest.py) and of any area that imports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from clmwizard.cli import main
from tests.support.powerplatform_fixtures import FAST_POLL


class Ran(NamedTuple):
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str


class Cli:
    """Runs one command line; `secret` and `browser` set CLMWIZARD_SECRET_KEY (each run takes
    it out of the environment) and $BROWSER for that run, as a user's shell would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self._monkeypatch = monkeypatch
        self._capsys = capsys

    def __call__(
        self,
        *argv: str,
        secret: str | None = None,
        browser: str | None = None,
        client_factory: Callable[..., Any] | None = None,  # makes every HTTP client
    ) -> Ran:
        if secret is not None:
            self._monkeypatch.setenv("CLMWIZARD_SECRET_KEY", secret)
        if browser is not None:
            self._monkeypatch.setenv("BROWSER", browser)
        self._capsys.readouterr()  # only what this command prints
        code = main(list(argv), client_factory=client_factory, poll_seconds=FAST_POLL)
        out, err = self._capsys.readouterr()
        return Ran(code, out, err)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`cli("login", "--profile", "acme", secret=…)` → Ran(code, out, err)."""
    return Cli(monkeypatch, capsys)
