"""The one HTTP layer: client creation, bounded reading of every answer, one retry policy.

Every server is untrusted. `send` gives each request a total deadline (httpx's timeouts are per
read, so a server dripping one byte at a time could hold a request forever) and reads at most
`max_bytes` of the decoded body; `parse_json` refuses JSON nested deeper than MAX_JSON_DEPTH.
Both end in a NetworkError naming the service and what was wrong. DocuSign, the Power Apps API
and the Microsoft sign-in (MSAL, through `MsalHttpClient`) all go through here; no other module
builds an httpx client.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx

from clmwizard import __version__
from clmwizard.errors import NetworkError, UsageError

if TYPE_CHECKING:
    import ssl

USER_AGENT = f"clmwizard/{__version__}"
BACKOFF_SECONDS = 0.5  # first retry delay, doubled each time
RETRY_AFTER_CAP = 10.0  # never wait longer than this for a Retry-After
MAX_ANSWER_BYTES = 1024 * 1024  # OAuth, userinfo, discovery and token answers are a few kB
MAX_JSON_DEPTH = 32  # DocuSign's and Microsoft's answers nest a few levels
MIN_DEADLINE = 2.0  # so a busy machine's scheduling alone never ends a fast request
ATTEMPTS = 4
DOCUSIGN_TIMEOUT = 20.0  # per connect and per read
MICROSOFT_TIMEOUT = 30.0
_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


# What the app and the CLI are built with: make_client, or a test's factory whose client
# carries an httpx.MockTransport or shorter timeouts. Called as factory() or with make_client's
# keyword options (timeout=s; ca_bundle=… for the Microsoft side).
ClientFactory = Callable[..., httpx.AsyncClient]


def make_client(
    *,
    timeout: float | None = None,
    verify: ssl.SSLContext | bool | None = None,
    ca_bundle: str | Literal[False] | None = False,
) -> httpx.AsyncClient:
    """An AsyncClient with timeouts and clmwizard's user agent; it follows no redirect and logs
    nothing. With `ca_bundle` (a path, PEM text, or None) it is the Microsoft side's: the
    system's trust store plus that bundle (so MSAL never reads REQUESTS_CA_BUNDLE), 30 s."""
    microsoft = ca_bundle is not False
    if verify is None:
        verify = ssl_context(ca_bundle) if ca_bundle is not False else _default_context()
    default = MICROSOFT_TIMEOUT if microsoft else DOCUSIGN_TIMEOUT
    return httpx.AsyncClient(
        timeout=httpx.Timeout(default if timeout is None else timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=verify,
    )


def _default_context() -> ssl.SSLContext:
    """httpx's own default (what verify=True builds), made once: loading a trust store costs
    tens of milliseconds, and every network step makes a client."""
    if (context := _contexts.get(None)) is None:
        context = _contexts[None] = httpx.create_ssl_context()
    return context


# Built trust stores, by bundle (its text, or its path with the file's size and time, so a
# replaced file is read again). An SSLContext is made to be shared between connections.
_contexts: dict[object, ssl.SSLContext] = {}


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's trust store, plus `ca_bundle` when given: a PEM file, or PEM text itself
    (what `clmwizard emulator` prints as `power_platform.ca_cert`)."""
    key = _bundle_key(ca_bundle)
    if (cached := _contexts.get(key)) is not None:
        return cached
    context = _contexts[key] = _load_context(ca_bundle)
    return context


def _bundle_key(ca_bundle: str | None) -> object:
    if not ca_bundle or ca_bundle.lstrip().startswith("-----BEGIN"):
        return ("text", ca_bundle)
    try:
        stat = os.stat(ca_bundle)
    except OSError:
        return ("unreadable", ca_bundle)  # its load fails with the reason, so it is never stored
    return ("file", ca_bundle, stat.st_size, stat.st_mtime_ns)


def _load_context(ca_bundle: str | None) -> ssl.SSLContext:
    import ssl

    context = ssl.create_default_context()
    if ca_bundle:
        try:
            if ca_bundle.lstrip().startswith("-----BEGIN"):
                context.load_verify_locations(cadata=ca_bundle)
            else:
                context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            raise UsageError(
                f"Could not read the CA bundle {ca_bundle}.",
                cause=f"{str(error)[:200]}.",
                fix="Point CLMWIZARD_CA_BUNDLE at a readable PEM file (or set it to the PEM "
                "text), or unset it.",
                field="ca_bundle",
            ) from None
    return context


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def _named(url: str, service: str | None) -> str:
    return f"{service} ({host_of(url)})" if service else host_of(url)


def transport_error(
    error: httpx.TransportError, url: str, *, sent: bool = False, service: str | None = None
) -> NetworkError:
    """Plain words for a connection failure, timeout or dropped connection."""
    host = _named(url, service)
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
    """DocuSign's 429 or 5xx after the retries ran out."""
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


def malformed_error(url: str, status: int, *, service: str | None = None) -> NetworkError:
    return NetworkError(
        f"{_named(url, service)} answered with something that is not the expected JSON "
        f"(HTTP {status}).",
        cause="A proxy, captive portal or maintenance page may have answered instead, or the "
        "server address points at the wrong service.",
        fix="Check the server address and the network, then try again.",
        code="malformed",
    )


def redirected_error(url: str, status: int, *, service: str | None = None) -> NetworkError:
    """A 3xx where an API answers: clmwizard follows no redirect."""
    return NetworkError(
        f"{_named(url, service)} answered with a redirect (HTTP {status}) instead of JSON.",
        cause="A captive portal, a proxy's login page or a wrong server address sent the request "
        "elsewhere; clmwizard follows no redirect.",
        fix="Check the network (sign in to a captive portal first) and the server address, then "
        "try again.",
        code="malformed",
    )


def too_large_error(
    url: str, max_bytes: int = MAX_ANSWER_BYTES, *, service: str | None = None
) -> NetworkError:
    return NetworkError(
        f"{_named(url, service)} sent an answer larger than {max_bytes // 1024} kB; clmwizard "
        "stopped reading it.",
        cause=f"{service or 'DocuSign'}'s answers are far smaller: something else answered (a "
        "proxy, a misconfigured or hostile server), or the server address points at the wrong "
        "service.",
        fix="Check the server address and the network, then try again.",
        code="too_large",
    )


def undecodable_error(url: str, *, service: str | None = None) -> NetworkError:
    return NetworkError(
        f"{_named(url, service)} sent a compressed answer that does not decompress.",
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


def worst_case_seconds(
    client: httpx.AsyncClient, attempts: int = ATTEMPTS, *, waits: bool = True
) -> float | None:
    """The longest `attempts` requests with `client` can take: each to its deadline, and (when
    `waits`, as `send_with_retry` does) the longest wait between them (RETRY_AFTER_CAP). What a
    wait's clock shows as its limit; None when the client has no deadline."""
    per_request = deadline_seconds(client)
    if per_request is None:
        return None
    between = RETRY_AFTER_CAP * (attempts - 1) if waits else 0.0
    return per_request * attempts + between


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline: float | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
    service: str | None = None,
    **options: Any,
) -> httpx.Response:
    """One request, within a total deadline, its body read up to `max_bytes`.

    `options` go to `client.build_request` (headers, data, …) except `auth` and
    `follow_redirects`, which go to `client.send`. `deadline` defaults to
    `deadline_seconds(client)`. Running out of time raises httpx.ReadTimeout (so callers treat
    it like any timeout); a body too large or that does not decompress raises NetworkError
    naming `service`. The response holds the decoded body.
    """
    auth = options.pop("auth", None)
    follow = options.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)
    total = deadline if deadline is not None else deadline_seconds(client)
    request = client.build_request(method, url, **options)
    try:
        async with asyncio.timeout(total):
            response = await client.send(request, auth=auth, stream=True, follow_redirects=follow)
            try:
                body = await _read_capped(response, url, max_bytes, service)
            finally:
                await response.aclose()
    except TimeoutError:
        raise httpx.ReadTimeout("the total deadline passed", request=request) from None
    except httpx.DecodingError:  # a transport that decodes before handing the answer over
        raise undecodable_error(url, service=service) from None
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=request,
        extensions=response.extensions,
    )


