"""Issue 15: the worker pool under faults.

200 live verifications with a face match, checked through the ``http`` verifier adapters
against ``kyc-service sandbox-verifiers``, plus 30 test-mode ones whose webhooks go to a
loopback receiver (live endpoints may not be on loopback), all on one pool: a ``local``
worker (2 prefork processes), an ``upstream`` worker (16 threads) and beat. While they
run, one of the pool's processes is SIGKILLed every 3 s (a pool process or a worker's main
process, restarted as a supervisor would), the PostgreSQL cluster is restarted once and the
Redis broker once (it keeps nothing on disk: every queued message is lost). Both servers are
the test's own, on free loopback ports.

Then: every verification is decided as its data calls for, none is decided twice (one
final event each), the ledger bills each upstream check of each verification at most once
(exactly once for those that were verified), and every test-mode decision reached the
receiver (deliveries are counted; a repeat after a killed delivery is allowed and printed).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kyc_service.app import create_app
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.persistence.database import make_engine
from kyc_service.persistence.migrate import upgrade
from kyc_service.services.api_keys import create_key
from tests.helpers import create, production_config, submit, upload
from tests.own_servers import OwnPostgres, OwnRedis
from tests.synthetic import card_photos, face_photo, individual_body
from tests.webhook_receiver import event_ids, start_receiver
from tests.worker_pool import WorkerPool, pool_env

LIVE = 200
TEST_MODE = 30
PEOPLE = 6
MISMATCH_NAME = "测试不符"
"""The sandbox's magic name: the identity authority answers a mismatch (rejected)."""
SECRET = "fault-test-secret-0123456789"
KILL_EVERY = 3.0
RESTARTED_PG = "PostgreSQL restarted"
RESTARTED_BROKER = "Redis restarted (queued messages lost)"
DEADLINE = 480
pytestmark = pytest.mark.timeout(900)
rng = random.Random(1515)


def _migrated(pg: OwnPostgres) -> tuple[str, str]:
    """The data database and the key store, migrated."""
    urls = (pg.create_database("kyc"), pg.create_database("keys"))
    for url, keystore in zip(urls, (False, True), strict=True):
        engine = make_engine(url)
        upgrade(engine, keystore=keystore)
        engine.dispose()
    return urls


def _people() -> list[tuple[dict, dict[str, bytes], str]]:
    """(body, documents, expected status) of a few synthetic people; the last one's name
    is the sandbox's mismatch value (its card printed with it)."""
    people = []
    for index in range(PEOPLE):
        magic = index == PEOPLE - 1
        body = individual_body(rng, face_match=True, **({"name": MISMATCH_NAME} if magic else {}))
        documents = {**card_photos(body, seed=index), "selfie": face_photo("obama_2.jpg")}
        people.append((body, documents, "rejected" if magic else "verified"))
    return people


def _key(app, mode: Mode) -> dict[str, str]:  # noqa: ANN001 - the Flask app
    key = create_key(app.extensions["kyc"].unit_of_work(), "acme", mode, parse_scopes("*"))
    return {"Authorization": f"Bearer {key}"}


def _prepare(app, plan: list[tuple[dict[str, str], dict, dict[str, bytes]]]) -> list[str]:  # noqa: ANN001
    """Create each verification with its documents (two threads); their ids, in order."""

    def one(item: tuple[int, tuple[dict[str, str], dict, dict[str, bytes]]]) -> str:
        index, (auth, body, documents) = item
        client = app.test_client()
        created = create(client, auth, {**body, "reference": f"fault-{index}"})
        assert created.status_code == 201, created.get_json()
        verification_id = created.get_json()["id"]
        for kind, image in documents.items():
            response = upload(client, auth, verification_id, kind, image)
            assert response.status_code == 201, response.get_json()
        return verification_id

    with ThreadPoolExecutor(2) as threads:
        return list(threads.map(one, enumerate(plan)))


