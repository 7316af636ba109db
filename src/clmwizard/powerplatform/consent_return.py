"""Where the browser lands after the connection's sign-in: a loopback page that says to go
back to the terminal, and remembers the query it came with (an `error` ends the wait early).

The consent service finishes the connection itself when the redirect URL is not the portal's
(T), so the page is a courtesy: over SSH the browser cannot reach it, and `connect` still sees
the connection turn Connected by reading it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import secrets
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

MAX_HEAD = 16 * 1024
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>clmwizard</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>{title}</h1><p>{body}</p></body></html>"""


class ConsentReturn:
    """`async with ConsentReturn() as back:` `back.url` to give as redirectUrl, `back.query()`
    what the browser brought (None until it came)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.path = f"/clmwizard/connected/{secrets.token_hex(8)}"
        self.url = ""
        self._query: dict[str, str] | None = None
        self._server: asyncio.Server | None = None

    def query(self) -> dict[str, str] | None:
        return self._query

    async def __aenter__(self) -> ConsentReturn:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}{self.path}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        line = head[:MAX_HEAD].split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        target = urlsplit(parts[1]) if len(parts) == 3 else None
        if target is not None and parts[0] == "GET" and target.path == self.path:
            query = dict(parse_qsl(target.query[:4000]))
            if self._query is None:
                self._query = {k[:40]: v[:400] for k, v in list(query.items())[:20]}
            failed = "error" in query
            page = _PAGE.format(
                title="The sign-in failed" if failed else "Signed in",
                body=html.escape(
                    "DocuSign or Power Automate refused it; the terminal says why."
                    if failed
                    else "The connection is signed in to DocuSign. Go back to the terminal."
                ),
            )
            status = "200 OK"
        else:
            page, status = _PAGE.format(title="Not found", body=""), "404 Not Found"
        body = page.encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
