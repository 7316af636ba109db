"""A stand-in for a person at a browser on the emulator's consent page.

`follow_consent(url)` opens the consent URL, presses Accept (or Decline) when the consent page
shows, follows the redirects and delivers the final redirect to the loopback listener waiting at
the redirect URI, as a browser would. Standard library only: it also runs as $BROWSER,

    BROWSER="<python> -m clmwizard.emulator.browser %s"

and then exits 0 once the redirect was delivered, or non-zero with the reason on stderr.
CLMWIZARD_TEST_BROWSER_DECISION=decline makes it press Decline. It never reads stdin.

`follow_consent_link(url)` does the same for a Power Platform consent link (the emulator's
consent service): it follows every hop on this computer — the consent service, DocuSign's
/oauth/auth and consent page, back to the connector's redirect URL — and returns the consent
service's last page. As $BROWSER, a URL whose path is not /oauth/auth is taken for a consent
link; CLMWIZARD_TEST_BROWSER_CA (a PEM file's path, or the PEM itself) is the CA it trusts for
the emulator's TLS origins (the JSON line's power_platform.ca_cert).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urlencode, urljoin, urlsplit

Decision = Literal["accept", "decline"]
_MAX_HOPS = 10


class ConsentError(RuntimeError):
    """The consent flow stopped: an error page, a network failure or an odd answer."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # we follow redirects ourselves, to see every hop


