"""The upstream-bound part's same-run baseline: Celery alone making the same two calls.

The upstream-bound figure of :mod:`benchmarks.scale` is a fraction of an ideal set by latency
alone (50 threads over 0.6 s of calls); on a two-core machine whose speed changes from run to
run, what the machine, Celery and the sandbox can reach at all moves with it. This measures
that in the same run: the service's own Celery runner and worker settings
(:class:`~adapters.celery_runner.CeleryTaskRunner`: acks late, prefetch 1, thread pool, the
same processes and threads, the bench's WARNING logs), on the same sandbox at the same
latency, with a task that makes the same two calls through the service's own ``http``
verifier adapters (identity, then bank card, each with a request id of its own, as a
verification's are; signed, the answers' signatures checked) and counts itself done in
Redis — no database, no keys, no sealing, no ledger, no audit, no decision.

The same shape as the service's part: a first round of 50 untimed (the workers start and
connect), then, with the workers stopped (SIGSTOP), ``VERIFICATIONS`` tasks are published;
they go on (SIGCONT) and the time until the count reaches them, polled every 50 ms, gives the
baseline's throughput. A task whose calls did not answer a match counts as failed (the
round waits for done and failed together, and reports the failed). The scale bench runs it
just before and just after the timed service part (the machine drifts) and reports the
service's part as a fraction of their mean (``scale_upstream_of_bare``): the share of what
this machine allowed that the service's own work (loading, opening sealed fields, ledger,
audit, decision) left.

The workers run as ``python -m benchmarks.bare_upstream`` (environment: ``BENCH_BARE_*``),
so no worker of the service's can take these tasks: their broker database is its own
(``BENCH_SCALE_BARE_BROKER_URL``, ``redis://127.0.0.1:6379/11``).
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import redis

from adapters.celery_runner import CeleryTaskRunner
from adapters.http_verifiers.adapters import HttpBankVerifier, HttpIdentityAuthority
from benchmarks.servers import ServerError, own_sessions
from kyc_service.domain.results import Match

BROKER_URL = os.environ.get("BENCH_SCALE_BARE_BROKER_URL", "redis://127.0.0.1:6379/11")
TASK = "bench_bare_calls"
DONE_KEY = "bench:bare:done"
FAILED_KEY = "bench:bare:failed"
POLL_SECONDS = 0.05
WAIT_SECONDS = 120.0
CALL_TIMEOUT = 5.0
"""As the scale bench's ``KYC_<ROLE>_TIMEOUT``."""
LOG_LEVEL = "WARNING"
"""As the scale bench's service (``KYC_LOG_LEVEL`` of :func:`benchmarks.servers.service_env`)."""
PEOPLE_SEED = 2025
"""The scale bench's people (:func:`benchmarks.scale.render_people`): the same answers."""
log = logging.getLogger(__name__)
_local = threading.local()
_verifiers_lock = threading.Lock()
_verifiers: list[tuple[HttpIdentityAuthority, HttpBankVerifier]] = []


@dataclass
class BareRun:
    """One timed round of the baseline: its seconds, its workers' CPU seconds, and how many
    of its tasks failed."""

    wall: float
    worker_cpu: float
    failed: int = 0


def people(count: int = 4) -> list[dict[str, str]]:
    """Synthetic people's fields for the two calls (valid check digits, no one's): the
    scale bench's first ``count`` (its ``PEOPLE`` is 4)."""
    from tests.synthetic import individual_body

    rng = random.Random(PEOPLE_SEED)
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


def verifiers() -> tuple[HttpIdentityAuthority, HttpBankVerifier]:
    """This process's two adapters (one each, shared by its threads, as the service's)."""
    with _verifiers_lock:
        if not _verifiers:
            url, secret = os.environ["BENCH_BARE_SANDBOX_URL"], os.environ["BENCH_BARE_SECRET"]
            _verifiers.append(
                (
                    HttpIdentityAuthority(url, secret, CALL_TIMEOUT),
                    HttpBankVerifier(url, secret, CALL_TIMEOUT),
                )
            )
        return _verifiers[0]


