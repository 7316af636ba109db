"""The platform's own HTTP calls (token exchange, refresh, connector operations), as the real
service makes them towards DocuSign: standard library only, bounded, and to this computer only
(the emulator never calls the internet, whatever a connector names)."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

MAX_ANSWER = 16 * 1024 * 1024
TIMEOUT = 15.0
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class OutboundError(Exception):
    """The call could not be made or had no answer (refused host, network, size)."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def text(self, limit: int = 500) -> str:
        return self.body.decode("utf-8", "replace")[:limit]


def _loopback(host: str) -> bool:
    return host.lower() in _LOOPBACK or host.startswith("127.")


def call(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    ca_pem: str | None = None,
) -> Answer:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise OutboundError(f"not an http(s) URL: {url[:200]}")
    if not _loopback(host):
        raise OutboundError(
            f"the emulator only calls hosts on this computer, not {host[:100]} "
            "(publish the connector from a profile made against the emulator)"
        )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cadata=ca_pem) if ca_pem else None
        connection = http.client.HTTPSConnection(host, parts.port, timeout=TIMEOUT, context=context)
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=TIMEOUT)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read(MAX_ANSWER + 1)
        if len(data) > MAX_ANSWER:
            raise OutboundError("the answer is too large")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except (OSError, http.client.HTTPException) as error:
        raise OutboundError(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()


def post_form(
    url: str,
    fields: dict[str, str],
    *,
    client_id: str,
    client_secret: str,
    client_auth: str,
    ca_pem: str | None = None,
) -> Answer:
    """An OAuth token request with the client's credentials in a Basic header or in the body."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    if client_auth == "basic":
        pair = f"{client_id}:{client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    else:
        fields = {**fields, "client_id": client_id, "client_secret": client_secret}
    return call("POST", url, headers=headers, body=urlencode(fields).encode(), ca_pem=ca_pem)
