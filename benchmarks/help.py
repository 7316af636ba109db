"""`clmwizard [COMMAND] --help` wall time, run on demand: `.venv/bin/python benchmarks/help.py`.

Each line is the minimum (and median) of `--runs` starts of the installed console script, output
to a pipe (so argparse would format at 80 columns, the width help_text.py was generated for):
wall time, and CPU time (user + system, steadier than wall time on a loaded machine).
`--columns 120` sets COLUMNS as a terminal of that width would: argparse then answers (the
generated text is exact only at its width). Set PYTHONPATH to another checkout's `src` to measure
that one with the same interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLMWIZARD = str(Path(sys.executable).with_name("clmwizard"))
CASES = (["--help"], ["login", "--help"], ["publish", "--help"], ["doctor", "--help"])


def start(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one start."""
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, CLMWIZARD, *argv], stdout=subprocess.PIPE, env=env)
    assert child.stdout is not None
    child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, argv
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--columns", type=int)
    given = parser.parse_args()
    env = {**os.environ, **({"COLUMNS": str(given.columns)} if given.columns else {})}
    for argv in CASES:
        start(argv, env)  # warm the file cache and .pyc files
        walls, cpus = zip(*(start(argv, env) for _ in range(given.runs)), strict=True)
        name = "clmwizard " + " ".join(argv)
        print(
            f"{name:<26} wall min {min(walls) * 1000:5.1f} ms, median "
            f"{statistics.median(walls) * 1000:5.1f} ms; CPU min {min(cpus) * 1000:5.1f} ms"
        )


if __name__ == "__main__":
    main()
