"""The device-code widget: the code, where to enter it (as text, never markup), a clock that
runs (spinner, time waited, the code's limit) and stops when the screen says something else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from clmwizard.powerplatform.signin import DeviceCode
from clmwizard.widgets.device_code import DeviceCodePanel, clock
from tests.support.pilot import plain_screen, until

HOSTILE_URL = "https://microsoft.com/devicelogin[@click=app.quit]"


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DeviceCodePanel("Signing in to Microsoft…", id="panel")


def test_clock_reads_minutes_and_seconds() -> None:
    assert [clock(0), clock(59.9), clock(61), clock(900), clock(-3)] == [
        "0:00",
        "0:59",
        "1:01",
        "15:00",
        "0:00",
    ]


async def test_the_code_shows_with_a_running_clock_then_gives_way() -> None:
    app = PanelApp()
    async with app.run_test(size=(100, 12)) as pilot:
        panel = app.query_one(DeviceCodePanel)
        expires = datetime.now(UTC) + timedelta(minutes=15)
        panel.show_code(DeviceCode("ABCD-EFGH", HOSTILE_URL, "", expires), demo=True)
        await pilot.pause()
        first = plain_screen(app)
        assert f"Open {HOSTILE_URL} and enter the code  ABCD-EFGH" in first, first
        assert "Waiting for you to sign in there… 0:00 of 14:5" in first
        assert f"the code works until {expires:%H:%M} UTC" in first
        assert "c copies the code · o opens the browser · a approves it as the demo user" in first
        await until(pilot, lambda: "0:01 of" in plain_screen(app), timeout=5)
        panel.say("✓ Signed in to Microsoft")
        await pilot.pause(0.6)
        assert panel.code is None
        assert "✓ Signed in to Microsoft" in plain_screen(app)
        assert "Waiting" not in plain_screen(app)
        assert app.is_running
