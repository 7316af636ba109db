"""Key latency on the wizard's Publish step while it publishes, with 300 ms injected on every
Power Apps call (run on demand, never in the test suite): `.venv/bin/python
benchmarks/publish_keys.py [--samples N]`.

The demo tour to the bundle, ctrl+p, the demo user approves the device code, enter (the default
environment), enter (publish); then arrow keys are posted to the environment list (as the driver
posts a real key) and timed until its highlight moves. Target: < 100 ms.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

LATENCY = 0.3


async def key_latency(samples: int) -> dict[str, tuple[list[float], bool]]:
    from _tour import demo_app, time_keys, to_planned_publish, waiter
    from textual import events

    from clmwizard.emulator import Emulator
    from clmwizard.widgets.toggles import TextRadioSet

    folder = Path(tempfile.mkdtemp(prefix="clmwizard-bench-"))
    os.chdir(folder)
    with Emulator(redirect_uris=["http://127.0.0.1:47698/callback"]) as emu:
        app = demo_app(emu, folder)
        async with app.run_test(size=(100, 32)) as pilot:
            until = waiter(app, pilot, 20.0)
            screen = await to_planned_publish(app, pilot, until)
            emu.inject_fault("powerapps", "/", latency=LATENCY, count=1000)
            emu.inject_fault("blob", "/", latency=LATENCY, count=1000)
            await pilot.press("enter")
            await until(lambda: screen.phase == "publishing")
            radio = screen.query_one("#environment", TextRadioSet)
            radio.focus()
            await pilot.pause()
            latencies = await time_keys(
                app, lambda: events.Key("down", None), samples, lambda: radio._selected
            )
            still_publishing = screen.phase == "publishing"
            await until(lambda: screen.phase == "published", timeout=60)
    return {"while publishing": (latencies, still_publishing)}


if __name__ == "__main__":
    from _tour import main

    main(__doc__, key_latency)
