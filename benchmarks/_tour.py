"""What the key-latency benchmarks share: the demo wizard on an emulator, waiting for what the
screen shows, the demo tour to the bundle and on to a planned publish, and timing keys posted
the way the driver posts a real one."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual import events
    from textual.pilot import Pilot

    from clmwizard.app import ClmWizardApp
    from clmwizard.emulator import Emulator
    from clmwizard.screens.publish import PublishScreen

Until = Callable[..., Awaitable[None]]
Samples = dict[str, tuple[list[float], bool]]  # what was timed: (ms per key, all while waiting)
TARGET_MS = 100.0


def demo_app(emu: Emulator, folder: Path, *, microsoft: bool = True) -> ClmWizardApp:
    """The wizard in demo mode on `emu`, its profiles in `folder` (with `microsoft`: signing in
    to the emulator's Microsoft, its device codes approved at once)."""
    from clmwizard.app import ClmWizardApp
    from clmwizard.context import DemoSetup, WizardContext, demo_microsoft
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore

    extra: dict[str, Any] = {}
    if microsoft:
        ca = folder / "ca.pem"
        ca.write_text(emu.power_platform.ca_cert, encoding="ascii")
        emu.power_platform.set_policies(device_code_interval=0)
        settings = demo_microsoft(emu, str(ca))
        extra["microsoft"] = lambda: settings
    return ClmWizardApp(
        WizardContext(
            profiles=ProfileStore(folder / "profiles"),
            open_secrets=MemorySecretStore,
            demo=DemoSetup.from_emulator(emu),
            **extra,
        )
    )


def waiter(app: ClmWizardApp, pilot: Pilot[Any], default: float) -> Until:
    """`await until(condition[, timeout])`: polls until `condition()`, else stops the run."""

    async def until(condition: Callable[[], object], timeout: float = default) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"stuck on {type(app.screen).__name__}")
            await pilot.pause(0.01)

    return until


async def to_tokens(app: ClmWizardApp, pilot: Pilot[Any], until: Until) -> None:
    """From the start screen through consent (the demo accepts) to the tokens received."""
    from clmwizard.screens.consent import ConsentScreen
    from clmwizard.screens.tokens import TokensScreen

    await pilot.pause()
    await pilot.press("enter", "enter", "enter")
    await until(lambda: isinstance(app.screen, ConsentScreen) and app.screen.state == "listening")
    await pilot.press("a")
    await until(lambda: isinstance(app.screen, TokensScreen) and app.screen.done)


async def to_planned_publish(app: ClmWizardApp, pilot: Pilot[Any], until: Until) -> PublishScreen:
    """The demo tour on to Publish, signed in, the default environment chosen, the plan shown."""
    from clmwizard.screens.export import ExportScreen
    from clmwizard.screens.publish import PublishScreen

    await to_tokens(app, pilot, until)
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
    return screen


async def time_keys(
    app: ClmWizardApp, key: Callable[[], events.Key], samples: int, seen: Callable[[], object]
) -> list[float]:
    """Milliseconds from posting `key()` until `seen()` changes, `samples` times."""
    latencies: list[float] = []
    for _ in range(samples):
        before = seen()
        start = time.perf_counter()
        app.post_message(key())
        while seen() == before:
            await asyncio.sleep(0.0005)
        latencies.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.02)
    return latencies


def main(doc: str | None, key_latency: Callable[[int], Awaitable[Samples]]) -> None:
    """The benchmark's command line: --samples N, then a line per thing timed."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
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
