"""A closed-loop load generator: N client threads, one keep-alive connection each."""

from __future__ import annotations

import http.client
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    """The latencies (seconds) of the successful requests, and what went wrong."""

    latencies: list[float]
    wall_seconds: float
    requests: int
    failures: int
    statuses: Counter[int | str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def percentile_ms(self, fraction: float) -> float:
        """Return the ``fraction`` quantile of the latencies in ms (nearest rank); NaN if none."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
        return ordered[rank] * 1000

    def summary(self, prefix: str) -> dict[str, Any]:
        """Return ``<prefix>_p50_ms``, ``_p90_ms``, ``_p99_ms``, ``_mean_ms`` (None when no
        request succeeded), ``_rps`` (all requests over the wall time) and ``_failures``."""

        def ms(value: float) -> float | None:
            """Round to 0.01 ms; None for NaN, which JSON cannot carry."""
            return None if math.isnan(value) else round(value, 2)

        mean = statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")
        return {
            f"{prefix}_p50_ms": ms(self.percentile_ms(0.50)),
            f"{prefix}_p90_ms": ms(self.percentile_ms(0.90)),
            f"{prefix}_p99_ms": ms(self.percentile_ms(0.99)),
            f"{prefix}_mean_ms": ms(mean),
            f"{prefix}_rps": round(self.requests / self.wall_seconds, 1),
            f"{prefix}_failures": self.failures,
        }


def run_load(
    host: str,
    port: int,
    path: str,
    bodies: Sequence[bytes],
    headers: Mapping[str, str],
    concurrency: int,
    expected_status: int = 201,
) -> LoadResult:
    """POST every body once, from ``concurrency`` threads, and time each request.

    Each thread keeps one HTTP/1.1 connection open (reopened when the server closes it, as
    gunicorn's sync workers do after every response) and takes the next body from a shared
    cursor, so the server always has ``concurrency`` requests in flight. Latency is measured
    with :func:`time.perf_counter` around send and full read of the response; the wall time runs
    from the moment all threads are released to the moment the last one finishes.
    """
    all_headers = {"Content-Type": "application/json", "Connection": "keep-alive", **headers}
    cursor = iter(range(len(bodies)))
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    samples: list[str] = []

    def record(status: int | str, latency: float | None, detail: str = "") -> None:
        """Record one request's outcome."""
        with lock:
            statuses[status] += 1
            if latency is not None and status == expected_status:
                latencies.append(latency)
            elif detail and len(samples) < 5:
                samples.append(f"{status}: {detail[:300]}")

    def client() -> None:
        """Send requests until the bodies run out."""
        connection = http.client.HTTPConnection(host, port, timeout=60)
        start.wait()
        try:
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                body = bodies[index]
                began = time.perf_counter()
                try:
                    connection.request("POST", path, body=body, headers=all_headers)
                    response = connection.getresponse()
                    payload = response.read()
                except Exception as exc:  # noqa: BLE001 - a failed request, counted as such
                    record(type(exc).__name__, None, str(exc))
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=60)
                    continue
                elapsed = time.perf_counter() - began
                detail = (
                    "" if response.status == expected_status else payload.decode(errors="replace")
                )
                record(response.status, elapsed, detail)
                if response.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=60)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    # Whatever did not come back with the expected status failed (even a crashed thread's).
    failures = len(bodies) - len(latencies)
    return LoadResult(latencies, wall, len(bodies), failures, statuses, samples)
