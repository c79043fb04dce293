"""A loopback webhook receiver: a real HTTP server on 127.0.0.1 that records each request
and answers scripted statuses (the webhook tests and the worker pool's fault test)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and answers scripted statuses."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0
    location: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, request: Received) -> int:
        with self.lock:
            self.requests.append(request)
            return self.statuses.pop(0) if self.statuses else self.default_status


def _handler(receiver_box: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            receiver = receiver_box[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer(Received(self.path, dict(self.headers), body))
            self.send_response(status)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def start_receiver() -> Receiver:
    """Start a receiver on a free loopback port, serving in a daemon thread."""
    box: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    box.append(Receiver(server))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return box[0]


def event_ids(receiver: Receiver) -> list[str]:
    """The event id of every request the receiver got, in arrival order (repeats kept)."""
    with receiver.lock:
        bodies = [request.body for request in receiver.requests]
    return [json.loads(body)["id"] for body in bodies]
