"""The knobs shared by every benchmark, read from ``BENCH_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int_env(name: str, default: int) -> int:
    """Return the positive integer in ``$name``, or ``default`` when unset."""
    value = int(os.environ.get(name, default))
    if value < 1:
        raise ValueError(f"{name} must be >= 1")
    return value


@dataclass(frozen=True)
class BenchSettings:
    """Load shape: measured requests, warm-up, client threads, gunicorn workers, the goal."""

    requests: int = 800
    warmup: int = 50
    concurrency: int = 8
    workers: int = 2
    target_ratio: float = 2.0

    @classmethod
    def from_env(cls) -> BenchSettings:
        """Read ``BENCH_REQUESTS``, ``BENCH_WARMUP``, ``BENCH_CONCURRENCY``, ``BENCH_WORKERS``."""
        return cls(
            requests=_int_env("BENCH_REQUESTS", cls.requests),
            warmup=_int_env("BENCH_WARMUP", cls.warmup),
            concurrency=_int_env("BENCH_CONCURRENCY", cls.concurrency),
            workers=_int_env("BENCH_WORKERS", cls.workers),
        )
