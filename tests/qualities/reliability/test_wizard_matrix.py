"""The fault matrix through the wizard (Textual Pilot): every applicable cell of `matrix.CELLS`."""

from __future__ import annotations

import pytest

from clmwizard.emulator import Emulator
from tests.qualities.reliability.cli_driver import CliDriver
from tests.qualities.reliability.harness import check_message, check_stored
from tests.qualities.reliability.matrix import Cell, Outcome, cells_for
from tests.qualities.reliability.wizard_driver import Seen, WizardDriver


def _check(seen: Seen, outcome: Outcome, emu: Emulator) -> None:
    check_message(seen.text, outcome.says)
    assert seen.ok == outcome.ok, seen.text
    assert ("✗" in seen.text) != outcome.ok, seen.text
    assert seen.requests == outcome.requests
    check_stored(outcome.stored, seen.before, seen.after, spare_secret=emu.spare_secret_key)


@pytest.mark.parametrize("cell", cells_for("wizard"), ids=lambda cell: cell.id)
async def test_cell(cell: Cell, emu: Emulator, cli_driver: CliDriver) -> None:
    assert cell.outcome is not None
    driver = WizardDriver(cli_driver)
    seen, again = await driver.run(cell.step, cell.fault, again=cell.outcome.again is not None)
    _check(seen, cell.outcome, emu)
    if cell.outcome.again is not None:
        assert again is not None
        _check(again, cell.outcome.again, emu)
