"""The loopback page the browser lands on after a connection's sign-in, and the live line."""

from __future__ import annotations

import io

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


def test_the_live_line_shows_spinner_clock_limit_and_keys_on_a_terminal() -> None:
    stream = FakeTty()
    with LiveLine("waiting for \x1b[31mX", 300, keys={"c": ("copy", str)}, stream=stream) as live:
        live.tick(65.2)
    text = stream.getvalue()
    assert "1:05 / 5:00" in text and "[c] copy" in text
    assert "\x1b[31m" not in text  # a server's words never reach the terminal raw
    assert text.endswith("\r\x1b[K")  # the line is cleared at the end


def test_the_live_line_is_one_plain_line_elsewhere() -> None:
    stream = io.StringIO()
    with LiveLine("waiting for the run", 90, stream=stream) as live:
        live.tick(1.0)
        live.tick(2.0)
    assert stream.getvalue() == "… waiting for the run (up to 1:30)\n"
