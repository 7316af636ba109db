"""Benchmarks, run on demand (never in the test suite): `.venv/bin/python benchmarks/run.py`.

Prints medians and the ratio to a baseline for:
- time to the first frame of the wizard vs a bare Textual app started the same way (target ≤ 1.2×)
- peak RSS of both (target ≤ 1.3×)
- `clmwizard --help` vs `python -c pass` (target ≤ 2.5×)
- key-press latency while a 2 s emulator call is pending (target < 100 ms)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CLMWIZARD = str(Path(PYTHON).with_name("clmwizard"))


def run_child(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{argv} exited {child.returncode}")
    return elapsed, usage.ru_maxrss


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    run_child(argv)  # warm the file cache and .pyc files
    samples = [run_child(argv) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def report(name: str, value: float, baseline: float, unit: str, target: float) -> None:
    ratio = value / baseline
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(
        f"{name:<34} {value:9.1f} {unit} vs {baseline:9.1f} {unit}  ratio {ratio:4.2f}× "
        f"(target ≤ {target}×) {verdict}"
    )


async def key_latency(samples: int) -> list[float]:
    """Press keys into the host field while a 2 s discovery call is pending."""
    import tempfile

    from _tour import demo_app, time_keys, to_tokens, waiter
    from textual import events
    from textual.widgets import Input

    from clmwizard.emulator import Emulator
    from clmwizard.screens.discovery import DiscoveryScreen

    with Emulator(redirect_uris=["http://127.0.0.1:47699/callback"]) as emu:
        folder = Path(tempfile.mkdtemp(prefix="clmwizard-bench-"))
        app = demo_app(emu, folder, microsoft=False)
        async with app.run_test(size=(100, 32)) as pilot:
            until = waiter(app, pilot, 10.0)
            await to_tokens(app, pilot, until)
            emu.inject_fault("clm_auth", "/api/v2", latency=2.0, count=1)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, DiscoveryScreen))
            field = app.screen.query_one("#host-general", Input)
            field.focus()
            await pilot.pause()
            latencies = await time_keys(
                app, lambda: events.Key("x", "x"), samples, lambda: field.value
            )
            pending = any(
                worker.group == "discovery" and not worker.is_finished for worker in app.workers
            )
            if not pending:
                print("note: the discovery call finished before all samples were taken")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, medians of {args.runs} runs\n")
    bare_t, bare_rss = measure([PYTHON, str(HERE / "_first_frame.py"), "bare"], args.runs)
    wizard_t, wizard_rss = measure([PYTHON, str(HERE / "_first_frame.py"), "wizard"], args.runs)
    report("first frame: wizard vs bare app", wizard_t * 1000, bare_t * 1000, "ms", 1.2)
    report("peak RSS: wizard vs bare app", wizard_rss / 1024, bare_rss / 1024, "MiB", 1.3)
    pass_t, _ = measure([PYTHON, "-c", "pass"], args.runs)
    help_t, _ = measure([CLMWIZARD, "--help"], args.runs)
    report("clmwizard --help vs python -c pass", help_t * 1000, pass_t * 1000, "ms", 2.5)

    latencies = asyncio.run(key_latency(15))
    median = statistics.median(latencies)
    verdict = "ok" if median < 100 else "OVER TARGET"
    print(
        f"{'key latency, 2 s call pending':<34} {median:9.1f} ms median, "
        f"max {max(latencies):.1f} ms over {len(latencies)} presses (target < 100 ms) {verdict}"
    )


if __name__ == "__main__":
    main()
