"""The `http_client` handed to MSAL: its requests go through clmwizard's HTTP layer.

MSAL is synchronous and runs in a worker thread; each of its requests is sent on the event
loop's httpx client with `clmwizard.http.send` (size cap, total deadline, decoding errors
caught), and every answer must be bounded JSON before MSAL sees it: MSAL logs a non-JSON token
answer whole, with a traceback. Lifetimes are clamped, as on the DocuSign side.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import httpx

from clmwizard.http import (
    MAX_ANSWER_BYTES,
    deadline_seconds,
    parse_json,
    redirected_error,
    send,
)

SERVICE = "The Microsoft sign-in"
# Seconds MSAL may be told a token, a device code or a polling interval lasts.
LIFETIMES = {
    "expires_in": (60, 86_400),
    "ext_expires_in": (60, 86_400),
    "refresh_in": (60, 86_400),
    "interval": (1, 30),
}


def clamp_lifetimes(data: dict[str, Any]) -> bool:
    """Keeps `expires_in` and its siblings within what Microsoft can mean (in place); whether
    anything changed. What is not a whole number of seconds is dropped: MSAL's defaults apply."""
    changed = False
    for key, (low, high) in LIFETIMES.items():
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip()[:12])
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e12:
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            del data[key]
            changed = True
        elif not low <= value <= high:
            data[key] = min(max(value, low), high)
            changed = True
    return changed


async def checked(client: httpx.AsyncClient, method: str, url: str, **options: Any) -> Any:
    """One MSAL request through `send`: a bounded JSON answer (lifetimes clamped) or an error."""
    response = await send(
        client, method, url, max_bytes=MAX_ANSWER_BYTES, service=SERVICE, **options
    )
    status = response.status_code
    if 300 <= status < 400:
        raise redirected_error(url, status, service=SERVICE)
    data = parse_json(response.content, url, status, service=SERVICE)
    if isinstance(data, dict) and clamp_lifetimes(data):
        headers = {"Content-Type": "application/json"}
        return httpx.Response(status, headers=headers, json=data, request=response.request)
    return response


class MsalHttpClient:
    """The requests-like get/post MSAL calls from its worker thread, run on `loop`."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        return self._call("GET", url, params=params, headers=headers)

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        body = {"content": data} if isinstance(data, (str, bytes)) else {"data": data}
        return self._call("POST", url, params=params, headers=headers, **body)

    def _call(self, method: str, url: str, **options: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(
            checked(self.client, method, url, **options), self.loop
        )
        limit = (deadline_seconds(self.client) or 300.0) + 5.0
        try:
            return future.result(timeout=limit)
        except concurrent.futures.TimeoutError:  # the loop itself is stuck or gone
            future.cancel()
            raise httpx.ReadTimeout("the total deadline passed") from None

    def close(self) -> None:
        """The client belongs to the caller, who closes it."""
