"""Issue 12: what an ``http`` verifier adapter adds to a round trip (``BENCH_ONLY=upstream``).

The partner verifier sandbox (``kyc-service sandbox-verifiers``: gunicorn, threads, keep-alive,
no added latency) runs in its own process on 127.0.0.1. One client thread then alternates,
call by call after a warm-up, between:

- the bare round trip: a urllib3 ``PoolManager`` POST (the library the adapter's client
  uses) of an identity request signed once beforehand (the same body and headers every
  time, read in full, nothing checked);
- the adapter: ``HttpIdentityAuthority(url, secret).verify(name, id_number)``, which builds,
  signs and sends the request, then checks the answer's signature, request id and result.

Both bodies are answered from the sandbox's idempotency cache after the first call, so the
server does the same work for each. Figures:

- ``upstream_p50_ms``: p50(adapter) − p50(bare) in milliseconds (goal ≤ 3 ms);
- ``upstream_bare_p50_ms`` and ``upstream_adapter_p50_ms``: the two medians;
- ``upstream_ratio``: p50(adapter) / p50(bare), measured in the same run.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stdnum.cn.ric
import urllib3

from adapters.http_verifiers import protocol
from adapters.http_verifiers.adapters import HttpIdentityAuthority
from benchmarks.servers import BIN, ServerError, free_port, stop
from benchmarks.settings import BenchSettings
from kyc_service.domain.results import Match

CALLS = 300
"""Measured calls of each kind (after the warm-up)."""
GOAL_MS = 3.0
READY_SECONDS = 30.0
NAME = "张三"
"""Not a magic name: the sandbox answers Match."""
ID_BODY = "11010519900307123"
REQUEST_ID = "vr_benchadapter"
"""One request id for every adapter call, as the bare call has one: both sides are answered
from the sandbox's memory after the first call (the same work for the server)."""
EXPECTED = Match(billable=True)
"""The sandbox server bills a definite answer, as real providers do."""


def synthetic_id_number(body: str = ID_BODY) -> str:
    """Return an 18-character resident ID number with a valid check digit (no one's)."""
    # calc_check_digit ignores the last character it is given: pass a placeholder.
    return body + stdnum.cn.ric.calc_check_digit(body + "0")


@dataclass
class Timings:
    """Milliseconds per call of one kind, and how many calls failed."""

    samples: list[float] = field(default_factory=list)
    failures: int = 0

    def p50(self) -> float:
        """The median, in milliseconds."""
        return statistics.median(self.samples)


def _port_open(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def sandbox_server(secret: str, workdir: Path, *options: str) -> Iterator[str]:
    """Run ``kyc-service sandbox-verifiers [OPTIONS]`` (``--latency-ms 300`` …) on a free
    loopback port; yield its base URL."""
    port = free_port()
    argv = [str(BIN / "kyc-service"), "sandbox-verifiers", "--host", "127.0.0.1", *options]
    env = {**os.environ, "KYC_SANDBOX_SECRET": secret}
    log = workdir / "sandbox.stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*argv, "--port", str(port)],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_SECONDS
        while not _port_open(port):
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise ServerError(f"the sandbox exited {process.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise ServerError(f"the sandbox not listening after {READY_SECONDS:.0f} s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def bare_call(url: str, secret: str, id_number: str) -> Callable[[], bool]:
    """Return a call that POSTs one identity request signed once here; True on a 200."""
    pool = urllib3.PoolManager(retries=False)
    body = json.dumps(
        {"request_id": "vr_bench_bare", "name": NAME, "id_number": id_number}, ensure_ascii=False
    ).encode()
    line = protocol.request_line("identity")
    headers = {
        "Content-Type": "application/json",
        **protocol.signed_headers(secret, line, int(time.time()), body),
    }
    target = f"{url}/{protocol.VERSION}/identity"

    def call() -> bool:
        response = pool.request("POST", target, body=body, headers=headers, timeout=5.0)
        return response.status == 200 and bool(response.data)

    return call


def adapter_call(url: str, secret: str, id_number: str) -> Callable[[], bool]:
    """Return a call through ``HttpIdentityAuthority``; True when it answers Match."""
    authority = HttpIdentityAuthority(url, secret)

    def call() -> bool:
        return authority.verify(NAME, id_number, request_id=REQUEST_ID) == EXPECTED

    return call


def _time(call: Callable[[], bool], into: Timings) -> None:
    """Time one call in milliseconds; a False answer or an exception counts as a failure."""
    started = time.perf_counter()
    try:
        ok = call()
    except Exception:  # noqa: BLE001 - a failed call is counted, not fatal
        ok = False
    into.samples.append((time.perf_counter() - started) * 1000)
    if not ok:
        into.failures += 1


def measure(
    bare: Callable[[], bool], adapter: Callable[[], bool], warmup: int, calls: int
) -> tuple[Timings, Timings]:
    """Warm both up, then alternate them call by call (so drift hits both); return timings."""
    for _ in range(warmup):
        bare()
        adapter()
    bare_timings, adapter_timings = Timings(), Timings()
    for _ in range(calls):
        _time(bare, bare_timings)
        _time(adapter, adapter_timings)
    return bare_timings, adapter_timings


def figures_of(bare: Timings, adapter: Timings) -> dict[str, Any]:
    """The benchmark's figures from both kinds' timings."""
    overhead = adapter.p50() - bare.p50()
    return {
        "upstream_p50_ms": round(overhead, 3),
        "upstream_bare_p50_ms": round(bare.p50(), 3),
        "upstream_adapter_p50_ms": round(adapter.p50(), 3),
        "upstream_ratio": round(adapter.p50() / bare.p50(), 2),
        "upstream_goal_ms": GOAL_MS,
        "upstream_goal_met": overhead <= GOAL_MS,
        "upstream_calls": len(adapter.samples),
        "failures": bare.failures + adapter.failures,
    }


def bench_upstream(settings: BenchSettings) -> dict[str, Any]:
    """Serve the sandbox, time bare round trips and adapter calls; return the figures."""
    secret = secrets.token_hex(16)
    id_number = synthetic_id_number()
    with (
        tempfile.TemporaryDirectory(prefix="kyc-bench-upstream-") as tmp,
        sandbox_server(secret, Path(tmp)) as url,
    ):
        bare, adapter = measure(
            bare_call(url, secret, id_number),
            adapter_call(url, secret, id_number),
            settings.warmup,
            CALLS,
        )
    figures = figures_of(bare, adapter)
    verdict = "met" if figures["upstream_goal_met"] else "NOT met"
    print(
        f"  upstream bare p50 {figures['upstream_bare_p50_ms']:.3f} ms, "
        f"adapter p50 {figures['upstream_adapter_p50_ms']:.3f} ms "
        f"(x{figures['upstream_ratio']}): +{figures['upstream_p50_ms']:.3f} ms over "
        f"{CALLS} calls each, goal ≤ {GOAL_MS} ms {verdict}; "
        f"failures {bare.failures} bare, {adapter.failures} adapter",
        flush=True,
    )
    return figures
