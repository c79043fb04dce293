"""The gunicorn worker of ``kyc-service serve``: threads that a slow client cannot hold.

gunicorn's ``gthread`` worker waits for a connection's first bytes without a thread, but
once a request has begun, a thread reads it to the end. A client that sends a header or a
body one byte every few seconds would hold that thread for as long as it likes, and a few
such clients would stop the service (issue 10, item 1). This worker gives every request a
time to arrive: its headers within :data:`HEADER_SECONDS`, its body within
:data:`BODY_SECONDS` of the headers; past that the connection reads as closed by the
client (quietly: no stack trace in the log), and is closed. Errors gunicorn answers
itself (a malformed request line, headers too large, a broken chunked body) are written
in the contract's JSON shape with an ``X-Request-Id``, not as HTML (item 17).

In production, put nginx in front (see the README § Production): it buffers whole requests
before they reach a worker, which is the stronger guard.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

HEADER_SECONDS = 10.0
"""The most a request's line and headers may take to arrive."""
BODY_SECONDS = 60.0
"""The most a request's body may take to arrive once its headers have (a 10 MB upload over
a slow mobile link fits)."""

ERRORS = {
    400: ("invalid_request", "validation_failed", "the request could not be parsed"),
    403: ("permission", "forbidden", "the request was refused"),
    413: ("payload_too_large", "file_too_large", "the request is too large"),
    414: ("invalid_request", "validation_failed", "the request line is too long"),
    417: ("invalid_request", "validation_failed", "the expectation cannot be met"),
    431: ("invalid_request", "validation_failed", "the request's headers are too large"),
    501: ("invalid_request", "validation_failed", "this transfer coding is not supported"),
}
SANDBOX_KEEPALIVE_SECONDS = 30
"""How long the verifier sandbox keeps an idle connection open for the client's next call."""
INTERNAL = ("internal", "internal_error", "an unexpected error occurred")


class DeadlineSocket:
    """A socket whose reads fail once the current deadline has passed."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline = time.monotonic() + HEADER_SECONDS

    def recv(self, size: int, *flags: int) -> bytes:
        """Read, waiting no longer than the time left; past it, read as closed (``b""``)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return b""
        self._sock.settimeout(left)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            return b""
        finally:
            self._sock.settimeout(None)

    def recv_into(self, buffer: Any, *args: int) -> int:
        """Read into ``buffer``, waiting no longer than the time left (0 past it)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return 0
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer, *args)
        except TimeoutError:
            return 0
        finally:
            self._sock.settimeout(None)

    def setblocking(self, flag: bool) -> None:
        """Switch blocking mode (a deadline applies on each blocking read)."""
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def write_json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's own error answer, in the contract's shape (never HTML, never the detail)."""
    type_, code, text = ERRORS.get(status, INTERNAL)
    request_id = "req_" + secrets.token_hex(12)
    body = json.dumps(
        {
            "error": {
                "type": type_,
                "code": code,
                "message": text,
                "field": None,
                "request_id": request_id,
            }
        },
        ensure_ascii=False,
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "\r\n"
    )
    sock.sendall(head.encode("latin-1") + body)


class KycThreadWorker(ThreadWorker):
    """``gthread`` with a time for each request to arrive, and JSON error answers."""

    def init_process(self) -> None:
        """Answer gunicorn's own errors as JSON in this worker."""
        util.write_error = write_json_error
        super().init_process()

    def handle(self, conn: Any) -> Any:
        """Give the request on ``conn`` :data:`HEADER_SECONDS` for its headers."""
        if not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock)
        conn.sock.deadline = time.monotonic() + HEADER_SECONDS
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """The headers are in: the body has :data:`BODY_SECONDS` more."""
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline = time.monotonic() + BODY_SECONDS
        return super().handle_request(req, conn)


class AppServer(BaseApplication):
    """gunicorn serving one WSGI application object built in this process (``kyc-service
    sandbox-verifiers``): one ``gthread`` worker, so in-memory state stays one, with HTTP/1.1
    keep-alive — a client's pooled connection is reused, not opened again for every call."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options given (gunicorn setting names)."""
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        """The application object itself."""
        return self.application


def serve_app(app: Any, host: str, port: int, threads: int, log_level: str) -> None:
    """Serve ``app`` on ``host:port`` until stopped: one worker of ``threads`` threads,
    connections kept alive between calls, every log line JSON, nothing in argv."""
    from kyc_service.observability.logs import gunicorn_log_config

    bracketed = ":" in host and not host.startswith("[")  # an IPv6 address, bare
    bind = f"[{host}]:{port}" if bracketed else f"{host}:{port}"
    AppServer(
        app,
        {
            "bind": bind,
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": SANDBOX_KEEPALIVE_SECONDS,
            "graceful_timeout": 2,
            "accesslog": None,
            "control_socket_disable": True,
            "logconfig_dict": gunicorn_log_config(log_level.upper()),
        },
    ).run()
