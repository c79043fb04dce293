"""Gunicorn settings used by ``kyc-service serve``.

Every line the server writes is one JSON object: gunicorn's own loggers go through the
service's JSON handler (:data:`logconfig_dict`). The Prometheus folder the server makes for
itself is removed when it stops; one set by the operator is left alone.
"""

from __future__ import annotations

import os
import time
from typing import Any

from kyc_service.observability.metrics_folder import (
    make_multiprocess_dir,
    remove_own_multiprocess_dir,
)

make_multiprocess_dir()  # before anything imports prometheus_client (see metrics_folder)

from kyc_service.config import load_settings  # noqa: E402
from kyc_service.observability.logs import gunicorn_log_config  # noqa: E402

accesslog = None
access_log_format = '%(m)s %(s)s %(B)s %(D)s "%({x-request-id}o)s"'
"""Never the request line, query string, address or user agent (see ``GunicornAccessFilter``)."""
timeout = 120
graceful_timeout = 30
worker_class = "kyc_service.serving.KycThreadWorker"
threads = int(os.environ.get("KYC_THREADS", "32"))
"""Requests served at once by one worker (a slow client holds one only until its time to
arrive runs out: ``kyc_service.serving``)."""
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
control_socket_disable = True
"""No ``gunicornc`` control socket: nothing uses it, and it would be left in ``~/.gunicorn``
and shared by every server of the user."""

logconfig_dict = gunicorn_log_config(str(load_settings()["LOG_LEVEL"]).upper())


def on_exit(_server: Any) -> None:
    """Remove the Prometheus folder if this server made it (never the operator's)."""
    remove_own_multiprocess_dir()


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's Prometheus files so its gauges do not linger."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """Load the face and OCR models as the worker starts, not on its first request.

    A failure is logged (its class only) and the models then load on first use instead.
    """
    started = time.perf_counter()
    try:
        worker.wsgi.extensions["kyc"].adapters.warm_up()
    except Exception as exc:  # noqa: BLE001 - the worker still serves
        worker.log.warning("model warm-up failed: %s", type(exc).__name__)
        return
    worker.log.info("models warmed up in %.2f s", time.perf_counter() - started)
