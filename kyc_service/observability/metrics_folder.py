"""The Prometheus folder of a server's processes: made before prometheus_client is imported.

prometheus_client chooses how its values are kept (in memory, or in files every worker of a
gunicorn server shares) once, when it is first imported, from ``PROMETHEUS_MULTIPROC_DIR``.
So the folder must be set before anything imports it: this module imports nothing of it,
and ``kyc_service.gunicorn_conf`` calls :func:`make_multiprocess_dir` as gunicorn loads it.
"""

from __future__ import annotations

import os
import shutil
import tempfile

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Where every process of one server keeps its metric files (prometheus_client's variable)."""
CREATED_DIR = "KYC_METRICS_DIR_CREATED"
"""Set to the folder the service made itself: only that folder is removed at shutdown."""


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
    os.environ.pop(MULTIPROC_DIR, None)  # names a folder that is gone now
    return True
