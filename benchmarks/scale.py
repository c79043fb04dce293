"""Whole-flow throughput at scale: checks in the web process against a Celery worker pool
(``BENCH_ONLY=scale``).

The partner verifier sandbox answers every call after ``LATENCY_MS`` (300 ms). Each of the
``VERIFICATIONS`` (200) individual verifications, on a live key with every verifier role on
the ``http`` adapter, has a bank card and no face match: its checks are the local document
quality and ID card OCR on its two card photos, then two sequential upstream calls
(identity, bank card: 0.6 s). All of them are created and their photos uploaded before any
timing (through the API of the first server; a few pre-rendered people are reused).

- inline: ``kyc-service serve --workers 2`` with ``KYC_THREADS=25`` (50 requests at once),
  ``KYC_EXECUTOR=inline``; 50 client threads submit one verification after another; the
  time to decision is the submit's latency (it answers the decision).
- celery: the same server with ``KYC_EXECUTOR=celery`` on Redis (its queues purged first),
  a ``local`` worker (prefork, one process per core) and an ``upstream`` worker (50
  threads); 50 client threads submit (202) and wait; every 50 ms one poller lists the
  verifications still processing, and the time to decision runs from the submit to the
  first list that no longer shows it (see :class:`DecisionWatch`; ``BENCH_SCALE_POLL=each``
  has every client poll ``GET /v1/verifications/{id}`` every 50 ms instead, which on two
  cores measures mostly the polling).
- upstream-bound (celery): with the upstream worker stopped (SIGSTOP), all 200 are
  submitted and their local checks recorded; then it goes on (SIGCONT) and the time until
  all 200 are decided (seen every 50 ms by a count in the service's database, the cheapest
  observer: see :func:`undecided_count`) gives ``scale_upstream_throughput``, against the ideal
  ``min(50, upstream threads) / 0.6 s``. The goal is at least ``GOAL`` (0.8) of it. It is
  a steady-state figure: a first round of 50 (one per upstream thread) goes the same way
  before it, untimed but reported (``scale_upstream_cold_s``: its time to decide all 50,
  ideal 0.6 s), while the upstream workers' database pools fill — the one-at-a-time
  warm-up opens one connection per process, and the timed run would otherwise pay for
  ~35 new PostgreSQL connections (a backend each, its caches cold) in its first round.
- the same-run baseline (:mod:`benchmarks.bare_upstream`), just before and just after the
  timed upstream-bound run: the service's Celery runner and worker shape with a task that
  only makes the same two calls through the same adapters to the same sandbox, timed the
  same way (``scale_bare_upstream_of_ideal``: what this machine, Celery and the sandbox
  reach at all, the mean of the two); ``scale_upstream_of_bare`` is the upstream-bound
  throughput as a fraction of it — the share the service's own work leaves. Its failed
  tasks (``scale_bare_failures``) void its figures but are not the service's failures.

Each mode's ``ideal`` is its concurrency over the upstream seconds of one verification
(50 / 0.6 ≈ 83 per second); on a machine with few cores the local checks bound the whole
flow far below it: ``scale_local_stage_per_s`` is the local stage's own rate (the
upstream-bound run's, submit included), ``scale_alone_s`` one verification decided alone,
``scale_upstream_worker_cpu_ms`` the upstream worker's CPU per verification, and
``scale_upstream_cpu_bound_per_s`` the rate the machine's cores would allow at the CPU the
whole machine spent per verification in the upstream-bound run (cores / CPU seconds per
verification: the sandbox's and PostgreSQL's included). Every
verification must end ``verified``; anything else counts in ``failures``.

``BENCH_SCALE_DATABASE`` chooses the database: ``postgresql`` (fresh databases on
127.0.0.1:5432, dropped afterwards), ``sqlite``, or ``auto`` (the default: PostgreSQL when it
answers). ``BENCH_SCALE_VERIFICATIONS`` changes 200; ``BENCH_SCALE_BROKER_URL`` the broker
(``redis://127.0.0.1:6379/12``: no other worker may consume it while the bench runs), and
``BENCH_SCALE_BARE_BROKER_URL`` the baseline's (``redis://127.0.0.1:6379/11``).
"""

from __future__ import annotations

import copy
import http.client
import json
import math
import os
import random
import secrets
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import bare_upstream
from benchmarks.flow import _multipart
from benchmarks.servers import (
    BIN,
    ServerError,
    own_sessions,
    run_command,
    serve_argv,
    service_env,
    serving,
)
from benchmarks.settings import BenchSettings
from benchmarks.upstream import sandbox_server

