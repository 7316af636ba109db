"""Helpers for the emulator's behaviour tests: a plain httpx client plays the application."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.emulator.flows import Listener


@pytest.fixture
def redirect_uri() -> str:
    """The emulator's own tests start from its defaults: `emu` registers no extra redirect URI."""
    return ""


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, follow_redirects=False) as client:
        yield client


@pytest.fixture
def listener() -> Iterator[Listener]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"<html><body>You can close this window.</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield Listener(f"http://127.0.0.1:{server.server_address[1]}/callback", seen)
    finally:
        server.shutdown()
        server.server_close()