def two_calls(request_id: str, person: dict[str, str]) -> None:
    """The task: the two calls, one after the other; count it done when both answered a
    match, failed otherwise (never retried: a failure is reported, not hidden in the time)."""
    identity, bank = verifiers()
    try:
        answers = [
            identity.verify(
                person["name"], person["id_number"], request_id=f"{request_id}_identity"
            ),
            bank.verify(
                person["card_number"],
                person["name"],
                person["id_number"],
                person["phone"],
                request_id=f"{request_id}_bank",
            ),
        ]
        matched = all(isinstance(answer, Match) for answer in answers)
    except Exception as exc:  # noqa: BLE001 - an outage or a refusal: a failed task, counted
        log.warning("baseline task failed: %s", type(exc).__name__)
        matched = False
    _counter().incr(DONE_KEY if matched else FAILED_KEY)


def _counter() -> redis.Redis:
    """This thread's Redis client on the baseline's broker database."""
    client = getattr(_local, "redis", None)
    if client is None:
        client = _local.redis = redis.Redis.from_url(BROKER_URL)
    return client


def runner(broker_url: str = BROKER_URL) -> CeleryTaskRunner:
    """The service's Celery runner on the baseline's broker, with the one task on the
    ``upstream`` queue."""
    celery = CeleryTaskRunner(broker_url, log_level=LOG_LEVEL)
    celery.register(TASK, two_calls, queue="upstream")
    return celery


@contextmanager
def bare_workers(
    verifier_url: str, secret: str, workdir: Path, shape: tuple[int, int], broker_url: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
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
    workers: Sequence[subprocess.Popen[bytes]],
    persons: Sequence[dict[str, str]],
    count: int,
    cpu_of: Callable[[int], float],
) -> BareRun:
    """Publish ``count`` tasks with the workers stopped; let them go on; time until all are
    done or failed."""
    counter = redis.Redis.from_url(celery.app.conf.broker_url)
    run = secrets.token_hex(4)
    try:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGSTOP)
        try:
            counter.delete(DONE_KEY, FAILED_KEY)
            for index in range(count):
                person = persons[index % len(persons)]
                celery.submit(TASK, request_id=f"vr_bare_{run}_{index}", person=person)
            if _finished(counter):
                raise ServerError("the baseline's workers ran while stopped")
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGCONT)
        began, began_cpu = time.perf_counter(), sum(cpu_of(w.pid) for w in workers)
        deadline = time.monotonic() + WAIT_SECONDS
        while _finished(counter) < count:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise ServerError(
                    f"the baseline's workers finished {_finished(counter)} of {count} tasks"
                )
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - began
        cpu = sum(cpu_of(w.pid) for w in workers) - began_cpu
        return BareRun(wall, cpu, int(counter.get(FAILED_KEY) or 0))
    finally:
        counter.delete(DONE_KEY, FAILED_KEY)
        counter.close()


def _finished(counter: redis.Redis) -> int:
    """Tasks of this round done or failed so far."""
    done, failed = counter.mget(DONE_KEY, FAILED_KEY)
    return int(done or 0) + int(failed or 0)


def measure(
    verifier_url: str,
    secret: str,
    workdir: Path,
    shape: tuple[int, int, int],
    cpu_of: Callable[[int], float],
    broker_url: str = BROKER_URL,
) -> tuple[BareRun, BareRun]:
    """Run the baseline: ``shape`` is (processes, threads each, tasks timed). The untimed
    first round (one task a thread) and the timed one."""
    processes, threads, count = shape
    persons = people()
    celery = runner(broker_url)
    try:
        celery.purge()
        with bare_workers(
            verifier_url, secret, workdir, (processes, threads), broker_url
        ) as workers:
            cold = one_round(celery, workers, persons, processes * threads, cpu_of)
            timed = one_round(celery, workers, persons, count, cpu_of)
    finally:
        with suppress(Exception):  # a broker gone meanwhile: nothing left to purge
            celery.purge()
        celery.close()
    return cold, timed


def main(threads: int) -> None:
    """A baseline worker: the service's logging and worker entry, the ``upstream`` queue."""
    from kyc_service.observability.logs import configure_logging

    configure_logging(LOG_LEVEL)
    runner().run_worker(["upstream"], threads, "threads", lambda: None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
