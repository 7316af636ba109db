"""The one httpx client factory, and retries for idempotent GETs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from clmwizard import __version__
from clmwizard.errors import NetworkError

USER_AGENT = f"clmwizard/{__version__}"
BACKOFF_SECONDS = 0.5  # first retry delay, doubled each time
RETRY_AFTER_CAP = 10.0  # never wait longer than this for a Retry-After


# What the app and the CLI are built with: make_client, or a test's factory whose client
# carries an httpx.MockTransport or shorter timeouts. Called as factory() or factory(timeout=s).
ClientFactory = Callable[..., httpx.AsyncClient]


def make_client(*, timeout: float = 20.0) -> httpx.AsyncClient:
    """An AsyncClient with timeouts and clmwizard's user agent; it logs nothing."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def timeout_seconds(client: httpx.AsyncClient) -> float | None:
    return client.timeout.read


def transport_error(error: httpx.TransportError, url: str, *, sent: bool = False) -> NetworkError:
    """Plain words for a connection failure, timeout or dropped connection."""
    host = host_of(url)
    if isinstance(error, httpx.TimeoutException):
        return NetworkError(
            f"{host} did not answer in time.",
            cause="The server or the network is slow or overloaded, or a firewall drops the "
            "traffic silently.",
            fix="Try again in a minute; `clmwizard doctor --profile NAME` checks reachability.",
            code="timeout",
        )
    if isinstance(error, httpx.ConnectError) and not sent:
        return NetworkError(
            f"Could not reach {host}.",
            cause="No network, a proxy or firewall in the way (HTTPS_PROXY?), or a mistyped "
            "server address.",
            fix="Check the connection and the server address, then try again; "
            "`clmwizard doctor --profile NAME` checks reachability.",
            code="unreachable",
        )
    return NetworkError(
        f"The connection to {host} broke before an answer arrived.",
        cause="The network or the server dropped the connection.",
        fix="Try again.",
        code="dropped",
    )


def server_error(status: int, url: str) -> NetworkError:
    host = host_of(url)
    if status == 429:
        return NetworkError(
            f"{host} keeps refusing requests: too many in a short time (HTTP 429).",
            cause="DocuSign limits requests per user and per integration key each hour.",
            fix="Wait a few minutes, then try again.",
            code="http_429",
        )
    return NetworkError(
        f"{host} kept failing (HTTP {status}).",
        cause="The service is having trouble on its side.",
        fix="Wait a few minutes and try again; status.docusign.com lists incidents.",
        code=f"http_{status}",
    )


def malformed_error(url: str, status: int) -> NetworkError:
    return NetworkError(
        f"{host_of(url)} answered with something that is not the expected JSON (HTTP {status}).",
        cause="A proxy, captive portal or maintenance page may have answered instead, or the "
        "server address points at the wrong service.",
        fix="Check the server address and the network, then try again.",
        code="malformed",
    )


def json_body(response: httpx.Response) -> Any:
    """The JSON of a response, or a NetworkError naming the malformed answer."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise malformed_error(str(response.request.url), response.status_code) from None


def rate_limit_reset_seconds(value: str, now: float) -> float | None:
    """Seconds until CLM's `X-RateLimit-Reset` (a date: HTTP-date or ISO 8601; bare epoch
    seconds accepted too), or None when it cannot be read."""
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    text = value.strip()[:64]
    if not text:
        return None
    if text.replace(".", "", 1).isdigit():
        return float(text) - now
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp() - now


def _retry_delay(response: httpx.Response | None, attempt: int) -> float:
    """Backoff, or longer when the server says when to come back: `Retry-After` (seconds) or
    CLM's `X-RateLimit-Reset` (a date); always capped at RETRY_AFTER_CAP."""
    import time

    delay = float(BACKOFF_SECONDS * (2**attempt))
    if response is not None:
        header = response.headers.get("Retry-After", "")
        if header.strip().replace(".", "", 1).isdigit():
            delay = max(delay, float(header))
        reset = rate_limit_reset_seconds(response.headers.get("X-RateLimit-Reset", ""), time.time())
        if reset is not None:
            delay = max(delay, reset)
    return min(delay, RETRY_AFTER_CAP)


async def get_with_retry(
    client: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], attempts: int = 4
) -> httpx.Response:
    """GET `url`, retrying connection errors, timeouts, 429 and 5xx with backoff.

    Returns the response of any other status; raises NetworkError when retries run out.
    """
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            response = await client.get(url, headers=dict(headers))
        except httpx.TransportError as error:
            if last:
                raise transport_error(error, url) from None
            await asyncio.sleep(_retry_delay(None, attempt))
            continue
        if response.status_code == 429 or response.status_code >= 500:
            if last:
                raise server_error(response.status_code, url)
            await asyncio.sleep(_retry_delay(response, attempt))
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover


async def get_json_with_retry(
    client: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], attempts: int = 4
) -> Any:
    """The JSON of a successful GET (with retries); other statuses raise NetworkError."""
    response = await get_with_retry(client, url, headers=headers, attempts=attempts)
    if response.status_code != 200:
        raise NetworkError(
            f"{host_of(url)} refused the request (HTTP {response.status_code}).",
            code=f"http_{response.status_code}",
        )
    return json_body(response)
