"""docs/reliability.md is the matrix the tests run, rendered."""

from __future__ import annotations

from tests.qualities.reliability.matrix import CELLS, FAULTS, STEPS, SURFACES
from tests.qualities.reliability.render import DOC, REGENERATE, render


def test_the_document_is_the_rendered_matrix() -> None:
    assert DOC.exists(), f"docs/reliability.md is missing: run `{REGENERATE}`"
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/reliability.md differs from tests/qualities/reliability/matrix.py: "
        f"run `{REGENERATE}`"
    )


def test_every_step_and_fault_is_decided_for_both_surfaces() -> None:
    decided = {(cell.step, cell.fault, cell.surface) for cell in CELLS}
    assert len(decided) == len(CELLS), "a cell is declared twice"
    for step in STEPS:
        for fault in FAULTS:
            for surface in ("cli", "wizard"):
                assert (step, fault, surface) in decided, (step, fault, surface)
    for cell in CELLS:
        assert cell.surface in SURFACES
        assert (cell.outcome is None) != (not cell.na), cell.id  # an outcome, or a reason


def test_every_failure_names_what_happened() -> None:
    for cell in CELLS:
        if cell.outcome is not None and not cell.outcome.ok:
            assert cell.outcome.says, cell.id
