"""A forward proxy (HTTP CONNECT) that stands in for name resolution of `*.localhost`.

Azure storage clients (paconn's among them) insist on `<account>.blob.<suffix>` hosts. The
emulator's blob store answers such names on 127.0.0.1, and a child process given
`HTTPS_PROXY=<this proxy>` reaches it with TLS end to end: the proxy only connects the tunnel
to 127.0.0.1 at the port asked for, and refuses every host that is not on this computer.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from collections.abc import Iterator


class _Tunnel(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request_line = self.rfile.readline(4096).decode("latin-1").split()
        while self.rfile.readline(4096) not in (b"\r\n", b"\n", b""):
            pass
        if len(request_line) != 3 or request_line[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = request_line[1].rpartition(":")
        if not (host in ("localhost", "127.0.0.1") or host.endswith(".localhost")):
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.hosts.append(request_line[1])  # type: ignore[attr-defined]
        with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            _pipe(self.connection, upstream)


def _pipe(left: socket.socket, right: socket.socket) -> None:
    sockets = [left, right]
    while True:
        readable, _, _ = select.select(sockets, [], [], 30)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (right if sock is left else left).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def connect_proxy() -> Iterator[tuple[str, list[str]]]:
    """`(proxy URL, hosts tunnelled so far)` while the proxy runs."""
    server = _Server(("127.0.0.1", 0), _Tunnel)
    server.hosts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hosts  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
