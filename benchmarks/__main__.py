"""Run the benchmarks: ``python -m benchmarks`` (``make bench``).

Human-readable lines come first; the last line is one JSON object merging every benchmark's
figures (plus ``requests``, ``concurrency`` and ``workers``). ``BENCH_ONLY=create,other`` runs a
subset. The exit status is 1 when any request failed or a benchmark could not run.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks.create import bench_create
from benchmarks.faces import bench_faces
from benchmarks.flow import bench_flow
from benchmarks.images import bench_images
from benchmarks.ocr import bench_ocr
from benchmarks.org_flow import bench_org_flow
from benchmarks.scale import bench_scale
from benchmarks.seals import bench_seals
from benchmarks.settings import BenchSettings
from benchmarks.upstream import bench_upstream

Bench = Callable[[BenchSettings], dict[str, Any]]

BENCHES: dict[str, Bench] = {
    "create": bench_create,
    "faces": bench_faces,
    "ocr": bench_ocr,
    "flow": bench_flow,
    "org_flow": bench_org_flow,
    "images": bench_images,
    "seals": bench_seals,
    "upstream": bench_upstream,
    "scale": bench_scale,
}
"""Every benchmark by name; each returns a dict of figures (``failures`` counts failed requests)."""


def selected(only: str | None) -> dict[str, Bench]:
    """Return the benchmarks named in ``only`` (comma-separated), or all when it is empty."""
    if not only:
        return dict(BENCHES)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown {unknown}; known: {sorted(BENCHES)}")
    return {name: BENCHES[name] for name in names}


def main() -> int:
    """Run the selected benchmarks, print the merged JSON last, and return the exit status."""
    settings = BenchSettings.from_env()
    results: dict[str, Any] = {
        "requests": settings.requests,
        "concurrency": settings.concurrency,
        "workers": settings.workers,
    }
    failed: list[str] = []
    started = time.perf_counter()
    for name, bench in selected(os.environ.get("BENCH_ONLY")).items():
        try:
            figures = bench(settings)
        except Exception as exc:  # noqa: BLE001 - report and go on to the next benchmark
            traceback.print_exc()
            print(f"{name}: could not run: {exc}", flush=True)
            failed.append(name)
            results[f"{name}_error"] = str(exc).splitlines()[0] if str(exc) else repr(exc)
            continue
        if figures.get("failures"):
            print(f"{name}: {figures['failures']} requests FAILED", flush=True)
            failed.append(name)
        results.update(figures)
    results["failed"] = failed
    results["seconds"] = round(time.perf_counter() - started, 1)
    if failed:
        print(f"benchmarks with failures: {', '.join(failed)}", flush=True)
    print(json.dumps(results), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
