"""Regenerate the README's screenshots from the app itself, driven through the demo.

Usage: .venv/bin/python scripts/screenshots.py   (writes docs/images/*.svg)
The values shown are the emulator's per-run test values.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
SIZE = (100, 32)


async def main() -> None:
    from textual.pilot import Pilot

    from clmwizard.app import ClmWizardApp
    from clmwizard.context import DemoSetup, WizardContext
    from clmwizard.emulator import Emulator
    from clmwizard.screens.consent import ConsentScreen
    from clmwizard.screens.discovery import DiscoveryScreen
    from clmwizard.screens.export import ExportScreen
    from clmwizard.screens.fields import FieldsScreen
    from clmwizard.screens.tokens import TokensScreen
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore
    from clmwizard.widgets.field_message import FieldMessage

    IMAGES.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="clmwizard-shots-"))
    os.chdir(work)
    with Emulator() as emu:
        context = WizardContext(
            profiles=ProfileStore(work / "profiles"),
            open_secrets=MemorySecretStore,
            demo=DemoSetup.from_emulator(emu),
        )
        app = ClmWizardApp(context)
        async with app.run_test(size=SIZE) as pilot:

            async def until(condition: Callable[[], bool]) -> None:
                deadline = time.monotonic() + 10
                while not condition():
                    if time.monotonic() > deadline:
                        raise SystemExit(f"stuck on {type(app.screen).__name__}")
                    await pilot.pause(0.05)

            def shot(name: str) -> None:
                app.save_screenshot(str(IMAGES / f"{name}.svg"))
                print(f"wrote docs/images/{name}.svg")

            await pilot.pause()
            await pilot.press("enter", "enter", "enter")
            await until(lambda: isinstance(app.screen, ConsentScreen))
            await until(lambda: getattr(app.screen, "state", "") == "listening")
            await pilot.pause(0.3)
            shot("consent")
            await pilot.press("a")
            await until(lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, DiscoveryScreen))
            await until(
                lambda: "found" in app.screen.query_one("#discovery-message", FieldMessage).text
            )
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, FieldsScreen))
            await pilot.pause(0.5)
            shot("fields")
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ExportScreen))
            await pilot.press("enter")
            await until(lambda: (work / "demo-connector" / "README.md").exists())
            await pilot.pause(0.3)
            shot("export")
        _ = Pilot  # imported for the type of `pilot`


if __name__ == "__main__":
    asyncio.run(main())
