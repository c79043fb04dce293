"""Profile ``POST /v1/verifications`` in-process: ``python -m benchmarks.profile_create [N]``.

Builds the service with ``create_app()`` on a fresh temporary database and key store (migrated
and keyed with the ``kyc-service`` commands, like the HTTP benchmark), warms it up, times N
creates (default 200) through Flask's test client, single-threaded, then runs N more under
:mod:`cProfile` and prints the top functions by own time, by cumulative time, and the
project's own functions by cumulative time. Not part of ``make bench``: a tool to find where
a create's time goes.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.payloads import encoded_bodies
from benchmarks.servers import prepare_service, service_env

WARMUP = 20
PATH = "/v1/verifications"
PROJECT = r"/(kyc_service|adapters|schemas)/"


def _post_all(client: Any, bodies: Sequence[bytes], headers: dict[str, str]) -> int:
    """POST every body; return how many did not answer 201."""
    failures = 0
    for body in bodies:
        failures += client.post(PATH, data=body, headers=headers).status_code != 201
    return failures


def _print_stats(
    profiler: cProfile.Profile, order: str, top: int, strip: bool, *where: str
) -> None:
    """Print the ``top`` rows of the profile sorted by ``order``, restricted by ``where``."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    if strip:
        stats.strip_dirs()
    stats.sort_stats(order).print_stats(*where, top)
    text = out.getvalue()
    print(f"--- top {top} by {order}{' in ' + where[0] if where else ''} ---")
    print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


def profile(count: int, top: int = 30) -> int:
    """Time and profile ``count`` creates each; print the report; return the failures."""
    with tempfile.TemporaryDirectory(prefix="kyc-profile-") as tmp:
        home = Path(tmp)
        env = service_env(home)
        key = prepare_service(home, env)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("KYC_", "PROMETHEUS"))})
        from kyc_service.app import create_app

        client = create_app().test_client()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        bodies = encoded_bodies(WARMUP + 2 * count, prefix="profile")
        failures = _post_all(client, bodies[:WARMUP], headers)
        began = time.perf_counter()
        failures += _post_all(client, bodies[WARMUP : WARMUP + count], headers)
        plain = time.perf_counter() - began
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        failures += _post_all(client, bodies[WARMUP + count :], headers)
        profiler.disable()
        profiled = time.perf_counter() - began
    print(
        f"{count} creates: {plain / count * 1000:.2f} ms each unprofiled, "
        f"{profiled / count * 1000:.2f} ms profiled; {failures} failures"
    )
    _print_stats(profiler, "tottime", top, True)
    _print_stats(profiler, "cumulative", top, True)
    _print_stats(profiler, "cumulative", top, False, PROJECT)
    return failures


if __name__ == "__main__":
    sys.exit(1 if profile(int(sys.argv[1]) if len(sys.argv) > 1 else 200) else 0)