class Chaos(threading.Thread):
    """Kills a pool process every few seconds; restarts PostgreSQL and the broker once."""

    def __init__(self, pool: WorkerPool, pg: OwnPostgres, broker: OwnRedis) -> None:
        super().__init__(daemon=True)
        self.pool, self.pg, self.broker = pool, pg, broker
        self.done = threading.Event()
        self.log: list[str] = []
        self.errors: list[str] = []
        self.random = random.Random(7)

    def run(self) -> None:
        started = time.monotonic()
        faults = {12.0: (RESTARTED_PG, self.pg.restart)}
        faults[30.0] = (RESTARTED_BROKER, self.broker.restart)
        while not self.done.wait(KILL_EVERY):
            try:
                self._round(started, faults)
            except Exception as exc:  # noqa: BLE001 - recorded; the test fails on it
                self.errors.append(repr(exc))

    def _round(self, started: float, faults: dict) -> None:
        self.log.append(f"killed {self.pool.kill_one(self.random)}")
        for name, process in self.pool.processes.items():
            if not process.alive():  # a supervisor restarts what died
                self.pool.start(name)
                self.log.append(f"restarted {name}")
        elapsed = time.monotonic() - started
        for at in sorted(faults):
            if elapsed >= at:
                what, fault = faults.pop(at)
                fault()
                self.log.append(what)


def _statuses(app, ids: list[str]) -> dict[str, str]:  # noqa: ANN001
    """The status of each verification (an empty dict while the database is restarting)."""
    try:
        with app.extensions["kyc"].unit_of_work() as uow:
            rows = uow.session.execute(text("SELECT id, status FROM verifications")).all()
    except SQLAlchemyError:
        return {}
    wanted = set(ids)
    return {row[0]: row[1] for row in rows if row[0] in wanted}


def _query(app, sql: str) -> list:  # noqa: ANN001
    with app.extensions["kyc"].unit_of_work() as uow:
        return list(uow.session.execute(text(sql)).all())


