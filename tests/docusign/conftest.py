from __future__ import annotations

from collections.abc import Iterator

import pytest

from clmwizard.emulator import Emulator
from tests.support.signin_fixtures import emu, fast_backoff, redirect_uri


@pytest.fixture
def emu2(redirect_uri: str) -> Iterator[Emulator]:
    with Emulator(redirect_uris=[redirect_uri], accounts=2) as emulator:
        yield emulator
