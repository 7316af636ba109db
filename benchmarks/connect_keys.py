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

import os
import tempfile
from pathlib import Path

LATENCY = 0.3


async def key_latency(samples: int) -> dict[str, tuple[list[float], bool]]:
    from _tour import demo_app, time_keys, to_planned_publish, waiter
    from textual import events
    from textual.widgets import Input

    from clmwizard.emulator import Emulator
    from clmwizard.screens.connect import ConnectScreen
    from clmwizard.screens.heartbeat import HeartbeatScreen
    from clmwizard.screens.platform_step import PlatformStepScreen

    found: dict[str, tuple[list[float], bool]] = {}
    folder = Path(tempfile.mkdtemp(prefix="clmwizard-bench-"))
    os.chdir(folder)
    with Emulator(redirect_uris=["http://127.0.0.1:47698/callback"]) as emu:
        app = demo_app(emu, folder)
        async with app.run_test(size=(100, 32)) as pilot:
            until = waiter(app, pilot, 30.0)

            async def sample(screen: PlatformStepScreen, what: str) -> None:
                field = Input(id="bench-field")
                await screen.mount(field)
                field.focus()
                await pilot.pause()
                latencies = await time_keys(
                    app, lambda: events.Key("x", "x"), samples, lambda: field.value
                )
                found[what] = (latencies, screen.phase == "waiting")
                await field.remove()

            publish = await to_planned_publish(app, pilot, until)
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


if __name__ == "__main__":
    from _tour import main

    main(__doc__, key_latency)