VERIFICATIONS = int(os.environ.get("BENCH_SCALE_VERIFICATIONS", "200"))
DATABASE = os.environ.get("BENCH_SCALE_DATABASE", "auto")
POLL = os.environ.get("BENCH_SCALE_POLL", "list")
UPSTREAM_ONLY = os.environ.get("BENCH_SCALE_PARTS", "all") == "upstream"
"""``BENCH_SCALE_PARTS=upstream``: only the upstream-bound part (a quicker loop while tuning)."""
BROKER_URL = os.environ.get("BENCH_SCALE_BROKER_URL", "redis://127.0.0.1:6379/12")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASES = ("kyc_bench_scale", "kyc_bench_scale_keys")
CLIENTS = 50
SERVER_WORKERS = 2
SERVER_THREADS = 25
"""Per gunicorn worker: 2 × 25 = the 50 clients' requests at once."""
LOCAL_PROCESSES = os.cpu_count() or 1
UPSTREAM_THREADS = 50
UPSTREAM_PROCESSES = int(os.environ.get("BENCH_SCALE_UPSTREAM_PROCESSES", "2"))
"""Upstream workers (``kyc-service worker --queues upstream``), sharing the threads."""
LATENCY_MS = 300
UPSTREAM_CALLS = 2
"""Identity, then bank card: sequential."""
UPSTREAM_SECONDS = UPSTREAM_CALLS * LATENCY_MS / 1000
THREADS_PER_PROCESS = UPSTREAM_THREADS // UPSTREAM_PROCESSES
UPSTREAM_IDEAL = min(CLIENTS, THREADS_PER_PROCESS * UPSTREAM_PROCESSES) / UPSTREAM_SECONDS
"""The upstream-bound part's ideal: its threads (as the processes share them) over 0.6 s."""
POLL_SECONDS = 0.05
WARMUP = 4
"""Verifications decided one at a time before each mode's timing (models, connections)."""
PEOPLE = 4
"""Synthetic people rendered once; each verification is one of them, with its own reference."""
SETUP_THREADS = 8
DECIDED_WITHIN = 180.0
"""Seconds one verification (or one phase's wait) may take before it counts as a failure."""
LOCAL_CHECKS = frozenset({"document_quality", "id_card_ocr"})
GOAL = 0.8
VERIFIER_ROLES = ("IDENTITY", "PORTRAIT", "BANK", "REGISTRY", "ACCOUNT", "SMS")


class Api:
    """One keep-alive connection to the service under test, with the bench's live key."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port = host, port
        self.auth = {"Authorization": f"Bearer {key}"}
        self.connection = http.client.HTTPConnection(host, port, timeout=120)

    def call(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, dict[str, Any]]:
        """Send one request (once more on a fresh connection if the kept one broke); return
        the status and the JSON answer."""
        headers = {**self.auth, **({"Content-Type": content_type} if content_type else {})}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body or None, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.connection.close()
            return response.status, json.loads(payload or b"{}")
        raise AssertionError("unreachable")

    def expect(self, method: str, path: str, statuses: Sequence[int], **kwargs: Any) -> dict:
        """Like :meth:`call`; raise :class:`ServerError` on any other status."""
        status, answer = self.call(method, path, **kwargs)
        if status not in statuses:
            raise ServerError(f"{method} {path}: {status} {answer.get('error', answer)}")
        return answer

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


@dataclass
class Phase:
    """One mode's run: each verification's time to decision and final status."""

    seconds: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    worker_cpu: float = float("nan")
    """CPU seconds the upstream worker used meanwhile (the upstream-bound run)."""
    machine_cpu: float = float("nan")
    """CPU seconds the whole machine was busy meanwhile (workers, databases, sandbox, …)."""
    cold_wall: float = float("nan")
    """The upstream-bound run's untimed first round: seconds for its 50 to decide."""
    cold_failures: int = 0

    @property
    def failures(self) -> int:
        """The verifications that did not end ``verified``."""
        return sum(count for status, count in self.statuses.items() if status != "verified")

    def quantile(self, fraction: float) -> float:
        """The ``fraction`` quantile of the times to decision (nearest rank); NaN if none."""
        if not self.seconds:
            return float("nan")
        ordered = sorted(self.seconds)
        return ordered[max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))]


# --- setup: people, databases, verifications ------------------------------------------------


def render_people(count: int = PEOPLE) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    """Bodies (bank card, no face match) and ID card photos of ``count`` synthetic people."""
    from tests.synthetic import card_photos, individual_body

    rng = random.Random(bare_upstream.PEOPLE_SEED)
    people = []
    for seed in range(count):
        body = individual_body(rng, face_match=False, card=True)
        people.append((body, card_photos(body, seed=seed)))
    return people


