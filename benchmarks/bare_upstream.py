"""The upstream-bound part's same-run baseline: Celery alone making the same two calls.

The upstream-bound figure of :mod:`benchmarks.scale` is a fraction of an ideal set by latency
alone (50 threads over 0.6 s of calls); on a two-core machine whose speed changes from run to
run, what the machine, Celery and the sandbox can reach at all moves with it. This measures
that in the same run: the service's own Celery runner and worker settings
(:class:`~adapters.celery_runner.CeleryTaskRunner`: acks late, prefetch 1, thread pool, the
same processes and threads, INFO logs), on the same sandbox at the same latency, with a task
that does nothing but the two signed calls one after another (identity, then bank card, each
with a request id of its own, as a verification's are) and counts itself done in Redis — no
database, no keys, no sealing, no audit.

The same shape as the service's part: a first round of 50 untimed (the workers start and
connect), then, with the workers stopped (SIGSTOP), ``VERIFICATIONS`` tasks are published;
they go on (SIGCONT) and the time until the count reaches them, polled every 50 ms, gives the
baseline's throughput. The service's part is then reported also as a fraction of it
(``scale_upstream_of_bare``): the share of what this machine allowed that the service's own
work (loading, sealing, ledger, audit, decision) left.

The workers run as ``python -m benchmarks.bare_upstream`` (environment: ``BENCH_BARE_*``),
so no worker of the service's can take these tasks: their broker database is its own
(``BENCH_SCALE_BARE_BROKER_URL``, ``redis://127.0.0.1:6379/11``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import requests

from adapters.celery_runner import CeleryTaskRunner
from adapters.http_verifiers import protocol
from benchmarks.servers import ServerError, own_sessions

BROKER_URL = os.environ.get("BENCH_SCALE_BARE_BROKER_URL", "redis://127.0.0.1:6379/11")
TASK = "bench_bare_calls"
DONE_KEY = "bench:bare:done"
POLL_SECONDS = 0.05
WAIT_SECONDS = 120.0
CALL_TIMEOUT = 10.0
NAME = "张三"
"""Not a magic name: the sandbox answers match."""
_local = threading.local()


@dataclass
class BareRun:
    """One timed round of the baseline: its seconds, and its workers' CPU seconds."""

    wall: float
    worker_cpu: float


def people(count: int = 4) -> list[dict[str, str]]:
    """Synthetic people's fields for the two calls (valid check digits, no one's)."""
    import random

    from tests.synthetic import individual_body

    rng = random.Random(2026)
    found = []
    for _ in range(count):
        person = individual_body(rng, card=True)["individual"]
        card = person["bank_card"]
        found.append(
            {
                "name": person["name"],
                "id_number": person["id_number"],
                "card_number": card["number"],
                "phone": card["reserved_phone"],
            }
        )
    return found


def bodies(request_id: str, person: dict[str, str]) -> list[tuple[str, bytes]]:
    """The identity and bank card requests of one task: each role's fields and nothing more."""
    identity = {"name": person["name"], "id_number": person["id_number"]}
    bank = identity | {"card_number": person["card_number"], "phone": person["phone"]}
    return [
        (role, json.dumps({"request_id": f"{request_id}_{role}", **fields}).encode())
        for role, fields in (("identity", identity), ("bank", bank))
    ]


def two_calls(request_id: str, person: dict[str, str]) -> None:
    """The task: the two signed calls, one after the other, then count one done."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    url, secret = os.environ["BENCH_BARE_SANDBOX_URL"], os.environ["BENCH_BARE_SECRET"]
    for role, body in bodies(request_id, person):
        line = protocol.request_line(role)
        headers = {
            "Content-Type": "application/json",
            **protocol.signed_headers(secret, line, int(time.time()), body),
        }
        response = session.post(
            f"{url}/{protocol.VERSION}/{role}", data=body, headers=headers, timeout=CALL_TIMEOUT
        )
        response.raise_for_status()
    _done_counter().incr(DONE_KEY)


def _done_counter() -> redis.Redis:
    """This thread's Redis client on the baseline's broker database."""
    client = getattr(_local, "redis", None)
    if client is None:
        client = _local.redis = redis.Redis.from_url(BROKER_URL)
    return client


def runner(broker_url: str = BROKER_URL) -> CeleryTaskRunner:
    """The service's Celery runner on the baseline's broker, with the one task on the
    ``upstream`` queue."""
    celery = CeleryTaskRunner(broker_url, log_level="INFO")
    celery.register(TASK, two_calls, queue="upstream")
    return celery


@contextmanager
def bare_workers(
    verifier_url: str, secret: str, workdir: Path, shape: tuple[int, int], broker_url: str
) -> Iterator[list[subprocess.Popen]]:
    """Run the baseline's workers, ``shape`` (processes, threads each), each in a session of
    its own (SIGSTOP reaches all of it); stop them on exit."""
    processes, threads = shape
    env = {
        **os.environ,
        "BENCH_BARE_SANDBOX_URL": verifier_url,
        "BENCH_BARE_SECRET": secret,
        "BENCH_SCALE_BARE_BROKER_URL": broker_url,
    }
    argv = [sys.executable, "-m", "benchmarks.bare_upstream", str(threads)]
    commands = {f"bare-worker-{n}": argv for n in range(processes)}
    with own_sessions(commands, env, Path(__file__).resolve().parent.parent, workdir) as started:
        yield list(started.values())


def one_round(
    celery: CeleryTaskRunner,
    workers: Sequence[subprocess.Popen],
    people: Sequence[dict[str, str]],
    count: int,
    cpu_of: Callable[[int], float],
) -> BareRun:
    """Publish ``count`` tasks with the workers stopped; let them go on; time until all are
    done."""
    counter = redis.Redis.from_url(celery.app.conf.broker_url)
    run = secrets.token_hex(4)
    for worker in workers:
        os.killpg(worker.pid, signal.SIGSTOP)
    try:
        counter.delete(DONE_KEY)
        for index in range(count):
            person = people[index % len(people)]
            celery.submit(TASK, request_id=f"vr_bare_{run}_{index}", person=person)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGCONT)
    began, began_cpu = time.perf_counter(), sum(cpu_of(w.pid) for w in workers)
    deadline = time.monotonic() + WAIT_SECONDS
    while int(counter.get(DONE_KEY) or 0) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            done = int(counter.get(DONE_KEY) or 0)
            raise ServerError(f"the baseline's workers did {done} of {count} tasks")
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - began
    counter.close()
    return BareRun(wall, sum(cpu_of(w.pid) for w in workers) - began_cpu)


def measure(
    verifier_url: str,
    secret: str,
    workdir: Path,
    people: Sequence[dict[str, str]],
    shape: tuple[int, int, int],
    cpu_of: Callable[[int], float],
    broker_url: str = BROKER_URL,
) -> tuple[BareRun, BareRun]:
    """Run the baseline: ``shape`` is (processes, threads each, tasks timed). The untimed
    first round (one task a thread) and the timed one."""
    processes, threads, count = shape
    celery = runner(broker_url)
    try:
        celery.purge()
        with bare_workers(
            verifier_url, secret, workdir, (processes, threads), broker_url
        ) as workers:
            cold = one_round(celery, workers, people, processes * threads, cpu_of)
            timed = one_round(celery, workers, people, count, cpu_of)
        celery.purge()
    finally:
        celery.close()
    return cold, timed


def main(threads: int) -> None:
    """A baseline worker: the service's logging and worker entry, the ``upstream`` queue."""
    from kyc_service.observability.logs import configure_logging

    configure_logging("INFO")
    runner().run_worker(["upstream"], threads, "threads", lambda: None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
