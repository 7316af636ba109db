"""The one httpx client factory, bounded reading of every answer, and retries for idempotent GETs.

Every server is untrusted: `send` gives each request a total deadline (httpx's timeouts are per
read, so a server dripping one byte at a time could hold a request forever) and reads at most
MAX_ANSWER_BYTES of the (decoded) body; `json_body` refuses JSON nested deeper than
MAX_JSON_DEPTH. Both end in a NetworkError a person can act on.
"""

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
MAX_ANSWER_BYTES = 1024 * 1024  # OAuth, userinfo and discovery answers are a few kB
MAX_JSON_DEPTH = 32  # DocuSign's answers nest 3 or 4 levels
MIN_DEADLINE = 2.0  # so a busy machine's scheduling alone never ends a fast request
_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


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


def too_large_error(url: str) -> NetworkError:
    return NetworkError(
        f"{host_of(url)} sent an answer larger than {MAX_ANSWER_BYTES // 1024} kB; clmwizard "
        "stopped reading it.",
        cause="DocuSign's answers are a few kB: something else answered (a proxy, a "
        "misconfigured or hostile server), or the server address points at the wrong service.",
        fix="Check the server address and the network, then try again.",
        code="too_large",
    )


def undecodable_error(url: str) -> NetworkError:
    return NetworkError(
        f"{host_of(url)} sent a compressed answer that does not decompress.",
        cause="The answer was damaged on the way (a proxy?) or the server is misbehaving.",
        fix="Try again; if it persists, check the network and the server address.",
        code="bad_encoding",
    )


def deadline_seconds(client: httpx.AsyncClient) -> float | None:
    """The total time one request may take: the connect timeout plus the read timeout (40 s for
    the default 20 s), at least MIN_DEADLINE, whatever the server sends in between; None when
    both are unlimited."""
    parts = [client.timeout.connect, client.timeout.read]
    if all(part is None for part in parts):
        return None
    return max(sum(part or 0.0 for part in parts), MIN_DEADLINE)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline: float | None = None,
    **options: Any,
) -> httpx.Response:
    """One request, within a total deadline, its body read up to MAX_ANSWER_BYTES.

    `options` go to `client.build_request` (headers, data, …) except `auth` and
    `follow_redirects`, which go to `client.send`. `deadline` defaults to
    `deadline_seconds(client)`. Running out of time raises httpx.ReadTimeout (so callers treat
    it like any timeout); a body too large or that does not decompress raises NetworkError.
    The returned response holds the decoded body.
    """
    auth = options.pop("auth", None)
    follow = options.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)
    total = deadline if deadline is not None else deadline_seconds(client)
    request = client.build_request(method, url, **options)
    try:
        async with asyncio.timeout(total):
            response = await client.send(request, auth=auth, stream=True, follow_redirects=follow)
            try:
                body = await _read_capped(response, url)
            finally:
                await response.aclose()
    except TimeoutError:
        raise httpx.ReadTimeout("the total deadline passed", request=request) from None
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=request,
        extensions=response.extensions,
    )


async def _read_capped(response: httpx.Response, url: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise too_large_error(url)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise too_large_error(url)
            chunks.append(chunk)
    except httpx.DecodingError:
        raise undecodable_error(url) from None
    return b"".join(chunks)


def _too_deep(value: Any) -> bool:
    """Whether `value` nests lists and objects deeper than MAX_JSON_DEPTH (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(body: bytes, url: str, status: int) -> Any:
    """The JSON in `body`, or a NetworkError naming the malformed answer.

    Refuses what does not parse, what nests deeper than MAX_JSON_DEPTH (100,000 levels made
    the parser raise RecursionError) and numbers Python cannot hold.
    """
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise malformed_error(url, status) from None
    if _too_deep(value):
        raise malformed_error(url, status)
    return value


def json_body(response: httpx.Response) -> Any:
    """The JSON of a response, or a NetworkError naming the malformed answer."""
    return parse_json(response.content, str(response.request.url), response.status_code)


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
            response = await send(client, "GET", url, headers=dict(headers))
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
