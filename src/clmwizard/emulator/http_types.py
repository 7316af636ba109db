"""The emulator's view of one HTTP exchange: a parsed request in, a complete response out.

Handlers are plain functions from `Request` to `Response`, so the protocol logic never touches
sockets and the server module stays a thin adapter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class Request:
    origin: str  # the emulator origin name: "auth", "clm_auth", "general", "upload", "download"
    base_url: str  # e.g. "http://127.0.0.1:41234", the origin that received the request
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";", 1)[0].strip().lower()

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def bearer_token(self) -> str | None:
        scheme, _, value = self.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without answering (fault injection)
    # Fault injection: a body produced while it is sent (`length` bytes), `pause` s per chunk.
    chunks: Callable[[], Iterator[bytes]] | None = None
    length: int | None = None
    pause: float = 0.0

    def with_header(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    body = json.dumps(payload, indent=None, separators=(",", ":")).encode("utf-8")
    return Response(status, body, [("Content-Type", JSON_TYPE), *headers])


def html_response(status: int, page: str) -> Response:
    return Response(status, page.encode("utf-8"), [("Content-Type", HTML_TYPE)])


def redirect(location: str) -> Response:
    return Response(302, b"", [("Location", location), ("Cache-Control", "no-store")])
