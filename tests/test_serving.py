"""The service as ``kyc-service serve`` runs it: gunicorn, two workers, on loopback.

Issue 10, items 1 (slow clients), 4 (the per-key limit shared by every worker through
Redis), 16 (a malformed chunked body), 17 (gunicorn's own errors in the contract's shape)
and 20 (no server version). One server is started for the module (SQLite, Redis).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.servers import prepare_service, serve_argv, service_env, serving
from tests.conftest import redis_reachable

REDIS_URL = os.environ.get("KYC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PER_KEY_LIMIT = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, dict]]:
    """A served instance with two workers; yields (host, port, keys and the log's path)."""
    redis_reachable(REDIS_URL)
    workdir = tmp_path_factory.mktemp("served")
    env = service_env(workdir)
    env.update(
        {
            "KYC_REDIS_URL": REDIS_URL,
            "KYC_RATE_LIMIT": f"{PER_KEY_LIMIT} per minute",
            "KYC_UNAUTHENTICATED_RATE_LIMIT": "1000 per second",
            "KYC_FACE_ADAPTER": "face_recognition",
        }
    )
    limited = prepare_service(workdir, env)
    spare = prepare_service(workdir, env)
    with serving(serve_argv(2), env, Path(workdir), "served") as running:
        yield (
            running.host,
            running.port,
            {"limited": limited, "spare": spare, "log": running.stderr_path},
        )


def exchange(host: str, port: int, raw: bytes, timeout: float = 10) -> bytes:
    """Send ``raw`` on a fresh connection; return everything the server answers."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
        return b"".join(chunks)


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def parsed(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (lower-case names) and body of an HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def healthz_seconds(host: str, port: int) -> float:
    """Time one ``GET /healthz`` on a fresh connection; fail unless it answers 200."""
    started = time.monotonic()
    status, _, _ = parsed(exchange(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 200
    return time.monotonic() - started


class SlowClient(threading.Thread):
    """Sends the start of a request, then one byte every ``pause`` seconds."""

    def __init__(self, host: str, port: int, start: bytes, pause: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection((host, port), timeout=30)
        self.start_bytes = start
        self.pause = pause
        self.stop = threading.Event()
        self.closed_by_server = False

    def run(self) -> None:
        try:
            self.sock.sendall(self.start_bytes)
            while not self.stop.wait(self.pause):
                self.sock.sendall(b"x")
        except OSError:
            self.closed_by_server = True
        finally:
            self.sock.close()


def test_item_1_twenty_slow_clients_do_not_stop_the_service(server):
    host, port, _ = server
    partial_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    partial_body = (
        b"POST /v1/verifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5000\r\n\r\n{"
    )
    slow = [SlowClient(host, port, partial_header if n % 2 else partial_body) for n in range(20)]
    for client in slow:
        client.start()
    try:
        time.sleep(1)
        worst = max(healthz_seconds(host, port) for _ in range(24) if not time.sleep(0.5))
        assert worst < 1.0, worst
    finally:
        for client in slow:
            client.stop.set()


def test_item_1_a_slow_header_is_cut_off(server):
    host, port, _ = server
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answer = b""
        try:
            while time.monotonic() - started < 25:
                sock.sendall(b"X")
                time.sleep(1)
        except OSError:
            pass
        try:
            answer = sock.recv(1024)
        except OSError:
            answer = b""
    assert time.monotonic() - started < 25  # closed by the server well before
    assert b"Traceback" not in answer


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
    ],
    ids=["request-line", "line-too-long", "header"],
)
def test_item_17_gunicorns_own_errors_are_json_with_a_request_id(server, raw, status):
    host, port, _ = server
    answered, headers, body = parsed(exchange(host, port, raw))
    assert answered == status
    assert headers["content-type"] == "application/json; charset=utf-8"
    error = json.loads(body)["error"]
    assert error["request_id"] == headers["x-request-id"] and error["request_id"].startswith("req_")
    assert {"type", "code", "message"} <= set(error)
    assert b"<html" not in body.lower()


def test_item_16_a_malformed_chunked_body_is_400(server):
    host, port, keys = server
    raw = (
        b"POST /v1/verifications HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {keys['spare']}\r\n".encode()
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"ZZZ\r\n{}\r\n0\r\n\r\n"
    )
    status, headers, body = parsed(exchange(host, port, raw))
    assert status == 400, body
    assert json.loads(body)["error"]["code"] == "validation_failed"
    assert "x-request-id" in headers


def test_item_4_the_per_key_limit_is_shared_by_every_worker(server):
    host, port, keys = server
    request = (
        f"GET /v1/verifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {keys['limited']}"
        "\r\nConnection: close\r\n\r\n"
    ).encode()
    statuses = [parsed(exchange(host, port, request))[0] for _ in range(4 * PER_KEY_LIMIT)]
    assert statuses.count(200) == PER_KEY_LIMIT, statuses
    assert statuses.count(429) == 3 * PER_KEY_LIMIT


def test_item_20_no_server_version(server):
    host, port, _ = server
    _, headers, _ = parsed(exchange(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert not any(ch.isdigit() for ch in headers.get("server", ""))
    assert headers["x-content-type-options"] == "nosniff"


def test_issue_16_everything_the_server_wrote_is_json_lines(server):
    """Last in the module: every line written while the tests above ran is one JSON object."""
    _, _, keys = server
    lines = [line for line in keys["log"].read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record), line
        assert "Traceback" not in record["message"], line
