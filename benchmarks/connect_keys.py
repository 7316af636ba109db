"""Key latency on the wizard's Connect step while it waits for the DocuSign sign-in, and on the
Heartbeat step while it waits for the test run, with 300 ms injected on every Power Apps and
Flow API call (run on demand, never in the test suite): `.venv/bin/python
benchmarks/connect_keys.py [--samples N]`.

The demo tour to the published connector (g registers its redirect URL), enter (Connect: the
consent link shown, the wait line ticking); a text field is put on the step and keys are posted
to it (as the driver posts a real key), each timed until the field shows it. Then a accepts,
enter (Heartbeat: the run kept Running 8 s by the emulator), the same again. Target: < 100 ms.
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


async def key_latency(samples: int) -> dict[str, tuple[list[float], bool]]:
    from textual import events
    from textual.widgets import Input

    from clmwizard.app import ClmWizardApp
    from clmwizard.context import DemoSetup, WizardContext, demo_microsoft
    from clmwizard.emulator import Emulator
    from clmwizard.screens.connect import ConnectScreen
    from clmwizard.screens.consent import ConsentScreen
    from clmwizard.screens.export import ExportScreen
    from clmwizard.screens.heartbeat import HeartbeatScreen
    from clmwizard.screens.platform_step import PlatformStepScreen
    from clmwizard.screens.publish import PublishScreen
    from clmwizard.screens.tokens import TokensScreen
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore

    found: dict[str, tuple[list[float], bool]] = {}
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

            async def until(condition: object, timeout: float = 30.0) -> None:
                deadline = time.monotonic() + timeout
                while not condition():  # type: ignore[operator]
                    if time.monotonic() > deadline:
                        raise SystemExit(f"stuck on {type(app.screen).__name__}")
                    await pilot.pause(0.01)

            async def sample(screen: PlatformStepScreen, what: str) -> None:
                field = Input(id="bench-field")
                await screen.mount(field)
                field.focus()
                await pilot.pause()
                latencies: list[float] = []
                for _ in range(samples):
                    before = field.value
                    start = time.perf_counter()
                    app.post_message(events.Key("x", "x"))
                    while field.value == before:
                        await asyncio.sleep(0.0005)
                    latencies.append((time.perf_counter() - start) * 1000)
                    await asyncio.sleep(0.02)
                found[what] = (latencies, screen.phase == "waiting")
                await field.remove()

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
            publish = app.screen
            assert isinstance(publish, PublishScreen)
            await until(lambda: publish.code is not None or publish.phase != "signing_in")
            if publish.code is not None:
                await pilot.press("a")
            await until(lambda: publish.phase == "environment")
            await pilot.press("enter")
            await until(lambda: publish.phase == "planned")
            await pilot.press("enter")
            await until(lambda: publish.phase == "published")
            await pilot.press("g")
            await pilot.pause(1.0)
            for origin in ("powerapps", "flow"):
                emu.inject_fault(origin, "/", latency=LATENCY, count=100000)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConnectScreen))
            connect = app.screen
            assert isinstance(connect, ConnectScreen)
            await until(lambda: connect.phase == "waiting")
            await sample(connect, "waiting for the consent")
            connect.focus()
            await pilot.press("a")
            await until(lambda: connect.phase == "done")
            emu.power_platform.set_platform(run_delay=8)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, HeartbeatScreen))
            beat = app.screen
            assert isinstance(beat, HeartbeatScreen)
            await until(lambda: beat.phase == "waiting")
            await sample(beat, "waiting for the heartbeat run")
            await until(lambda: beat.phase == "done", timeout=60)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for what, (latencies, during) in asyncio.run(key_latency(args.samples)).items():
        median = statistics.median(latencies)
        verdict = "ok" if max(latencies) < TARGET_MS else "OVER TARGET"
        label = f"key latency {what}"
        print(
            f"{label:<46} {median:7.1f} ms median, max {max(latencies):.1f} ms over "
            f"{len(latencies)} presses (target < {TARGET_MS:.0f} ms) {verdict}"
        )
        if not during:
            print(f"note: the wait ({what}) ended before all samples were taken")


if __name__ == "__main__":
    main()
