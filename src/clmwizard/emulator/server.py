"""The emulator's sockets: one threaded stdlib HTTP server per origin, all in daemon threads."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from clmwizard.emulator import clm, oauth
from clmwizard.emulator.faults import (
    DOCUSIGN_ORIGINS,
    ORIGINS,
    POWER_PLATFORM_ORIGINS,
    Fault,
    FaultTable,
)
from clmwizard.emulator.http_types import Request, Response, json_response
from clmwizard.emulator.state import (
    DEFAULT_REDIRECT_URI,
    Account,
    AuthState,
    Clock,
    User,
    new_guid,
)
from clmwizard.errors import UsageError

if TYPE_CHECKING:
    from clmwizard.emulator.powerplatform.service import PowerPlatform

RequestListener = Callable[[str, str, str, int], None]  # origin, method, path, status (0: dropped)

_MAX_BODY = 64 * 1024 * 1024


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _OriginServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        host: str,
        port: int,
        emulator: Emulator,
        origin: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.emulator = emulator
        self.origin = origin
        self.tls = tls
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        if self.tls is not None:  # the handshake runs in the handler's thread (setup)
            connection = self.tls.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # TLS refusals and hang-ups are normal
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_connections = list(self.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "clmwizard-docusign-emulator"
    sys_version = ""
    timeout = 30  # idle keep-alive connections close after this many seconds
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _OriginServer

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def _dispatch(self) -> None:
        self.server.emulator._serve(self.server.origin, self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the emulator clock, as a client comparing clocks would see it.
        when = timestamp if timestamp is not None else self.server.emulator.clock_now()
        return super().date_time_string(when)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the emulator reports requests through its own listener, without query strings


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        total = 0
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            total += size
            if total > _MAX_BODY:
                raise ValueError("body too large")
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    if length > _MAX_BODY:
        raise ValueError("body too large")
    return handler.rfile.read(length) if length > 0 else b""


class Emulator:
    """A local DocuSign account server plus CLM discovery and three CLM hosts, and (unless
    `power_platform=False`) a local Power Platform over TLS: `emu.power_platform`.

    Use as a context manager, or call `start()` and `stop()`. See the package docstring.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        auto_consent: bool = False,
        redirect_uris: Iterable[str] = (),
        accounts: int = 1,
        on_request: RequestListener | None = None,
        power_platform: bool = True,
        auto_register_redirects: bool = False,
    ) -> None:
        if not is_loopback(host):
            raise UsageError(
                f"The emulator only listens on this computer, not on {host}.",
                cause="It hands out test secrets to anyone who can reach it.",
                fix="Use --host 127.0.0.1 (the default), ::1 or localhost.",
                field="host",
            )
        if accounts < 1:
            raise UsageError("The emulated user needs at least one account.", field="accounts")
        self.host = host
        self._port = port
        self._accounts_wanted = accounts
        self._extra_redirect_uris = list(redirect_uris)
        self._auto_consent = auto_consent
        self._on_request = on_request
        self._servers: dict[str, _OriginServer] = {}
        self._threads: list[threading.Thread] = []
        self._faults = FaultTable()
        self._log: list[tuple[str, str, str]] = []
        self._log_lock = threading.Lock()
        self._state: AuthState | None = None
        self._clm: clm.ClmService | None = None
        self._power_platform_wanted = power_platform
        self._auto_register_redirects = auto_register_redirects
        self._pp: Any = None  # powerplatform.service.PowerPlatform, imported when started

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._servers:
            return self
        tls = None
        if self._power_platform_wanted:
            from clmwizard.emulator.powerplatform.service import STORAGE_ACCOUNT
            from clmwizard.emulator.powerplatform.tls import make_tls

            material = make_tls([f"{STORAGE_ACCOUNT}.blob.localhost"])
            tls = material.server_context()
        try:
            for origin in ORIGINS if tls is not None else DOCUSIGN_ORIGINS:
                port = self._port if origin == "auth" else 0
                context = tls if origin in POWER_PLATFORM_ORIGINS else None
                self._servers[origin] = _OriginServer(self.host, port, self, origin, context)
        except OSError as error:
            self._close_servers()
            raise UsageError(
                f"The emulator could not listen on {self.host} port {self._port}.",
                cause=str(error),
                fix="Choose another --port, or 0 for any free port.",
                field="port",
            ) from error
        self._state = self._new_state()
        if tls is not None:
            from clmwizard.emulator.powerplatform.service import PowerPlatform

            self._pp = PowerPlatform(
                self._state.clock,
                {origin: self._origin(origin) for origin in POWER_PLATFORM_ORIGINS},
                material.ca_pem,
                register_redirect=self.register_redirect_uri,
            )
            self._pp.auto_register_redirects = self._auto_register_redirects
        self._clm = clm.ClmService(
            self._state,
            clm_hosts=self.clm_hosts,
            web_origin=self.clm_hosts["general"],
        )
        for origin, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"docusign-emulator-{origin}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        servers = list(self._servers.values())
        stoppers = [threading.Thread(target=s.shutdown, daemon=True) for s in servers]
        for stopper in stoppers:
            stopper.start()
        for server in servers:  # a connection wakes serve_forever now instead of at its next poll
            with (
                contextlib.suppress(OSError),
                socket.create_connection(
                    (str(server.server_address[0]), int(server.server_address[1])), timeout=0.5
                ),
            ):
                pass
        for stopper in stoppers:
            stopper.join(5)
        self._close_servers()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()

    def _close_servers(self) -> None:
        for server in self._servers.values():
            server.server_close()
            server.close_connections()
        self._servers.clear()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _origin(self, name: str) -> str:
        if name not in self._servers:
            raise RuntimeError("The emulator is not running: call start() first.")
        port = self._servers[name].server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._servers[name].tls is not None else "http"
        return f"{scheme}://{host}:{port}"

    def _new_state(self) -> AuthState:
        auth = self._origin("auth")
        accounts = [
            Account(
                account_id=new_guid(),
                account_name="Northwind Traders" if i == 0 else f"Northwind Traders Sandbox {i}",
                is_default=i == 0,
                base_uri=auth,
                organization_id=new_guid() if i == 0 else None,
            )
            for i in range(self._accounts_wanted)
        ]
        if len(accounts) > 1:  # the default listed second: clients must not take the first
            accounts[0], accounts[1] = accounts[1], accounts[0]
        uris = [DEFAULT_REDIRECT_URI]
        uris += [u for u in self._extra_redirect_uris if u not in uris]
        return AuthState(
            clock=Clock(),
            user=User(
                user_id=new_guid(),
                email="alex.morgan@example.com",
                name="Alex Morgan",
                given_name="Alex",
                family_name="Morgan",
                created="2021-06-14T09:21:07.377",
            ),
            accounts=accounts,
            integration_key=new_guid(),
            secret_key=new_guid(),
            spare_secret_key=new_guid(),
            redirect_uris=uris,
            auto_consent=self._auto_consent,
        )

    @property
    def state(self) -> AuthState:
        if self._state is None:
            raise RuntimeError("The emulator is not running: call start() first.")
        return self._state

    # -- what clients need ------------------------------------------------------------------

    @property
    def auth_server(self) -> str:
        return self._origin("auth")

    @property
    def clm_auth_server(self) -> str:
        return self._origin("clm_auth")

    @property
    def clm_hosts(self) -> dict[str, str]:
        return {name: self._origin(name) for name in ("general", "upload", "download")}

    @property
    def integration_key(self) -> str:
        return self.state.integration_key

    @property
    def secret_key(self) -> str:
        return self.state.secret_key

    @property
    def spare_secret_key(self) -> str:
        return self.state.spare_secret_key

    @property
    def redirect_uris(self) -> list[str]:
        with self.state.lock:
            return list(self.state.redirect_uris)

    @property
    def user_email(self) -> str:
        return self.state.user.email

    @property
    def user_id(self) -> str:
        return self.state.user.user_id

    @property
    def user_name(self) -> str:
        return self.state.user.name

    @property
    def account_id(self) -> str:
        return next(a.account_id for a in self.state.accounts if a.is_default)

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return [
            {
                "account_id": a.account_id,
                "account_name": a.account_name,
                "is_default": a.is_default,
                "base_uri": a.base_uri,
            }
            for a in self.state.accounts
        ]

    @property
    def jwt_private_key(self) -> str:
        """The PEM test value whose public half this emulator trusts for its integration key."""
        return self.state.jwt.private_pem

    def info(self) -> dict[str, Any]:
        return {
            "auth_server": self.auth_server,
            "clm_auth_server": self.clm_auth_server,
            "integration_key": self.integration_key,
            "secret_key": self.secret_key,
            "spare_secret_key": self.spare_secret_key,
            "redirect_uris": self.redirect_uris,
            "user_email": self.user_email,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "account_id": self.account_id,
            "accounts": self.accounts,
            "clm_hosts": self.clm_hosts,
            "jwt_private_key": self.jwt_private_key,
            **({"power_platform": self._pp.info()} if self._pp is not None else {}),
        }

    # -- test controls ------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> None:
        """Move the clock; with the Power Platform on, scheduled flows fire on the way."""
        if self._pp is not None:
            self._pp.advance_clock(seconds)
        else:
            self.state.clock.advance(seconds)

    def now(self) -> float:
        """The emulator clock (epoch seconds)."""
        return self.state.clock.now()

    def revoke_consent(self) -> None:
        with self.state.lock:
            self.state.revoke_consent()

    def grant_jwt_consent(self, scopes: Iterable[str] = ("signature",)) -> None:
        """As if the user had consented to `scopes` plus `impersonation` on the consent page."""
        with self.state.lock:
            wanted = frozenset(scopes) | {"impersonation"}
            self.state.remember_consent(self.state.integration_key, wanted)

    def revoke_jwt_consent(self) -> None:
        with self.state.lock:
            self.state.revoke_jwt_consent()

    def clock_now(self) -> float:
        return self._state.clock.now() if self._state is not None else time.time()

    def revoke_secret(self, which: str) -> None:
        if which not in ("secret_key", "spare_secret_key"):
            raise ValueError('which must be "secret_key" or "spare_secret_key"')
        with self.state.lock:
            self.state.revoked_secrets.add(getattr(self.state, which))

    def configure_app(self, **changes: Any) -> dict[str, Any]:
        """Change the integration key's app settings (see `AppSettings`); returns them all."""
        with self.state.lock:
            settings = dataclasses.replace(self.state.app, **changes)
            self.state.app = settings
            return dataclasses.asdict(settings)

    def register_redirect_uri(self, uri: str) -> None:
        with self.state.lock:
            if uri not in self.state.redirect_uris:
                self.state.redirect_uris.append(uri)

    def clear_redirect_uris(self) -> None:
        """Leave the integration key with no redirect URI at all (a fresh key's state)."""
        with self.state.lock:
            self.state.redirect_uris.clear()

    def inject_fault(
        self,
        origin: str,
        path_prefix: str,
        *,
        status: int | None = None,
        count: int = 1,
        latency: float = 0.0,
        drop: bool = False,
        malformed: bool = False,
        retry_after: int | None = None,
        **hostile: Any,
    ) -> None:
        """Add a fault; `hostile` takes Fault's hostile-server fields (payload, fields, …)."""
        self._faults.add(
            Fault(
                origin, path_prefix, status, count, latency, drop, malformed, retry_after, **hostile
            )
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def issued_secrets(self) -> set[str]:
        with self.state.lock:
            found = self.state.issued_secrets()
        return found | (self._pp.issued_secrets() if self._pp is not None else set())

    @property
    def power_platform(self) -> PowerPlatform:
        """The local Power Platform (Entra, Power Apps, Flow, blob storage); see its module."""
        if self._pp is None:
            raise RuntimeError("The Power Platform side is not running (power_platform=False?).")
        return self._pp  # type: ignore[no-any-return]

    @property
    def request_log(self) -> list[tuple[str, str, str]]:
        with self._log_lock:
            return list(self._log)

    # -- serving --------------------------------------------------------------------------

    def _serve(self, origin: str, handler: BaseHTTPRequestHandler) -> None:
        # The request line as sent: http.server folds a leading "//" into "/", a real host not.
        parts = handler.requestline.split(" ")
        target = parts[1] if len(parts) == 3 else handler.path
        split = urlsplit(target if not target.startswith("//") else "/." + target)
        path = unquote(split.path.removeprefix("/.")) or "/"
        try:
            body = _read_body(handler)
        except (ValueError, OSError):
            handler.close_connection = True
            handler.send_error(400)
            return
        request = Request(
            origin=origin,
            base_url=self._origin(origin),
            method=handler.command,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        control = origin == "auth" and path.startswith("/_emulator/")
        if control:
            response = self._control(request)
        else:
            with self._log_lock:
                self._log.append((origin, request.method, path))
            response = self._respond(request)
        if not control and self._on_request is not None:
            self._on_request(origin, request.method, path, 0 if response.drop else response.status)
        if response.drop:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            handler.send_response(response.status)
            for name, value in response.headers:
                handler.send_header(name, value)
            if not any(name.lower() == "content-length" for name, _ in response.headers):
                length = response.length if response.length is not None else len(response.body)
                handler.send_header("Content-Length", str(length))
            handler.end_headers()
            if response.chunks is None:
                handler.wfile.write(response.body)
            else:
                for chunk in response.chunks():
                    handler.wfile.write(chunk)
                    if response.pause:
                        handler.wfile.flush()
                        time.sleep(response.pause)
        except OSError:  # the client gave up (e.g. a timeout during injected latency)
            handler.close_connection = True

    def _respond(self, request: Request) -> Response:
        fault = self._faults.take(request.origin, request.path)
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)
            faulty = fault.response(request.path)
            if faulty is not None:
                return fault.transform(faulty)
        try:
            if request.origin == "auth":
                answer = oauth.handle(self.state, request)
            elif request.origin in POWER_PLATFORM_ORIGINS:
                answer = self.power_platform.handle(request)
            else:
                assert self._clm is not None
                answer = self._clm.handle(request)
        except Exception:  # a bug in the emulator: answer 500 and say so on stderr
            sys.stderr.write(traceback.format_exc())
            return json_response(500, {"error": "server_error", "error_description": "bug"})
        return answer if fault is None else fault.transform(answer)

    def _control(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            result = self._run_control(request.method, request.path.rstrip("/"), payload)
        except (ValueError, TypeError, KeyError) as error:
            return json_response(400, {"error": str(error)})
        if result is None:
            return json_response(404, {"error": f"no control {request.method} {request.path}"})
        return json_response(200, result)

    def _run_control(self, method: str, path: str, body: dict[str, Any]) -> Any:
        if path.startswith("/_emulator/powerplatform") and self._pp is not None:
            return self._pp.control(
                method, path.removeprefix("/_emulator/powerplatform").strip("/"), body
            )
        match (method, path):
            case ("GET", "/_emulator/info"):
                return self.info()
            case ("GET", "/_emulator/requests"):
                return [list(entry) for entry in self.request_log]
            case ("POST", "/_emulator/clock"):
                self.advance_clock(float(body.get("advance", 0)))
                return {"now": self.now()}
            case ("POST", "/_emulator/revoke-consent"):
                self.revoke_consent()
                return {"revoked": "consent"}
            case ("POST", "/_emulator/jwt-consent"):
                self.grant_jwt_consent([str(s) for s in body.get("scopes", ["signature"])])
                return {"granted": "jwt-consent"}
            case ("DELETE", "/_emulator/jwt-consent"):
                self.revoke_jwt_consent()
                return {"revoked": "jwt-consent"}
            case ("POST", "/_emulator/revoke-secret"):
                self.revoke_secret(str(body["which"]))
                return {"revoked": body["which"]}
            case ("POST", "/_emulator/app"):
                return self.configure_app(**body)
            case ("POST", "/_emulator/redirect-uris"):
                self.register_redirect_uri(str(body["uri"]))
                return {"redirect_uris": self.redirect_uris}
            case ("DELETE", "/_emulator/redirect-uris"):
                self.clear_redirect_uris()
                return {"redirect_uris": []}
            case ("POST", "/_emulator/faults"):
                allowed = set(Fault.__dataclass_fields__)
                unknown = set(body) - allowed
                if unknown:
                    raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
                self._faults.add(Fault(**body))
                return {"added": body}
            case ("DELETE", "/_emulator/faults"):
                self.clear_faults()
                return {"cleared": "faults"}
        return None