def test_no_verification_is_lost_or_decided_twice_under_faults(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faults")
    pg, broker = OwnPostgres(), OwnRedis()
    pg.start()
    broker.start()
    from benchmarks.upstream import sandbox_server

    try:
        data_url, keys_url = _migrated(pg)
        with sandbox_server(SECRET, workdir, "--latency-ms", "30") as verifiers:
            _run(workdir, pg, broker, data_url, keys_url, verifiers)
    finally:
        broker.stop()
        pg.stop()


def _run(workdir: Path, pg, broker, data_url, keys_url, verifiers) -> None:  # noqa: ANN001, PLR0913
    settings = production_config(data_url, keys_url, http_url=verifiers, secret=SECRET) | {
        "EXECUTOR": "celery",
        "BROKER_URL": broker.url,
        "CHECKS_LEASE_SECONDS": 15,
        # A kill every 3 s lands on whatever runs then, far more often than a worker ever
        # dies: a run hit three times in a row would go to review, which the limit is for
        # (a poison message: tests/test_unfinished_runs.py), not this test's chaos.
        "UNFINISHED_RUNS_LIMIT": 10,
        "UPSTREAM_RETRY_SECONDS": 1,
        "BEAT_RETRY_SECONDS": 2,
        "BEAT_WEBHOOKS_SECONDS": 1,
        "LOG_LEVEL": "WARNING",
    }
    app = create_app(settings)
    pool = WorkerPool(pool_env({k: v for k, v in settings.items() if k != "TESTING"}), workdir)
    receiver = start_receiver()
    try:
        live, test = _key(app, Mode.LIVE), _key(app, Mode.TEST)
        endpoint = {"url": receiver.url, "events": ["*"]}
        assert (
            app.test_client().post("/v1/webhook-endpoints", json=endpoint, headers=test).status_code
            == 201
        )
        people = _people()
        plan = [(live, *people[i % PEOPLE][:2]) for i in range(LIVE)]
        plan += [(test, *people[i % PEOPLE][:2]) for i in range(TEST_MODE)]
        expected = [people[i % PEOPLE][2] for i in range(LIVE)]
        expected += [people[i % PEOPLE][2] for i in range(TEST_MODE)]
        ids = _prepare(app, plan)
        pool.start("local", "worker", "--queues", "local", "--concurrency", "2")
        pool.start("upstream", "worker", "--queues", "upstream", "--concurrency", "16")
        pool.start("beat", "beat", "--schedule-file", str(workdir / "beat-schedule"))
        client = app.test_client()
        for (auth, _, _), verification_id in zip(plan, ids, strict=True):
            assert submit(client, auth, verification_id).status_code == 202
        chaos = Chaos(pool, pg, broker)
        chaos.start()
        started = time.monotonic()
        try:
            while time.monotonic() - started < DEADLINE:
                statuses = _statuses(app, ids)
                if len(statuses) == len(ids) and "processing" not in statuses.values():
                    break
                time.sleep(1)
        finally:
            chaos.done.set()
            chaos.join(30)
        elapsed = time.monotonic() - started
        _deliveries_settle(app, receiver, ids[LIVE:])
        assert not chaos.errors, chaos.errors
        assert {RESTARTED_PG, RESTARTED_BROKER} <= set(chaos.log), "a fault was not injected"
        _check(app, ids, expected, receiver, chaos.log, elapsed, pool)
    finally:
        pool.stop()
        receiver.server.shutdown()
        app.extensions["kyc"].close()


def _deliveries_settle(app, receiver, test_ids: list[str], seconds: float = 60) -> None:  # noqa: ANN001
    """Wait until each test-mode decision's event reached the receiver (beat delivers)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if set(_final_events(app, test_ids).values()) <= set(event_ids(receiver)):
            return
        time.sleep(0.5)


def _final_events(app, ids: list[str]) -> dict[str, str]:  # noqa: ANN001
    """The id of each verification's final event."""
    wanted = set(ids)
    rows = _query(
        app,
        "SELECT verification_id, id FROM events WHERE type IN "
        "('verification.verified', 'verification.rejected', 'verification.in_review')",
    )
    return {row[0]: row[1] for row in rows if row[0] in wanted}


def _check(app, ids, expected, receiver, chaos_log, elapsed, pool) -> None:  # noqa: ANN001, PLR0913
    statuses = _statuses(app, ids)
    print(f"\n{len(ids)} verifications decided in {elapsed:.0f} s under: {Counter(chaos_log)}")
    undecided = [i for i in ids if statuses.get(i) == "processing"]
    assert not undecided, f"{len(undecided)} never decided\n{pool.logs()}"
    wrong = [
        (i, statuses[i], want) for i, want in zip(ids, expected, strict=True) if statuses[i] != want
    ]
    assert not wrong, f"decided other than their data calls for: {wrong[:5]}"

    finals = Counter(
        row[0]
        for row in _query(
            app,
            "SELECT verification_id FROM events WHERE type IN "
            "('verification.verified', 'verification.rejected', 'verification.in_review')",
        )
    )
    assert all(finals[i] == 1 for i in ids), [(i, finals[i]) for i in ids if finals[i] != 1][:5]

    billed = Counter(
        (row[0], row[1])
        for row in _query(
            app, "SELECT verification_id, check_name FROM upstream_calls WHERE billable"
        )
    )
    # One billable row per request id is the ledger's own rule (a unique index); what the
    # run must show is that every check the data calls for was billed, and nothing else.
    wanted_checks = {
        "verified": {"identity", "bank_card", "portrait_authority"},
        "rejected": {"identity"},  # the mismatch stops the run: no bank card, no portrait
    }
    for verification_id, status in zip(ids[:LIVE], expected[:LIVE], strict=True):
        checks = {check for (vid, check), _ in billed.items() if vid == verification_id}
        assert checks == wanted_checks[status], (verification_id, checks)
    assert not {vid for vid, _ in billed} - set(ids[:LIVE])  # test mode bills nothing
    calls = _query(app, "SELECT count(*) FROM upstream_calls")[0][0]

    delivered = event_ids(receiver)
    wanted = _final_events(app, ids[LIVE:])
    missing_events = set(wanted.values()) - set(delivered)
    assert not missing_events, f"{len(missing_events)} decisions never delivered"
    repeats = len(delivered) - len(set(delivered))
    types = Counter(json.loads(r.body)["type"] for r in receiver.requests)
    print(
        f"ledger: {calls} upstream calls, {sum(billed.values())} billable, none twice; "
        f"webhooks: {len(delivered)} deliveries of {len(set(delivered))} events "
        f"({repeats} repeats, deduplicated by event id on the receiving side), {dict(types)}"
    )