async def send_once_connected(
    client: httpx.AsyncClient, method: str, url: str, *, attempts: int = 2, **options: Any
) -> httpx.Response:
    """`send`, again (up to `attempts` in all) only when the connection never opened: nothing
    reached the server, so even a single-use code may go again. Every other failure raises."""
    for _ in range(attempts - 1):
        try:
            return await send(client, method, url, **options)
        except httpx.ConnectError:
            continue
    return await send(client, method, url, **options)


async def _read_capped(
    response: httpx.Response, url: str, max_bytes: int, service: str | None
) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large_error(url, max_bytes, service=service)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise too_large_error(url, max_bytes, service=service)
            chunks.append(chunk)
    except httpx.DecodingError:
        raise undecodable_error(url, service=service) from None
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


def parse_json(body: bytes | str, url: str, status: int, *, service: str | None = None) -> Any:
    """The JSON in `body`, or a NetworkError naming the malformed answer.

    Refuses what does not parse, what nests deeper than MAX_JSON_DEPTH (100,000 levels made
    the parser raise RecursionError) and numbers Python cannot hold.
    """
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise malformed_error(url, status, service=service) from None
    if _too_deep(value):
        raise malformed_error(url, status, service=service)
    return value


def json_body(response: httpx.Response, *, service: str | None = None) -> Any:
    """The JSON of a response, or a NetworkError naming the malformed answer."""
    return parse_json(
        response.content, str(response.request.url), response.status_code, service=service
    )


