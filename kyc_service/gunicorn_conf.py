"""Gunicorn settings used by ``kyc-service serve``."""

from __future__ import annotations

import os
from typing import Any

accesslog = None
timeout = 120
graceful_timeout = 30
worker_class = "kyc_service.serving.KycThreadWorker"
threads = int(os.environ.get("KYC_THREADS", "32"))
"""Requests served at once by one worker (a slow client holds one only until its time to
arrive runs out: ``kyc_service.serving``)."""
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's Prometheus files so its gauges do not linger."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """Load the face and OCR models as the worker starts, not on its first request.

    A failure is logged (its class only) and the models then load on first use instead.
    """
    try:
        worker.wsgi.extensions["kyc"].adapters.warm_up()
    except Exception as exc:  # noqa: BLE001 - the worker still serves
        worker.log.warning("model warm-up failed: %s", type(exc).__name__)
