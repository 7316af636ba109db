"""A hostile or broken server's answers, for tests of what the client does with them.

Each function turns an answer (or nothing) into what a compromised or misbehaving server might
send: real answers with fields overridden (names full of escape sequences, markup, account ids
that are paths, hosts elsewhere), JSON nested 100,000 levels deep, bodies of hundreds of
megabytes (streamed, never held), gzip that does not decompress, and answers that drip out one
byte at a time. `Fault` (faults.py) carries the switches; the server applies them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from clmwizard.emulator.http_types import JSON_TYPE, Response

CHUNK = 64 * 1024


def merged(base: Any, override: Any) -> Any:
    """`override` laid over `base`: objects merge key by key, lists item by item."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            result[key] = merged(base.get(key), value) if key in base else value
        return result
    if isinstance(base, list) and isinstance(override, list):
        items = [merged(b, o) for b, o in zip(base, override, strict=False)]
        return items + base[len(override) :] + override[len(base) :]
    return override


def with_fields(response: Response, override: dict[str, Any]) -> Response:
    """The answer with `override` merged into its JSON (a non-JSON answer is left alone)."""
    try:
        payload = json.loads(response.body)
    except ValueError:
        return response
    body = json.dumps(merged(payload, override), separators=(",", ":")).encode()
    return Response(response.status, body, list(response.headers))


def nested(depth: int) -> Response:
    """A JSON answer of `depth` nested lists (100,000 made parsers raise RecursionError)."""
    return Response(200, b"[" * depth + b"]" * depth, [("Content-Type", JSON_TYPE)])


def huge(size: int) -> Response:
    """A JSON token answer of exactly `size` bytes (at least 20), generated while it is sent."""
    head, tail = b'{"access_token":"', b'"}'
    filler = max(size - len(head) - len(tail), 1)

    def chunks() -> Iterator[bytes]:
        yield head
        left = filler
        while left > 0:
            piece = min(CHUNK, left)
            yield b"a" * piece
            left -= piece
        yield tail

    length = len(head) + filler + len(tail)
    return Response(200, b"", [("Content-Type", JSON_TYPE)], chunks=chunks, length=length)


def text(status: int, body: str, content_type: str) -> Response:
    """Not the JSON the client expects: a captive portal's page, a proxy's text."""
    return Response(status, body.encode(), [("Content-Type", content_type)])


def redirect(status: int, location: str) -> Response:
    """A redirect (a captive portal's, a proxy's login) instead of the answer."""
    return Response(status, b"", [("Location", location)])


def bad_gzip(response: Response) -> Response:
    """The answer labelled gzip, its body not gzip at all."""
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-encoding"]
    headers.append(("Content-Encoding", "gzip"))
    return Response(response.status, b"\x1f\x8b\x08\x00garbage-that-is-no-deflate-stream", headers)


def dripping(response: Response, pause: float) -> Response:
    """The answer sent one byte every `pause` seconds."""
    body = response.body

    def chunks() -> Iterator[bytes]:
        for index in range(len(body)):
            yield body[index : index + 1]

    return Response(
        response.status, b"", list(response.headers), chunks=chunks, length=len(body), pause=pause
    )