def _ready_one(api: Api, person: tuple[dict[str, Any], dict[str, bytes]], reference: str) -> str:
    """Create one verification of ``person`` and upload its ID card photos; its id."""
    body, photos = person
    body = copy.deepcopy(body) | {"reference": reference}
    created = api.expect(
        "POST",
        "/v1/verifications",
        (201,),
        body=json.dumps(body).encode(),
        content_type="application/json",
    )
    for kind, image in photos.items():
        payload, content_type = _multipart(kind, image)
        path = f"/v1/verifications/{created['id']}/documents"
        api.expect("POST", path, (201,), body=payload, content_type=content_type)
    return str(created["id"])


def ready_verifications(
    host: str, port: int, key: str, people: list, references: Sequence[str]
) -> list[str]:
    """Create and fill one verification per reference (``SETUP_THREADS`` at once); the ids."""
    ids: list[str] = [""] * len(references)

    def ready(index: int, api: Api) -> None:
        ids[index] = _ready_one(api, people[index % len(people)], references[index])

    errors = _fan_out(host, port, key, len(references), SETUP_THREADS, ready)
    if errors:
        raise ServerError(f"{len(errors)} verifications could not be prepared: {errors[0]}")
    return ids


def database_kind() -> str:
    """``BENCH_SCALE_DATABASE``; ``auto`` is PostgreSQL when it answers on 127.0.0.1:5432."""
    if DATABASE not in ("auto", "postgresql", "sqlite"):
        raise ValueError(f"BENCH_SCALE_DATABASE={DATABASE!r}: auto, postgresql or sqlite")
    if DATABASE != "auto":
        return DATABASE
    import psycopg

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2).close()
    except psycopg.Error:
        return "sqlite"
    return "postgresql"