class _PageReader(HTMLParser):
    """Collects the consent form (action, hidden inputs, decision buttons) and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.form_action: str | None = None
        self.form_method = "get"
        self.hidden: dict[str, str] = {}
        self.decisions: set[str] = set()
        self.error_text: list[str] = []
        self.text: list[str] = []
        self._skip = 0
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in ("script", "style", "title", "head"):
            self._skip += 1
        elif tag == "form" and self.form_action is None:
            self.form_action = attributes.get("action", "")
            self.form_method = attributes.get("method", "get").lower()
        elif tag == "input" and attributes.get("type") == "hidden" and "name" in attributes:
            self.hidden[attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and attributes.get("name") == "decision":
            self.decisions.add(attributes.get("value", ""))
        elif {"error-message", "consent-message"} & set(attributes.get("class", "").split()):
            self._in_error = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "head") and self._skip:
            self._skip -= 1
        elif tag == "p":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_error:
            self.error_text.append(data)
        if data.strip():
            self.text.append(" ".join(data.split()))

    def message(self) -> str:
        if self.error_text:
            return " ".join("".join(self.error_text).split())
        return " ".join(self.text)[:500]


def _open(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None, timeout: float
) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("User-Agent", "clmwizard-test-browser")
    response: http.client.HTTPResponse | urllib.error.HTTPError
    try:
        response = opener.open(request, timeout=timeout)
        status = int(response.status or 0)
    except urllib.error.HTTPError as error:
        response, status = error, int(error.code)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ConsentError(f"Could not open {_without_query(url)}: {reason}") from error
    with response:
        body = response.read().decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in response.headers.items()}
    return status, headers, body


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def follow_consent(
    url: str, decision: Decision = "accept", timeout: float = 10.0, *, deliver: bool = True
) -> str:
    """Answer the consent page and deliver the redirect; return the final URL requested.

    With `deliver=False` the redirect to the application is not requested, only returned: what
    a browser on another machine shows in its address bar when nothing listens there (the
    address an SSH user copies back into the wizard)."""
    if decision not in ("accept", "decline"):
        raise ValueError('decision must be "accept" or "decline"')
    opener = urllib.request.build_opener(_NoRedirects)
    server = _origin(url)
    current, data = url, None
    for _ in range(_MAX_HOPS):
        status, headers, body = _open(opener, current, data, timeout)
        data = None
        if _origin(current) != server:
            return current  # the redirect reached the application's listener: done
        if status in (301, 302, 303, 307, 308) and "location" in headers:
            current = urljoin(current, headers["location"])
            if not deliver and _origin(current) != server:
                return current
            if urlsplit(current).scheme not in ("http", "https"):
                return current  # a custom-scheme redirect: the operating system's business
            continue
        page = _PageReader()
        page.feed(body)
        current, data = _decide(page, status, current, decision)
    raise ConsentError(f"Too many redirects starting from {_without_query(url)}.")


def _decide(page: _PageReader, status: int, url: str, decision: str) -> tuple[str, bytes]:
    """Where to send the `decision` on a consent page, and the form to send; an error page or
    one that is no consent page is a ConsentError."""
    if status >= 400:
        raise ConsentError(f"The sign-in page showed an error: {page.message()}")
    if page.form_action is None or decision not in page.decisions:
        raise ConsentError(
            f"The page at {_without_query(url)} was neither a consent page nor a redirect: "
            f"{page.message()}"
        )
    return urljoin(url, page.form_action), urlencode({**page.hidden, "decision": decision}).encode()


@dataclass
class LinkOutcome:
    """Where a consent link's walk ended: the consent service's last page (its status and
    message), or an address off this computer that a real browser would go on to (status 0)."""

    url: str
    status: int
    message: str


def _on_this_computer(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def follow_consent_link(
    url: str,
    decision: Decision = "accept",
    timeout: float = 10.0,
    *,
    ca_cert: str | None = None,
) -> LinkOutcome:
    """Walk a consent link as a browser: the consent service, DocuSign (Accept or Decline on
    its consent page when it shows one), back to the connector's redirect URL. Raises
    ConsentError when DocuSign stops the browser with an error page (e.g. an unregistered
    redirect URL) or a hop fails; the consent service's own error pages are returned."""
    if decision not in ("accept", "decline"):
        raise ValueError('decision must be "accept" or "decline"')
    context = ssl.create_default_context(cadata=ca_cert) if ca_cert else None
    opener = urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))
    service = _origin(url)
    current, data = url, None
    came_back = False  # the consent service had the browser back from DocuSign
    for _ in range(_MAX_HOPS):
        if not _on_this_computer(current):
            return LinkOutcome(current, 0, "")  # a real browser would go on; this one stays here
        came_back = came_back or (_origin(current) == service and current != url)
        status, headers, body = _open(opener, current, data, timeout)
        data = None
        if status in (301, 302, 303, 307, 308) and "location" in headers:
            current = urljoin(current, headers["location"])
            if urlsplit(current).scheme not in ("http", "https"):
                return LinkOutcome(current, 0, "")
            continue
        page = _PageReader()
        page.feed(body)
        if _origin(current) == service or came_back:  # its own page, or where it sent us
            return LinkOutcome(current, status, page.message())
        current, data = _decide(page, status, current, decision)
    raise ConsentError(f"Too many redirects starting from {_without_query(url)}.")


def _ca_from_environment() -> str | None:
    value = os.environ.get("CLMWIZARD_TEST_BROWSER_CA", "").strip()
    if not value:
        return None
    if value.startswith("-----BEGIN"):
        return value
    with open(value, encoding="ascii") as handle:
        return handle.read()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m clmwizard.emulator.browser URL\n")
        return 2
    choice = os.environ.get("CLMWIZARD_TEST_BROWSER_DECISION", "accept").strip().lower()
    if choice not in ("accept", "decline"):
        sys.stderr.write("CLMWIZARD_TEST_BROWSER_DECISION must be accept or decline\n")
        return 2
    decision: Decision = "decline" if choice == "decline" else "accept"
    try:
        if urlsplit(args[0]).path.rstrip("/").endswith("/oauth/auth"):
            follow_consent(args[0], decision)
            return 0
        outcome = follow_consent_link(args[0], decision, ca_cert=_ca_from_environment())
        if outcome.status >= 400:
            sys.stderr.write(f"test browser: {outcome.message}\n")
            return 1
    except (ConsentError, OSError, ssl.SSLError) as error:
        sys.stderr.write(f"test browser: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
