"""A scripted verifier on loopback, for the HTTP client's unit tests.

Each path answers from its own list of replies, in order, the last one again and again
(as ``responses`` did). A reply is a function of the request giving ``(status, headers,
body)``, or one of the failures a real network gives: ``DROP`` (the connection closed with
no answer), ``HANG`` (no answer at all: only a read timeout ends the wait), ``CUT`` (an
answer whose body stops short of its ``Content-Length``). Every request is kept in
``calls``. With ``tls`` the stub serves HTTPS under a self-signed certificate no client
trusts (``certificate`` is its PEM file, to trust it on purpose).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.helpers import self_signed_certificate

DROP, HANG, CUT = "drop", "hang", "cut"


@dataclass(frozen=True)
class Sent:
    """A request the stub received."""

    path: str
    headers: Message
    body: bytes


Reply = Callable[[Sent], tuple[int, dict[str, str], bytes]] | str


class StubUpstream:
    """The replies per path and the requests received; ``url`` once serving."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.calls: list[Sent] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.connections: list[socket.socket] = []
        self.url = ""
        self.certificate: Path | None = None

    def add(self, path: str, *replies: Reply) -> None:
        """Queue replies for ``path`` (after those queued before)."""
        self.replies.setdefault(path, []).extend(replies)

    def answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> Reply:
        """A fixed reply."""
        return lambda _sent: (status, headers or {}, body)

    def next_reply(self, sent: Sent) -> Reply:
        """Keep the request; the reply for it (404 on a path with none)."""
        with self.lock:
            self.calls.append(sent)
            queued = self.replies.get(sent.path) or [self.answer(404)]
            return queued.pop(0) if len(queued) > 1 else queued[0]

    def close_connections(self) -> None:
        """End every connection still open (a pooled client's, a hanging one's)."""
        self.closing.set()
        with self.lock:
            for connection in self.connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


def _handler(stub: StubUpstream) -> type[BaseHTTPRequestHandler]:
    """A request handler class serving ``stub``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a verifier would

        def setup(self) -> None:
            super().setup()
            with stub.lock:
                stub.connections.append(self.connection)

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent = Sent(self.path, self.headers, body)
            reply = stub.next_reply(sent)
            if reply in (DROP, HANG):
                if reply == HANG:
                    stub.closing.wait(30)  # no answer until the stub closes
                self.close_connection = True
                return
            cut = reply == CUT
            status, headers, content = (200, {}, b'{"cut": "short') if cut else reply(sent)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content) + (100 if cut else 0)))
            self.end_headers()
            self.wfile.write(content)
            self.close_connection = cut

        def log_message(self, *_args: object) -> None:
            """Quiet."""

    return Handler


@contextmanager
def stub_upstream(tls_directory: Path | None = None) -> Iterator[StubUpstream]:
    """Serve a new stub on a free loopback port, in a thread (HTTPS under a self-signed
    certificate made in ``tls_directory`` when given)."""
    stub = StubUpstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    scheme = "http"
    if tls_directory is not None:
        stub.certificate, key_file = self_signed_certificate(tls_directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(stub.certificate, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    stub.url = f"{scheme}://127.0.0.1:{server.server_port}"
    try:
        yield stub
    finally:
        stub.close_connections()
        server.shutdown()
        server.server_close()
        thread.join(5)