@contextmanager
def databases(workdir: Path, kind: str) -> Iterator[tuple[str, str]]:
    """Yield fresh (data, key store) database URLs of ``kind``; PostgreSQL ones are created
    on 127.0.0.1:5432 and dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'kyc.db'}", f"sqlite:///{workdir / 'keys.db'}"
        return
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        for name in POSTGRES_DATABASES:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            yield f"{base}/{POSTGRES_DATABASES[0]}", f"{base}/{POSTGRES_DATABASES[1]}"
        finally:
            for name in POSTGRES_DATABASES:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scale_env(workdir: Path, data_url: str, keys_url: str, verifier_url: str, secret: str) -> dict:
    """The service's environment: production, every verifier role on ``http`` to the
    sandbox, the given databases, 25 threads per gunicorn worker."""
    env = service_env(workdir)
    env.update(
        {
            "KYC_DATABASE_URL": data_url,
            "KYC_KEYSTORE_URL": keys_url,
            "KYC_ENV": "production",
            "KYC_THREADS": str(SERVER_THREADS),
            "KYC_BROKER_URL": BROKER_URL,
        }
    )
    for role in VERIFIER_ROLES:
        env.update(
            {
                f"KYC_{role}_ADAPTER": "http",
                f"KYC_{role}_URL": verifier_url,
                f"KYC_{role}_SECRET": secret,
                f"KYC_{role}_TIMEOUT": "5",
            }
        )
    return env


def live_key(workdir: Path, env: dict[str, str]) -> str:
    """Migrate the databases; return a fresh live key with every scope."""
    cli = str(BIN / "kyc-service")
    run_command([cli, "db", "upgrade"], env, workdir)
    output = run_command(
        [cli, "keys", "create", "--tenant", "bench", "--mode", "live", "--scopes", "*"],
        env,
        workdir,
    )
    return output.strip().splitlines()[-1].strip()


# --- clients ----------------------------------------------------------------------------------


def _fan_out(
    host: str, port: int, key: str, count: int, threads: int, work: Callable[[int, Api], None]
) -> list[str]:
    """Run ``work(index, api)`` for every index from ``threads`` threads (one connection
    each, the next index from a shared cursor); the errors, as text."""
    cursor = iter(range(count))
    lock = threading.Lock()
    errors: list[str] = []

    def client() -> None:
        api = Api(host, port, key)
        try:
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                try:
                    work(index, api)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            api.close()

    pool = [threading.Thread(target=client, daemon=True) for _ in range(min(threads, count))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors


Decide = Callable[[Api, str], tuple[str, float]]
"""Submit one verification and wait for its decision: the status and when it was seen."""


def submit_inline(api: Api, verification_id: str) -> tuple[str, float]:
    """Submit; the decision it answers (or ``http_<status>``), and when it came."""
    status, answer = api.call("POST", f"/v1/verifications/{verification_id}/submit")
    return (str(answer.get("status")) if status == 200 else f"http_{status}"), time.perf_counter()


def submit_and_poll(api: Api, verification_id: str) -> tuple[str, float]:
    """Submit (202), then ``GET`` it every ``POLL_SECONDS`` until decided; the decision and
    when the first poll that saw it came back (``BENCH_SCALE_POLL=each``)."""
    path = f"/v1/verifications/{verification_id}"
    status, answer = api.call("POST", f"{path}/submit")
    if status != 202:
        return f"http_{status}", time.perf_counter()
    deadline = time.monotonic() + DECIDED_WITHIN
    while answer.get("status") == "processing":
        if time.monotonic() > deadline:
            return "timeout", time.perf_counter()
        time.sleep(POLL_SECONDS)
        status, answer = api.call("GET", path)
        if status != 200:
            return f"http_{status}", time.perf_counter()
    return str(answer.get("status")), time.perf_counter()


class DecisionWatch:
    """One poller for every client (``BENCH_SCALE_POLL=list``, the default): every
    ``POLL_SECONDS`` it lists the key's verifications still ``processing``; one submitted
    before that list was asked for and missing from it was decided when the list came back.

    Fifty clients each polling its own verification every 50 ms send about 1,000 requests a
    second, which on a small machine take the cores the checks need; one list a poll keeps
    the same 50 ms resolution at a small fraction of the cost.
    """

    def __init__(self, host: str, port: int, key: str) -> None:
        self.api = Api(host, port, key)
        self.lock = threading.Lock()
        self.waiting: dict[str, tuple[float, threading.Event]] = {}
        self.seen: dict[str, float] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> DecisionWatch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()
        self.api.close()

    def _poll(self) -> None:
        """List the processing verifications until stopped; wake the decided ones' clients."""
        while not self.stopping.is_set():
            asked = time.perf_counter()
            with suppress(Exception):  # a failed list: the next one tells
                held = {verification["id"] for verification in _processing(self.api)}
                answered = time.perf_counter()
                with self.lock:
                    for verification_id, (submitted, event) in list(self.waiting.items()):
                        if submitted < asked and verification_id not in held:
                            self.seen[verification_id] = answered
                            del self.waiting[verification_id]
                            event.set()
            self.stopping.wait(POLL_SECONDS)

    def decide(self, api: Api, verification_id: str) -> tuple[str, float]:
        """Submit (202); wait until a list no longer shows it processing; its status."""
        path = f"/v1/verifications/{verification_id}"
        status, _ = api.call("POST", f"{path}/submit")
        if status != 202:
            return f"http_{status}", time.perf_counter()
        event = threading.Event()
        with self.lock:
            self.waiting[verification_id] = (time.perf_counter(), event)
        if not event.wait(DECIDED_WITHIN):
            with self.lock:
                self.waiting.pop(verification_id, None)
            return "timeout", time.perf_counter()
        with self.lock:
            decided = self.seen.pop(verification_id)
        status, answer = api.call("GET", path)
        return (str(answer.get("status")) if status == 200 else f"http_{status}"), decided


def drive(
    host: str,
    port: int,
    key: str,
    ids: Sequence[str],
    decide: Decide,
    clients: int = CLIENTS,
) -> Phase:
    """Decide every verification with ``decide`` from ``clients`` threads; time each one
    (from just before its submit) and the whole run."""
    phase = Phase()
    lock = threading.Lock()

    def one(index: int, api: Api) -> None:
        started = time.perf_counter()
        try:
            status, decided = decide(api, ids[index])
        except Exception as exc:  # noqa: BLE001 - a failed verification, counted as such
            status, decided = type(exc).__name__, time.perf_counter()
        with lock:
            phase.statuses[status] += 1
            if status == "verified":
                phase.seconds.append(decided - started)

    began = time.perf_counter()
    _fan_out(host, port, key, len(ids), clients, one)
    phase.wall = time.perf_counter() - began
    return phase


def warm_up(host: str, port: int, key: str, ids: Sequence[str], decide: Decide) -> list[float]:
    """Decide the warm-up verifications one at a time; their seconds (verified only)."""
    phase = drive(host, port, key, ids, decide, clients=1)
    if phase.failures:
        raise ServerError(f"the warm-up did not verify: {dict(phase.statuses)}")
    return phase.seconds


# --- the worker pool --------------------------------------------------------------------------


def purge_queues() -> int:
    """Drop whatever waits on the service's queues at ``BROKER_URL``; how many messages."""
    from adapters.celery_runner import CeleryTaskRunner

    runner = CeleryTaskRunner(BROKER_URL)
    try:
        return runner.purge()
    finally:
        runner.close()


