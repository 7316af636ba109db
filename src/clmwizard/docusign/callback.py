"""The loopback listener that catches DocuSign's redirect after consent (RFC 8252 §7.3)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import html
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from clmwizard.docusign.codes import note_received
from clmwizard.docusign.consent import ConsentDeclined, code_from_params, code_from_pasted
from clmwizard.docusign.environments import is_loopback_host, web_address_parts
from clmwizard.errors import ClmWizardError, UsageError

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
POWER_AUTOMATE_NOTE = (
    "Power Automate's own redirect URL (https://global.consent.azure-apim.net/redirect/…) is a "
    "different thing: the connector shows it after you save it, and you register it on the "
    "integration key separately."
)
_MAX_REQUEST = 16 * 1024
# A browser keeps idle connections open (pre-connects, keep-alive); a hostile local process may
# open hundreds. At most this many are held; a new one closes the oldest still idle, so the real
# callback always gets in, and an idle one is closed once its request head is this late.
MAX_CONNECTIONS = 32
HEAD_TIMEOUT = 5.0
BACKLOG = 64  # asyncio accepts up to this many at once before any is closed: bounds the fds


def parse_redirect_uri(uri: str) -> tuple[str, int, str]:
    """(host, port, path) of a loopback http redirect URI, or a UsageError saying why not."""
    value = uri.strip()
    parts = web_address_parts(
        value,
        refusal=f"The redirect URI {value!r} is not a valid address.",
        fix=f"Use a loopback address such as {DEFAULT_REDIRECT_URI}.",
        field="redirect_uri",
    )
    if parts.scheme == "https":
        raise UsageError(
            f"The redirect URI {value} uses https.",
            cause="clmwizard catches the redirect with a small listener on this computer, "
            "which speaks plain http (browsers allow that on loopback addresses only).",
            fix="Register and use a loopback address such as "
            f"{DEFAULT_REDIRECT_URI}. {POWER_AUTOMATE_NOTE}",
            field="redirect_uri",
        )
    if parts.scheme != "http" or not parts.hostname:
        raise UsageError(
            f"The redirect URI {value!r} is not an http address.",
            fix=f"Use a loopback address such as {DEFAULT_REDIRECT_URI}.",
            field="redirect_uri",
        )
    if not is_loopback_host(parts.hostname):
        raise UsageError(
            f"The redirect URI {value} does not point at this computer.",
            cause="clmwizard can only catch the redirect on a loopback address "
            "(127.0.0.1, ::1 or localhost).",
            fix=f"Register and use e.g. {DEFAULT_REDIRECT_URI}. {POWER_AUTOMATE_NOTE}",
            field="redirect_uri",
        )
    if parts.query or parts.fragment:
        raise UsageError(
            f"The redirect URI {value} has a query or fragment.",
            fix=f"Use a plain address such as {DEFAULT_REDIRECT_URI}.",
            field="redirect_uri",
        )
    return parts.hostname, parts.port or 80, parts.path or "/"


def free_loopback_port(host: str = "127.0.0.1", near: int | None = None) -> int:
    """A port free on `host` right now: one of the next few after `near` (easier to register
    and remember), else one the system picks. Best effort: another program may take it later."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bind_host = "127.0.0.1" if host.lower() == "localhost" else host
    candidates = [p for p in range(near + 1, near + 21) if 1024 < p < 65536] if near else []
    for candidate in [*candidates, 0]:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((bind_host, candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise ClmWizardError(
        f"No free port on {host}.",
        fix="Stop a program that listens on a loopback port, then try again.",
        field="redirect_uri",
    )


def with_port(redirect_uri: str, port: int) -> str:
    """`redirect_uri` (a loopback http address) moved to `port`, same host and path."""
    host, _, path = parse_redirect_uri(redirect_uri)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


def _port_owner(port: int) -> str | None:
    """Best effort (Linux, own processes): 'name (pid N)' of the process listening on `port`."""
    if not sys.platform.startswith("linux"):
        return None  # no /proc: `_find_owner_hint` tells the user how to look instead
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if (
                    len(fields) > 9
                    and fields[3] == "0A"
                    and int(fields[1].rsplit(":", 1)[1], 16) == port
                ):
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    name = (entry / "comm").read_text().strip()
                    return f"{name} (pid {entry.name})"
    return None


def _find_owner_hint(port: int) -> str:
    """How to find the program on `port` where clmwizard cannot look itself."""
    if sys.platform == "win32":
        return f" To find it: `netstat -ano | findstr :{port}` shows its process id."
    if sys.platform.startswith("linux"):
        return ""
    return f" To find it: `lsof -nP -iTCP:{port} -sTCP:LISTEN`."


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>clmwizard</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;"
        "line-height:1.5}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    ).encode()


_SUCCESS = _page(
    "Signed in",
    "DocuSign sent the authorization back to clmwizard. You can close this tab and return "
    "to the terminal.",
)
_DONE = _page("Already done", "clmwizard already has its answer. Return to the terminal.")


class CallbackListener:
    """Waits for exactly one valid redirect (or a pasted one) carrying the expected state."""

    def __init__(
        self,
        redirect_uri: str,
        expected_state: str,
        *,
        port_owner: Callable[[int], str | None] | None = None,
    ) -> None:
        self.redirect_uri = redirect_uri
        # Who listens on a busy port (a seam for tests: the default reads /proc).
        self._port_owner = port_owner or _port_owner
        self.host, self.port, self.path = parse_redirect_uri(redirect_uri)
        self.expected_state = expected_state
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._future: asyncio.Future[str] | None = None
        # Open connections, oldest first; True while the request head has not arrived.
        self._connections: dict[asyncio.StreamWriter, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CallbackListener:
        self._loop = asyncio.get_running_loop()
        self._future = self._loop.create_future()
        hosts: str | list[str] = self.host
        if self.host.lower() == "localhost":
            hosts = ["127.0.0.1", "::1"]
        try:
            try:
                self._server = await asyncio.start_server(
                    self._handle, hosts, self.port, backlog=BACKLOG
                )
            except OSError as error:
                if isinstance(hosts, list) and error.errno == errno.EADDRNOTAVAIL:
                    self._server = await asyncio.start_server(
                        self._handle, "127.0.0.1", self.port, backlog=BACKLOG
                    )
                else:
                    raise
        except OSError as error:
            raise self._bind_error(error) from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):  # idle ones would outlive the listener
                writer.transport.abort()
            self._connections.clear()
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=2.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        if self._future is not None and not self._future.done():
            self._future.cancel()

    @property
    def listening_on(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def _bind_error(self, error: OSError) -> ClmWizardError:
        if error.errno == errno.EADDRINUSE:
            owner = self._port_owner(self.port)
            who = f"{owner} is" if owner else "Another program is"
            return ClmWizardError(
                f"Port {self.port} on {self.host} is already in use, so clmwizard cannot catch "
                "DocuSign's redirect there.",
                cause=f"{who} listening on it (another clmwizard sign-in, or the emulator?)."
                + ("" if owner else _find_owner_hint(self.port)),
                fix="Stop that program, or register another loopback redirect URI on the "
                "integration key (e.g. "
                f"http://127.0.0.1:{self.port + 1}/callback) and use it with --redirect-uri.",
                field="redirect_uri",
                code="port_in_use",
                wizard_fix="Stop that program and press r to listen again, or press p to move "
                "to a free port (you then register that new redirect URI on the integration "
                "key).",
            )
        if error.errno in (errno.EACCES, errno.EPERM):
            return ClmWizardError(
                f"Port {self.port} needs administrator rights.",
                fix="Register a redirect URI with a port above 1024, e.g. "
                f"{DEFAULT_REDIRECT_URI}, and use it with --redirect-uri.",
                field="redirect_uri",
                code="port_denied",
                wizard_fix="Press p to move to a free port above 1024 (you then register that "
                "new redirect URI on the integration key).",
            )
        return ClmWizardError(
            f"Cannot listen on {self.listening_on} for DocuSign's redirect ({error.strerror}).",
            fix=f"Use another loopback redirect URI, e.g. {DEFAULT_REDIRECT_URI}.",
            field="redirect_uri",
            wizard_fix="Press p to move to a free loopback port (you then register that new "
            "redirect URI on the integration key), or press r to try again.",
        )

    def _finish(self, code: str | None = None, error: BaseException | None = None) -> None:
        future = self._future
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        elif code is not None:
            future.set_result(code)

    def deliver_pasted(self, text: str) -> None:
        """Feed a pasted redirected URL or code; safe from any thread. A bad paste raises."""
        if self._loop is None:
            raise RuntimeError("the listener is not running")
        try:
            code = code_from_pasted(text, self.expected_state)
        except ConsentDeclined as declined:
            self._loop.call_soon_threadsafe(self._finish, None, declined)
            return
        self._loop.call_soon_threadsafe(self._finish, code, None)

    async def wait(self, timeout: float = 300.0) -> str:
        """The authorization code, once the browser (or a paste) delivers it."""
        if self._future is None:
            raise RuntimeError("the listener is not running")
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            raise self._timeout_error(timeout) from None

    def _timeout_error(self, timeout: float) -> ClmWizardError:
        span = f"{timeout / 60:g} minutes" if timeout >= 60 else f"{timeout:g} seconds"
        return ClmWizardError(
            f"DocuSign did not send you back within {span}.",
            cause="Likely causes: the redirect URI "
            f"{self.redirect_uri} is not registered on the integration key (DocuSign then shows "
            "its own error page, 'The redirect URI is not registered properly', and never "
            "sends you back); the key belongs to the other environment (demo or production); "
            "or the browser never opened the consent URL.",
            fix="Check Apps and Keys → your key → Redirect URIs, then sign in again; on a "
            "machine without a browser, open the URL elsewhere and paste the address it "
            "ends on.",
            wizard_fix="Check Apps and Keys → your key → Redirect URIs, then press r to listen "
            "again; on a machine without a browser, press u to copy the URL, open it "
            "elsewhere and paste the address it ends on here.",
            field="redirect_uri",
            code="timeout",
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection. Whatever happens to it ends here, never as a traceback on stderr."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._admit(writer)
        try:
            await self._serve(reader, writer)
        except (Exception, asyncio.CancelledError):  # a reset, an abort, the listener closing
            writer.transport.abort()
        finally:
            self._connections.pop(writer, None)

    def _admit(self, writer: asyncio.StreamWriter) -> None:
        """Hold at most MAX_CONNECTIONS: make room by closing the oldest idle one."""
        while len(self._connections) >= MAX_CONNECTIONS:
            idle = [held for held, waiting in self._connections.items() if waiting]
            victim = idle[0] if idle else next(iter(self._connections))
            del self._connections[victim]
            victim.transport.abort()
        self._connections[writer] = True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            writer.transport.abort()
            return
        if writer in self._connections:
            self._connections[writer] = False
        if len(head) > _MAX_REQUEST:
            await self._respond(writer, 431, _page("Request too large", ""))
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or parts[0] not in ("GET", "HEAD"):
            await self._respond(writer, 405, _page("Not supported", "Only GET is answered here."))
            return
        try:
            target = urlsplit(parts[1])
        except ValueError:  # e.g. a broken IPv6 literal in an absolute target
            await self._respond(writer, 400, _page("Bad request", "The address is malformed."))
            return
        if target.path != self.path:
            await self._respond(writer, 404, _page("Not found", "Nothing here."))
            return
        if self._future is None or self._future.done():
            await self._respond(writer, 200, _DONE)
            return
        params = {k: v[-1] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
        try:
            code = code_from_params(params, self.expected_state, require_state=True)
        except ConsentDeclined as declined:
            self._finish(error=declined)
            await self._respond(writer, 200, _page("Consent declined", declined.what))
            return
        except ClmWizardError as wrong:
            # Not ours (another attempt, a stale tab, someone else's link): answer and keep waiting.
            await self._respond(writer, 400, _page("Not this sign-in", wrong.what))
            return
        if code is None:
            await self._respond(
                writer, 400, _page("No code", "This address carries no authorization code.")
            )
            return
        note_received(code)  # a pasted code is not noted: when DocuSign issued it is unknown
        self._finish(code=code)
        await self._respond(writer, 200, _SUCCESS)

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
        head = (
            f"HTTP/1.1 {status} {reason.get(status, 'Error')}\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        ).encode()
        with contextlib.suppress(OSError):
            writer.write(head + body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
