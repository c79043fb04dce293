"""Gunicorn settings used by ``kyc-service serve``."""

from __future__ import annotations

from typing import Any

accesslog = None
timeout = 120
graceful_timeout = 30


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
