"""Key latency on the wizard's Publish step while it publishes, with 300 ms injected on every
Power Apps call (run on demand, never in the test suite): `.venv/bin/python
benchmarks/publish_keys.py [--samples N]`.

The demo tour to the bundle, ctrl+p, the demo user approves the device code, enter (the default
environment), enter (publish); then arrow keys are posted to the environment list (as the driver
posts a real key) and timed until its highlight moves. Target: < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

LATENCY = 0.3
TARGET_MS = 100.0


async def key_latency(samples: int) -> tuple[list[float], bool]:
    from textual import events

    from clmwizard.app import ClmWizardApp
    from clmwizard.context import DemoSetup, WizardContext, demo_microsoft
    from clmwizard.emulator import Emulator
    from clmwizard.screens.consent import ConsentScreen
    from clmwizard.screens.export import ExportScreen
    from clmwizard.screens.publish import PublishScreen
    from clmwizard.screens.tokens import TokensScreen
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore
    from clmwizard.widgets.toggles import TextRadioSet

    latencies: list[float] = []
    folder = Path(tempfile.mkdtemp(prefix="clmwizard-bench-"))
    os.chdir(folder)
    with Emulator(redirect_uris=["http://127.0.0.1:47698/callback"]) as emu:
        ca = folder / "ca.pem"
        ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
        emu.power_platform.set_policies(device_code_interval=0)
        settings = demo_microsoft(emu, str(ca))
        app = ClmWizardApp(
            WizardContext(
                profiles=ProfileStore(folder / "profiles"),
                open_secrets=MemorySecretStore,
                demo=DemoSetup.from_emulator(emu),
                microsoft=lambda: settings,
            )
        )
        async with app.run_test(size=(100, 32)) as pilot:

            async def until(condition: object, timeout: float = 20.0) -> None:
                deadline = time.monotonic() + timeout
                while not condition():  # type: ignore[operator]
                    if time.monotonic() > deadline:
                        raise SystemExit(f"stuck on {type(app.screen).__name__}")
                    await pilot.pause(0.01)

            await pilot.pause()
            await pilot.press("enter", "enter", "enter")
            await until(
                lambda: isinstance(app.screen, ConsentScreen) and app.screen.state == "listening"
            )
            await pilot.press("a")
            await until(lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
            await pilot.press("enter")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ExportScreen))
            await pilot.press("enter")
            await pilot.pause(0.5)
            await pilot.press("ctrl+p")
            await until(lambda: isinstance(app.screen, PublishScreen))
            screen = app.screen
            assert isinstance(screen, PublishScreen)
            await until(lambda: screen.code is not None or screen.phase != "signing_in")
            if screen.code is not None:
                await pilot.press("a")
            await until(lambda: screen.phase == "environment")
            await pilot.press("enter")
            await until(lambda: screen.phase == "planned")
            emu.inject_fault("powerapps", "/", latency=LATENCY, count=1000)
            emu.inject_fault("blob", "/", latency=LATENCY, count=1000)
            await pilot.press("enter")
            await until(lambda: screen.phase == "publishing")
            radio = screen.query_one("#environment", TextRadioSet)
            radio.focus()
            await pilot.pause()
            for _ in range(samples):
                before = radio._selected
                start = time.perf_counter()
                app.post_message(events.Key("down", None))
                while radio._selected == before:
                    await asyncio.sleep(0.0005)
                latencies.append((time.perf_counter() - start) * 1000)
                await asyncio.sleep(0.02)
            still_publishing = screen.phase == "publishing"
            await until(lambda: screen.phase == "published", timeout=60)
    return latencies, still_publishing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    latencies, during = asyncio.run(key_latency(args.samples))
    median = statistics.median(latencies)
    verdict = "ok" if max(latencies) < TARGET_MS else "OVER TARGET"
    print(
        f"{'key latency while publishing':<34} {median:9.1f} ms median, "
        f"max {max(latencies):.1f} ms over {len(latencies)} presses "
        f"(target < {TARGET_MS:.0f} ms) {verdict}"
    )
    if not during:
        print("note: the publish finished before all samples were taken")


if __name__ == "__main__":
    main()
