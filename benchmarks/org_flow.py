"""Issue 11: the whole organization flow through the HTTP API, up to ``awaiting_confirmation``.

Against ``kyc-service serve`` on a fresh database: create an organization verification with
an agent, upload the business licence, the representative's and the agent's ID cards and
the sealed power of attorney, submit (document quality, certificate and card OCR, the seal,
the sandbox registry and identity checks, the micro-deposit). One flow at a time; each
flow's wall time runs from the create to ``awaiting_confirmation``.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path
from statistics import quantiles
from typing import Any

from benchmarks.flow import run_flow
from benchmarks.servers import prepare_service, serve_argv, service_env, serving
from benchmarks.settings import BenchSettings

FLOWS = int(os.environ.get("BENCH_ORG_FLOWS", "10"))


def _one_flow(host: str, port: int, key: str, number: int) -> tuple[float, str]:
    """Run one organization flow; return its wall seconds and the status reached."""
    from tests.synthetic import organization_body, organization_documents

    body = organization_body(random.Random(number), reference=f"org-flow-{number}")
    return run_flow(host, port, key, body, organization_documents(body))


def bench_org_flow(settings: BenchSettings) -> dict[str, Any]:
    """Measure ``FLOWS`` organization flows (after one warm-up) through the HTTP API."""
    with tempfile.TemporaryDirectory(prefix="kyc-bench-org-") as directory:
        home = Path(directory)
        env = service_env(home)
        key = prepare_service(home, env)
        with serving(serve_argv(settings.workers), env, home, "org-flow") as server:
            _one_flow(server.host, server.port, key, 10_000)
            runs = [_one_flow(server.host, server.port, key, n) for n in range(FLOWS)]
    seconds = sorted(wall for wall, _ in runs)
    reached = {status: sum(1 for _, s in runs if s == status) for _, status in runs}
    figures = {
        "org_flow_p50_s": round(quantiles(seconds, n=10)[4], 3),
        "org_flows": FLOWS,
        "org_flow_statuses": reached,
    }
    print(
        f"  org flow {FLOWS} flows: p50 {figures['org_flow_p50_s']} s  statuses {reached}",
        file=sys.stdout,
        flush=True,
    )
    return figures
