"""The rotation checklist: published connectors updated automatically, exported-only ones with
the portal path and the paconn command, the old secret deleted last; no secret on screen."""

from __future__ import annotations

import re

from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.screens.fields import FieldsScreen
from clmwizard.screens.rotation import RotationChecklist
from clmwizard.screens.start import StartScreen
from clmwizard.store.profile import MS_TOKEN_CACHE, SECRET_KEY
from tests.qualities.security.leaks import emulator_needles, find
from tests.support.demo_tour import (
    SIZE,
    connector_secrets,
    finish_after_publish,
    publish,
    rotate_with_demo_spare,
    screen_text,
    to_export,
)
from tests.support.pilot import make_app, until


def assert_old_secret_step_last(text: str, *, published: bool) -> None:
    """Step 4 keeps the old secret: published, until a heartbeat run 8 hours after the
    connectors got the new one (a connection refreshes only then); by hand, at least that."""
    steps = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    flat = " ".join(text.split())
    if published:
        assert steps[-1].startswith("4. Keep the OLD secret key at DocuSign until a")
        assert re.search(r"heartbeat run after \d{4}-\d\d-\d\d \d\d:\d\d", flat)
        assert "Then delete it (Settings → Apps and Keys → your app → Secret Keys" in flat
    else:
        assert steps[-1].startswith("4. Only then, and at least 8 hours after")
        assert "delete the OLD secret key in DocuSign" in flat
    assert text.index("Test a flow") < text.index("4.")


async def test_published_connectors_are_updated_by_the_checklist(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app, "three")
        await pilot.press("ctrl+p")
        await publish(pilot, app, emu)
        publish_texts = {"publish screen": screen_text(app)}
        assert connector_secrets(emu) == [emu.secret_key] * 3
        await finish_after_publish(pilot, app)
        checklist = await rotate_with_demo_spare(pilot, app)
        # the cached Microsoft sign-in is used silently: the three are updated at once
        await until(pilot, lambda: "3 connector(s) updated" in screen_text(app), timeout=30)
        text = screen_text(app)
        assert text.count("updated automatically") == 3
        assert_old_secret_step_last(text, published=True)
        assert connector_secrets(emu) == [emu.spare_secret_key] * 3
        texts = {**publish_texts, "checklist": text}
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.press("k")  # the checklist again, from the start screen
        await until(pilot, lambda: isinstance(app.screen, RotationChecklist))
        await until(pilot, lambda: "updated automatically" in screen_text(app))
        assert checklist is not app.screen
        store = app.secret_store()
        cache = store.get("demo", MS_TOKEN_CACHE) or ""
    assert cache  # the Microsoft sign-in is cached (in the memory keyring), never shown
    pp = emu.power_platform
    needles = emulator_needles(emu, ms_client_secret=[pp.client_secret])
    assert find(needles, texts) == []


async def test_exported_only_connectors_get_the_portal_path_and_paconn(
    publish_context: WizardContext, emu: Emulator
) -> None:
    app = make_app(publish_context)
    async with app.run_test(size=SIZE) as pilot:
        await to_export(pilot, app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        await pilot.press("escape")
        await rotate_with_demo_spare(pilot, app)
        await until(pilot, lambda: "paconn update" in screen_text(app))
        text = screen_text(app)
        assert "Data → Custom connectors" in text and "Security → Client secret" in text
        assert "Update connector" in text
        assert "demo-connector/clm && paconn update --settings settings.json" in text
        assert_old_secret_step_last(text, published=False)
        assert emu.spare_secret_key not in text
        store = app.secret_store()
        assert store.get("demo", SECRET_KEY) == emu.spare_secret_key
