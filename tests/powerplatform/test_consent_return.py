"""The loopback page the browser lands on after a connection's sign-in, and the live line."""

from __future__ import annotations

import io
import time

import httpx

from clmwizard.commands.platform import LiveLine
from clmwizard.powerplatform.consent_return import ConsentReturn


async def test_the_page_remembers_the_first_query_and_refuses_other_paths() -> None:
    async with ConsentReturn() as back, httpx.AsyncClient() as client:
        assert back.url.startswith("http://127.0.0.1:") and back.query() is None
        other = await client.get(back.url.rsplit("/", 1)[0] + "/guess?error=x")
        assert other.status_code == 404 and back.query() is None
        page = await client.get(back.url, params={"error": "access_denied", "x": "<b>"})
        assert page.status_code == 200 and "The sign-in failed" in page.text
        assert "<b>" not in page.text
        assert back.query() == {"error": "access_denied", "x": "<b>"}
        await client.get(back.url, params={"state": "later"})
        assert back.query() == {"error": "access_denied", "x": "<b>"}  # the first one counts


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_live_line_shows_spinner_clock_limit_and_its_keys() -> None:
    stream = FakeTty()
    live = LiveLine("Waiting for X", 300, keys={"c": ("copy", str)}, stream=stream, interval=0.01)
    live.keys_active = True
    live.note = "copied"
    line = live.line(65.2)
    assert "1:05 of 5:00" in line and "[c] copy" in line and line.endswith("copied")
    with live:
        time.sleep(0.1)
    text = stream.getvalue()
    assert "Waiting for X" in text and text.endswith("\r\x1b[K")  # drawn, then cleared


def test_off_a_terminal_only_the_hint_is_written() -> None:
    stream = io.StringIO()
    with LiveLine("Waiting for the run", 90, hint="still", stream=stream, interval=0.01) as live:
        live.hint_after = 0.02
        time.sleep(0.15)
    assert stream.getvalue() == "still\n"
