"""The fault matrix through the command line: every applicable cell of `matrix.CELLS`."""

from __future__ import annotations

import pytest

from clmwizard.emulator import Emulator
from clmwizard.store.profile import REFRESH_TOKEN
from tests.qualities.reliability.cli_driver import CliDriver, Observed
from tests.qualities.reliability.harness import check_message, check_stored, settle
from tests.qualities.reliability.matrix import Cell, Outcome, cells_for


def _check(observed: Observed, outcome: Outcome, emu: Emulator) -> None:
    check_message(observed.out + observed.err, outcome.says)
    assert observed.exit == outcome.exit, observed.err
    assert observed.requests == outcome.requests
    check_stored(outcome.stored, observed.before, observed.after, spare_secret=emu.spare_secret_key)


@pytest.mark.parametrize("cell", cells_for("cli") + cells_for("core"), ids=lambda cell: cell.id)
def test_cell(cell: Cell, emu: Emulator, cli_driver: CliDriver) -> None:
    assert cell.outcome is not None
    driver = cli_driver
    observed = driver.run(cell.step, cell.fault)
    _check(observed, cell.outcome, emu)
    if cell.outcome.again is not None:
        emu.clear_faults()
        if cell.fault == "latency":
            settle(emu, observed.before.secrets[REFRESH_TOKEN])
        _check(driver.again(cell.step, observed.after), cell.outcome.again, emu)
