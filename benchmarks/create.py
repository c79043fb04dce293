"""Issue 4: ``POST /v1/verifications`` on the real service against a bare Flask + SQLite app.

Both run under gunicorn with the same worker count and take the same load: a warm-up, then the
measured requests, from the same number of keep-alive client threads.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.load import LoadResult, run_load
from benchmarks.payloads import encoded_bodies
from benchmarks.servers import ROOT, prepare_service, serve_argv, service_env, serving
from benchmarks.settings import BenchSettings

PATH = "/v1/verifications"


def _report(label: str, result: LoadResult) -> None:
    """Print one human-readable line per run (and the first failures, if any)."""
    print(
        f"  {label:<8} {result.requests} requests: p50 {result.percentile_ms(0.5):7.2f} ms  "
        f"p90 {result.percentile_ms(0.9):7.2f} ms  p99 {result.percentile_ms(0.99):7.2f} ms  "
        f"{result.requests / result.wall_seconds:7.1f} req/s  failures {result.failures}",
        flush=True,
    )
    if result.failures:
        print(f"  {label}: statuses {dict(result.statuses)}", flush=True)
        for sample in result.samples:
            print(f"    {sample}", flush=True)


def _drive(
    label: str, host: str, port: int, headers: dict[str, str], settings: BenchSettings
) -> tuple[LoadResult, LoadResult]:
    """Warm a server up, then measure it; return (warm-up, measured)."""
    total = settings.warmup + settings.requests
    bodies = encoded_bodies(total, prefix=f"bench-{label}")
    warm = run_load(host, port, PATH, bodies[: settings.warmup], headers, settings.concurrency)
    measured = run_load(host, port, PATH, bodies[settings.warmup :], headers, settings.concurrency)
    _report(label, measured)
    return warm, measured


def bench_service(settings: BenchSettings, workdir: Path) -> tuple[LoadResult, LoadResult, str]:
    """Run the service as ``kyc-service serve`` does, on a fresh database; measure creates."""
    home = workdir / "service"
    home.mkdir()
    env = service_env(home)
    key = prepare_service(home, env)
    argv = serve_argv(settings.workers)
    with serving(argv, env, home, "service") as server:
        headers = {"Authorization": f"Bearer {key}"}
        warm, measured = _drive("create", server.host, server.port, headers, settings)
        stderr = server.stderr_tail() if (warm.failures or measured.failures) else ""
    return warm, measured, stderr


def bench_bare(settings: BenchSettings, workdir: Path) -> tuple[LoadResult, LoadResult, str]:
    """Run the bare Flask app under gunicorn with the same workers; measure its inserts."""
    home = workdir / "bare"
    home.mkdir()
    env = dict(service_env(home))
    env["BENCH_BARE_DATABASE"] = str(home / "bare.db")
    env["PYTHONPATH"] = str(ROOT) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:{port}",
        "--workers",
        str(settings.workers),
        "--timeout",
        "120",
        "benchmarks.bare_app:create_app()",
    ]
    with serving(argv, env, home, "bare") as server:
        warm, measured = _drive("bare", server.host, server.port, {}, settings)
        stderr = server.stderr_tail() if (warm.failures or measured.failures) else ""
    return warm, measured, stderr


def bench_create(settings: BenchSettings) -> dict[str, Any]:
    """Compare the service's create with the bare app's insert; return the figures."""
    print(
        f"POST {PATH}: {settings.warmup} warm-up + {settings.requests} measured requests, "
        f"{settings.concurrency} clients, gunicorn --workers {settings.workers}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="kyc-bench-") as tmp:
        workdir = Path(tmp)
        service_warm, service, service_stderr = bench_service(settings, workdir)
        bare_warm, bare, bare_stderr = bench_bare(settings, workdir)
    for label, stderr in (("service", service_stderr), ("bare", bare_stderr)):
        if stderr:
            print(f"  {label} server stderr (tail):\n{stderr}", flush=True)
    figures: dict[str, Any] = {**service.summary("create"), **bare.summary("bare")}
    ratio = (
        figures["create_p50_ms"] / figures["bare_p50_ms"]
        if figures["create_p50_ms"] and figures["bare_p50_ms"]
        else float("nan")
    )
    figures["create_ratio"] = None if math.isnan(ratio) else round(ratio, 2)
    figures["create_warmup_failures"] = service_warm.failures
    figures["bare_warmup_failures"] = bare_warm.failures
    figures["failures"] = (
        service.failures + bare.failures + service_warm.failures + bare_warm.failures
    )
    verdict = "meets" if ratio <= settings.target_ratio else "MISSES"
    print(
        f"  create_ratio (p50 create / p50 bare) = {ratio:.2f} — {verdict} the goal of "
        f"<= {settings.target_ratio:g}",
        flush=True,
    )
    return figures
