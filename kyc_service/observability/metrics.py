"""Prometheus metrics: request counts and latencies by endpoint, method and status."""

from __future__ import annotations

import os
import shutil
import tempfile

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Where every process of one server keeps its metric files (prometheus_client's variable)."""
CREATED_DIR = "KYC_METRICS_DIR_CREATED"
"""Set to the folder the service made itself: only that folder is removed at shutdown."""


class HttpMetrics:
    """The service's HTTP metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kyc_http_requests",
            "HTTP requests served, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kyc_http_request_duration_seconds",
            "Time to serve an HTTP request, by endpoint and method.",
            ["endpoint", "method"],
            registry=self.registry,
        )

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint, method).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """Return the text exposition and its content type (all workers' under gunicorn)."""
        if os.environ.get(MULTIPROC_DIR):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def make_multiprocess_dir() -> str:
    """Return the metric files' folder: the operator's, or a new temporary one of the service.

    A folder made here (``kyc-metrics-*`` in the temporary directory) is remembered in
    :data:`CREATED_DIR` for :func:`remove_own_multiprocess_dir`; one the operator set in
    ``PROMETHEUS_MULTIPROC_DIR`` is used as it is and never removed.
    """
    existing = os.environ.get(MULTIPROC_DIR)
    if existing:
        return existing
    made = tempfile.mkdtemp(prefix="kyc-metrics-")
    os.environ[MULTIPROC_DIR] = made
    os.environ[CREATED_DIR] = made
    return made


def remove_own_multiprocess_dir() -> bool:
    """Remove the metric files' folder if the service made it; tell whether it did."""
    made = os.environ.get(CREATED_DIR)
    if not made or os.environ.get(MULTIPROC_DIR) != made:
        return False
    shutil.rmtree(made, ignore_errors=True)
    os.environ.pop(CREATED_DIR, None)
    return True