def error_json(response: httpx.Response) -> Any:
    """The JSON of a refusal, or None when its body is not JSON (a proxy's page, nothing)."""
    try:
        return json_body(response)
    except NetworkError:
        return None


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


def retry_delay(
    response: httpx.Response | None,
    attempt: int,
    *,
    backoff: float | None = None,
    cap: float | None = None,
) -> float:
    """Backoff (BACKOFF_SECONDS doubled per attempt), or longer when the server says when to
    come back: `Retry-After` (seconds) or `X-RateLimit-Reset` (a date); always capped (at
    RETRY_AFTER_CAP unless `cap` is given)."""
    import time

    delay = float((BACKOFF_SECONDS if backoff is None else backoff) * (2**attempt))
    if response is not None:
        header = response.headers.get("Retry-After", "")
        if header.strip().replace(".", "", 1).isdigit():
            delay = max(delay, float(header))
        reset = rate_limit_reset_seconds(response.headers.get("X-RateLimit-Reset", ""), time.time())
        if reset is not None:
            delay = max(delay, reset)
    return float(min(delay, RETRY_AFTER_CAP if cap is None else cap))


async def send_with_retry(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    attempts: int = ATTEMPTS,
    retry_server_errors: bool = True,
    backoff: float | None = None,
    cap: float | None = None,
    service: str | None = None,
    **options: Any,
) -> httpx.Response:
    """`send`, retrying connection errors, timeouts, 429 and (unless `retry_server_errors` is
    False: a request that may have taken effect) 5xx, waiting `retry_delay` in between.

    Returns the last response, whatever its status; a transport failure that outlasts the
    retries raises NetworkError. `options` go to `send`.
    """
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            response = await send(client, method, url, service=service, **options)
        except httpx.TransportError as error:
            if last or not retry_server_errors:
                raise transport_error(error, url, service=service) from None
            await asyncio.sleep(retry_delay(None, attempt, backoff=backoff, cap=cap))
            continue
        status = response.status_code
        if not last and (status == 429 or (status >= 500 and retry_server_errors)):
            await asyncio.sleep(retry_delay(response, attempt, backoff=backoff, cap=cap))
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def bearer(access_token: str) -> dict[str, str]:
    """The headers of a JSON request made with `access_token`."""
    return {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}


async def get_with_retry(
    client: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], attempts: int = ATTEMPTS
) -> httpx.Response:
    """GET `url` from DocuSign with retries; 429 and 5xx that outlast them raise NetworkError."""
    response = await send_with_retry(client, "GET", url, attempts=attempts, headers=dict(headers))
    if response.status_code == 429 or response.status_code >= 500:
        raise server_error(response.status_code, url)
    return response


async def get_json_with_retry(
    client: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], attempts: int = ATTEMPTS
) -> Any:
    """The JSON of a successful GET (with retries); other statuses raise NetworkError."""
    response = await get_with_retry(client, url, headers=headers, attempts=attempts)
    if response.status_code != 200:
        raise NetworkError(
            f"{host_of(url)} refused the request (HTTP {response.status_code}).",
            code=f"http_{response.status_code}",
        )
    return json_body(response)