@contextmanager
def worker_pool(env: dict[str, str], workdir: Path) -> Iterator[dict[str, subprocess.Popen]]:
    """Run the ``local`` (prefork) and ``upstream`` (threads) workers, each in a session of
    its own (SIGSTOP reaches all of it); stop both on exit, paused or not."""
    cli = str(BIN / "kyc-service")
    threads = str(THREADS_PER_PROCESS)
    upstream = [cli, "worker", "--queues", "upstream", "--concurrency", threads]
    argv = {
        "worker-local": [cli, "worker", "--queues", "local", "--concurrency", str(LOCAL_PROCESSES)],
        **{f"worker-upstream-{n}": upstream for n in range(UPSTREAM_PROCESSES)},
    }
    with own_sessions(argv, {**env, "KYC_EXECUTOR": "celery"}, workdir, workdir) as started:
        yield {name.removeprefix("worker-"): process for name, process in started.items()}


def machine_busy_seconds() -> float:
    """CPU seconds all cores of the machine have spent busy so far (``/proc/stat``)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The CPU seconds (user + system) process ``pid`` has used so far; NaN if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_tails(workdir: Path, lines: int = 15) -> str:
    """The last lines of every worker's and server's log (for a failure's message)."""
    return "\n".join(
        f"--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        for path in sorted(workdir.glob("*.log"))
    )


def _processing(api: Api) -> list[dict[str, Any]]:
    """Every verification of the key still ``processing`` (all pages)."""
    found: list[dict[str, Any]] = []
    after = ""
    while True:
        query = "/v1/verifications?status=processing&limit=100"
        page = api.expect("GET", query + (f"&starting_after={after}" if after else ""), (200,))
        found += page["data"]
        if not page["has_more"] or not page["data"]:
            return found
        after = page["data"][-1]["id"]


def _wait(what: str, done: Callable[[], bool], every: float = POLL_SECONDS) -> None:
    """Poll ``done`` every ``every`` seconds until it holds; raise past ``DECIDED_WITHIN``."""
    deadline = time.monotonic() + DECIDED_WITHIN
    while not done():
        if time.monotonic() > deadline:
            raise ServerError(f"timed out after {DECIDED_WITHIN:g} s waiting for {what}")
        time.sleep(every)


@contextmanager
def undecided_count(data_url: str, ids: Sequence[str]) -> Iterator[Callable[[], int]]:
    """How many of ``ids`` are still ``processing``, read straight from the service's
    database on one connection of the bench's own: the upstream-bound run's observer.

    A poll of the API every 50 ms cost the web server about 2 ms of CPU per verification
    decided (the whole machine about 3 ms), on the cores the upstream workers need (the
    baseline's observer reads a counter in Redis); this one indexed count costs little and
    sees a decision as soon as it is committed. The connection is in autocommit: no
    transaction stays open between polls.
    """
    from sqlalchemy import func, select

    from kyc_service.domain.verification import Status
    from kyc_service.persistence.database import make_engine
    from kyc_service.persistence.tables import VerificationRow

    row = VerificationRow
    processing = row.status == Status.PROCESSING.value
    query = select(func.count()).where(row.id.in_(list(ids)), processing)
    engine = make_engine(data_url, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield lambda: int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def _local_stage(
    host: str,
    port: int,
    key: str,
    api: Api,
    ids: Sequence[str],
    upstream: Sequence[subprocess.Popen],
) -> float:
    """Submit every verification with the upstream workers stopped; once all their local
    checks are recorded, let the workers go on. The seconds the local stage took."""
    began = time.perf_counter()
    for worker in upstream:
        os.killpg(worker.pid, signal.SIGSTOP)
    try:
        errors = _fan_out(
            host,
            port,
            key,
            len(ids),
            CLIENTS,
            lambda i, client: client.expect("POST", f"/v1/verifications/{ids[i]}/submit", (202,)),
        )
        if errors:
            raise ServerError(f"{len(errors)} submits failed: {errors[0]}")

        def local_recorded() -> bool:
            held = _processing(api)
            return len(held) == len(ids) and all(
                {check["name"] for check in v["checks"]} >= LOCAL_CHECKS for v in held
            )

        _wait("the local checks", local_recorded, every=0.5)  # not timed: a light poll
        return time.perf_counter() - began
    finally:
        for worker in upstream:
            os.killpg(worker.pid, signal.SIGCONT)


def upstream_bound(
    host: str,
    port: int,
    key: str,
    ids: Sequence[str],
    upstream: Sequence[subprocess.Popen],
    data_url: str,
) -> tuple[Phase, float]:
    """Submit every verification with the upstream worker stopped; once all their local
    checks are recorded, let it go on and time until every one is decided (seen in the
    database: :func:`undecided_count`). The phase, and the seconds the local stage took."""

    def cpu() -> float:
        return sum(cpu_seconds(worker.pid) for worker in upstream)

    api = Api(host, port, key)
    with undecided_count(data_url, ids) as undecided:
        undecided()  # connected before the workers go on
        local_seconds = _local_stage(host, port, key, api, ids, upstream)
        phase = Phase()
        resumed, began_cpu, began_busy = time.perf_counter(), cpu(), machine_busy_seconds()
        _wait("the upstream checks", lambda: undecided() == 0)
        phase.wall = time.perf_counter() - resumed
        phase.worker_cpu = cpu() - began_cpu
        phase.machine_cpu = machine_busy_seconds() - began_busy
    for verification_id in ids:
        answer = api.expect("GET", f"/v1/verifications/{verification_id}", (200,))
        phase.statuses[str(answer["status"])] += 1
    api.close()
    return phase, local_seconds


# --- the modes --------------------------------------------------------------------------------


@dataclass
class Batches:
    """The verification ids of each run, all prepared before any timing."""

    inline_warmup: list[str]
    inline: list[str]
    celery_warmup: list[str]
    celery: list[str]
    upstream_warmup: list[str]
    upstream: list[str]


def prepare(host: str, port: int, key: str) -> Batches:
    """Create and fill every batch's verifications through the API (not timed)."""
    people = render_people()
    whole = 0 if UPSTREAM_ONLY else 1
    sizes = {
        "inline_warmup": WARMUP,
        "inline": VERIFICATIONS * whole,
        "celery_warmup": WARMUP,
        "celery": VERIFICATIONS * whole,
        "upstream_warmup": CLIENTS,
        "upstream": VERIFICATIONS,
    }
    references = [f"scale-{name}-{i}" for name, size in sizes.items() for i in range(size)]
    began = time.perf_counter()
    ids = ready_verifications(host, port, key, people, references)
    took = time.perf_counter() - began
    print(
        f"  setup    {len(ids)} verifications created, 2 photos each, in {took:.1f} s", flush=True
    )
    batches, start = {}, 0
    for name, size in sizes.items():
        batches[name], start = ids[start : start + size], start + size
    return Batches(**batches)


def _report(label: str, phase: Phase, ideal: float) -> None:
    """Print one mode's line (and its statuses when any verification failed)."""
    rate = len(phase.seconds) / phase.wall if phase.wall else float("nan")
    print(
        f"  {label:<8} {sum(phase.statuses.values())} verifications in {phase.wall:6.1f} s: "
        f"{rate:5.2f}/s ({rate / ideal:.3f} of ideal {ideal:.1f}/s)  "
        f"decision p50 {phase.quantile(0.5):6.2f} s  p90 {phase.quantile(0.9):6.2f} s  "
        f"failures {phase.failures}",
        flush=True,
    )
    if phase.failures:
        print(f"  {label}: statuses {dict(phase.statuses)}", flush=True)


def rounded(value: float, digits: int = 3) -> float | None:
    """``value`` rounded, or None (JSON's null) when it is not a number."""
    return None if math.isnan(value) else round(value, digits)


def per(total: float, by: float) -> float:
    """``total / by``; NaN when there is nothing to divide by."""
    return total / by if by else float("nan")


def baseline(env: dict[str, str], workdir: Path, label: str) -> bare_upstream.BareRun | None:
    """One timed round of the same-run baseline (:mod:`benchmarks.bare_upstream`) on the
    upstream workers' shape and the service's sandbox (``env``); None (and why, with its
    workers' logs) when it could not run: the service's figures stand without it."""
    shape = (UPSTREAM_PROCESSES, THREADS_PER_PROCESS, VERIFICATIONS)
    url, secret = env["KYC_IDENTITY_URL"], env["KYC_IDENTITY_SECRET"]
    logs = workdir / f"bare-{label}"
    logs.mkdir(exist_ok=True)
    try:
        cold, timed = bare_upstream.measure(url, secret, logs, shape, cpu_seconds)
    except Exception as exc:  # noqa: BLE001 - a broker, Redis or worker failure: reported
        print(f"  bare     the baseline failed: {exc!r}\n{log_tails(logs)}", flush=True)
        return None
    timed.failed += cold.failed
    return timed


def bare_figures(runs: Sequence[bare_upstream.BareRun | None], rate: float) -> dict[str, Any]:
    """Print the baseline's line; its figures, and the service's part (``rate``) as a
    fraction of it — None where a run of it did not run or had failed tasks. Its failed
    tasks are reported apart (``scale_bare_failures``): they are not the service's."""
    failed = sum(run.failed if run else VERIFICATIONS for run in runs)
    if not runs or failed:
        print(f"  bare     no baseline figures ({failed} tasks failed or did not run)", flush=True)
        return {
            "scale_bare_upstream_throughput": None,
            "scale_bare_upstream_of_ideal": None,
            "scale_bare_upstream_worker_cpu_ms": None,
            "scale_upstream_of_bare": None,
            "scale_bare_failures": failed,
        }
    rates = [per(VERIFICATIONS, run.wall) for run in runs if run]
    bare_rate = statistics.fmean(rates)
    cpu_ms = statistics.fmean(per(run.worker_cpu, VERIFICATIONS) * 1000 for run in runs if run)
    print(
        f"  bare     Celery alone making the same two calls through the same adapters (no "
        f"database; same workers), just before and after: "
        f"{', '.join(f'{per(r, UPSTREAM_IDEAL):.3f}' for r in rates)} of ideal, "
        f"{cpu_ms:.1f} ms worker CPU per task; the service's upstream-bound part is "
        f"{per(rate, bare_rate):.3f} of their mean",
        flush=True,
    )
    return {
        "scale_bare_upstream_throughput": rounded(bare_rate, 2),
        "scale_bare_upstream_of_ideal": rounded(per(bare_rate, UPSTREAM_IDEAL)),
        "scale_bare_upstream_worker_cpu_ms": rounded(cpu_ms, 1),
        "scale_upstream_of_bare": rounded(per(rate, bare_rate)),
        "scale_bare_failures": 0,
    }


def _figures(prefix: str, phase: Phase, ideal: float) -> dict[str, Any]:
    """One mode's flat figures."""

    rate = len(phase.seconds) / phase.wall if phase.wall else float("nan")
    return {
        f"{prefix}_wall_s": round(phase.wall, 2),
        f"{prefix}_per_s": rounded(rate, 2),
        f"{prefix}_p50_s": rounded(phase.quantile(0.5)),
        f"{prefix}_p90_s": rounded(phase.quantile(0.9)),
        f"{prefix}_ideal_per_s": round(ideal, 1),
        f"{prefix}_of_ideal": rounded(rate / ideal),
        f"{prefix}_failures": phase.failures,
    }


def run_inline(env: dict[str, str], workdir: Path, key: str) -> tuple[Batches, Phase, float]:
    """Serve inline; prepare every batch; time the inline batch. The batches, the phase and
    the seconds of one verification decided alone."""
    argv = serve_argv(SERVER_WORKERS)
    with serving(argv, {**env, "KYC_EXECUTOR": "inline"}, workdir, "inline") as server:
        batches = prepare(server.host, server.port, key)
        alone = warm_up(server.host, server.port, key, batches.inline_warmup, submit_inline)
        phase = (
            drive(server.host, server.port, key, batches.inline, submit_inline)
            if batches.inline
            else Phase()
        )
    return batches, phase, statistics.median(alone[1:] or alone)


def run_celery(
    env: dict[str, str], workdir: Path, key: str, batches: Batches
) -> tuple[Phase, Phase, float, list[bare_upstream.BareRun | None]]:
    """Serve on the worker pool; time the whole flow, then the upstream-bound part, just
    after and just before a run of the baseline (the machine's speed drifts)."""
    purged = purge_queues()
    if purged:
        print(f"  celery   purged {purged} stale messages from {BROKER_URL}", flush=True)
    argv = serve_argv(SERVER_WORKERS)
    celery_env = {**env, "KYC_EXECUTOR": "celery"}
    with (
        serving(argv, celery_env, workdir, "celery") as server,
        worker_pool(celery_env, workdir) as workers,
    ):
        host, port = server.host, server.port
        try:
            whole = Phase()
            with DecisionWatch(host, port, key) as watch:
                decide = submit_and_poll if POLL == "each" else watch.decide
                warm_up(host, port, key, batches.celery_warmup, decide)
                if batches.celery:
                    whole = drive(host, port, key, batches.celery, decide)
            upstream_workers = [p for name, p in workers.items() if name.startswith("upstream")]
            data_url = env["KYC_DATABASE_URL"]
            cold, _ = upstream_bound(
                host, port, key, batches.upstream_warmup, upstream_workers, data_url
            )
            bares = [baseline(env, workdir, "before")]
            upstream, local_seconds = upstream_bound(
                host, port, key, batches.upstream, upstream_workers, data_url
            )
            bares.append(baseline(env, workdir, "after"))
        except ServerError as exc:
            raise ServerError(f"{exc}\n{log_tails(workdir)}") from None
    upstream.cold_wall = cold.wall
    upstream.cold_failures = cold.failures
    return whole, upstream, local_seconds, bares


def bench_scale(settings: BenchSettings) -> dict[str, Any]:
    """Decide ``VERIFICATIONS`` verifications inline and on the worker pool; the figures."""
    del settings  # this benchmark's load shape is its own (50 clients, 200 verifications)
    ideal = CLIENTS / UPSTREAM_SECONDS
    kind = database_kind()
    print(
        f"scale: {VERIFICATIONS} verifications (2 upstream calls of {LATENCY_MS} ms each, 2 card "
        f"photos), {CLIENTS} clients, {kind}, {os.cpu_count()} cores, poll {POLL}",
        flush=True,
    )
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="kyc-bench-scale-") as directory:
        workdir = Path(directory)
        with (
            sandbox_server(secret, workdir, "--latency-ms", str(LATENCY_MS)) as verifier_url,
            databases(workdir, kind) as (data_url, keys_url),
        ):
            env = scale_env(workdir, data_url, keys_url, verifier_url, secret)
            key = live_key(workdir, env)
            batches, inline, alone = run_inline(env, workdir, key)
            _report("inline", inline, ideal)
            whole, upstream, local_seconds, bares = run_celery(env, workdir, key, batches)
    _report("celery", whole, ideal)
    local_rate = per(VERIFICATIONS, local_seconds)
    rate = per(VERIFICATIONS, upstream.wall)
    of_ideal = rate / UPSTREAM_IDEAL
    print(
        f"  upstream {VERIFICATIONS} decided {upstream.wall:.2f} s after the upstream worker went "
        f"on: {rate:.1f}/s = {of_ideal:.3f} of ideal {UPSTREAM_IDEAL:.1f}/s — "
        f"{'meets' if of_ideal >= GOAL else 'MISSES'} the goal of >= {GOAL} "
        f"(local stage {local_seconds:.1f} s; statuses {dict(upstream.statuses)})",
        flush=True,
    )
    print(
        f"  upstream its first round of {CLIENTS} (untimed; the workers' database pools "
        f"filling) decided in {upstream.cold_wall:.2f} s (ideal {UPSTREAM_SECONDS:.1f} s)",
        flush=True,
    )
    worker_cpu_ms = per(upstream.worker_cpu, VERIFICATIONS) * 1000
    spent = per(upstream.machine_cpu, VERIFICATIONS)  # NaN where /proc/stat cannot be read
    cpu_bound = (os.cpu_count() or 1) / spent if spent > 0 else float("nan")
    print(
        f"  upstream worker CPU {worker_cpu_ms:.1f} ms per verification "
        f"({upstream.worker_cpu / upstream.wall:.2f} cores while it ran; the machine "
        f"{upstream.machine_cpu / upstream.wall:.2f} of {os.cpu_count()} cores busy, "
        f"{spent * 1000:.1f} ms per verification: at that "
        f"CPU the cores allow {cpu_bound:.1f}/s = {cpu_bound / UPSTREAM_IDEAL:.3f} of ideal)",
        flush=True,
    )
    bare = bare_figures(bares, rate)
    print(
        f"  bounds   one verification alone {alone:.2f} s ({UPSTREAM_SECONDS:.1f} s upstream); "
        f"the local stage alone {local_rate:.1f}/s ({LOCAL_PROCESSES} local processes on "
        f"{os.cpu_count()} cores) caps the whole flow",
        flush=True,
    )
    upstream_failures = upstream.cold_failures + sum(
        c for s, c in upstream.statuses.items() if s != "verified"
    )
    return {
        "scale_verifications": VERIFICATIONS,
        "scale_clients": CLIENTS,
        "scale_database": kind,
        "scale_poll": POLL,
        **_figures("scale_inline", inline, ideal),
        **_figures("scale_celery", whole, ideal),
        "scale_upstream_wall_s": round(upstream.wall, 2),
        "scale_upstream_throughput": rounded(rate, 2),
        "scale_upstream_ideal_per_s": round(UPSTREAM_IDEAL, 1),
        "scale_upstream_of_ideal": rounded(of_ideal),
        "scale_upstream_failures": upstream_failures,
        "scale_upstream_cold_s": rounded(upstream.cold_wall, 2),
        "scale_local_stage_s": round(local_seconds, 1),
        "scale_upstream_machine_cpu_ms": rounded(spent * 1000, 1),
        "scale_upstream_cpu_bound_per_s": rounded(cpu_bound, 1),
        "scale_upstream_worker_cpu_ms": rounded(worker_cpu_ms, 1),
        **bare,
        "scale_alone_s": round(alone, 3),
        "scale_local_stage_per_s": rounded(local_rate, 2),
        "failures": inline.failures + whole.failures + upstream_failures,
    }
