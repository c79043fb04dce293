"""Issue 15: the checks on a Celery worker pool (``KYC_EXECUTOR=celery``).

``kyc-service worker`` (one worker on the ``local`` queue, one on ``upstream``) and
``kyc-service beat`` run as real processes on Redis and on RabbitMQ, over SQLite and
PostgreSQL; the API enqueues. Submit answers 202 ``processing`` and the workers decide; the
local checks run on their own queue (proved by pausing the upstream worker); a message lost
by the broker runs once its lease lapses; the periodic jobs run on beat; webhooks arrive.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from kyc_service.app import create_app
from kyc_service.cli import main
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.services.api_keys import create_key
from tests import conftest
from tests.helpers import create, submit, upload
from tests.synthetic import card_photos, face_photo, individual_body, organization_body
from tests.test_organization_flow import confirm, ready_organization
from tests.webhook_receiver import Receiver, event_ids, start_receiver
from tests.worker_pool import BROKERS, WorkerPool, broker_reachable, pool_env, wait_until

rng = random.Random(15)
STACKS = [("redis", "sqlite"), ("redis", "postgresql"), ("rabbitmq", "postgresql")]
LEASE_SECONDS = 6
DECIDED_WITHIN = 90
pytestmark = pytest.mark.timeout(600)


class Stack:
    """The API app and the worker pool of one broker and database."""

    def __init__(self, app: Flask, pool: WorkerPool, broker: str) -> None:
        self.app = app
        self.pool = pool
        self.broker = broker
        self.client = app.test_client()

    def key(self, tenant: str = "acme", mode: str = "test") -> dict[str, str]:
        """A key with every scope."""
        services = self.app.extensions["kyc"]
        key = create_key(services.unit_of_work(), tenant, Mode(mode), parse_scopes("*"))
        return {"Authorization": f"Bearer {key}"}

    def status(self, auth: dict[str, str], verification_id: str) -> dict:
        """The verification as the API shows it."""
        response = self.client.get(f"/v1/verifications/{verification_id}", headers=auth)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def decided(self, auth: dict[str, str], verification_id: str) -> dict:
        """Wait until the workers moved it out of ``processing``; the verification."""
        seen: dict = {}

        def moved() -> bool:
            seen.update(self.status(auth, verification_id))
            return seen["status"] != "processing"

        wait_until(moved, DECIDED_WITHIN, f"{verification_id} to be decided", self.pool)
        return seen

    def ledger(self, verification_id: str) -> dict[str, int]:
        """The verification's ledger rows (upstream calls) per check."""
        with self.app.extensions["kyc"].unit_of_work() as uow:
            rows = uow.session.execute(
                text(
                    "SELECT check_name, count(*) FROM upstream_calls "
                    "WHERE verification_id = :id GROUP BY check_name"
                ),
                {"id": verification_id},
            ).all()
        return {row[0]: row[1] for row in rows}


def _databases(kind: str, tmp: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A migrated data database and key store of ``kind`` for the module."""
    if kind == "sqlite":
        yield (
            conftest._migrated_sqlite(tmp / "kyc.db"),
            conftest._migrated_sqlite(tmp / "keys.db", keystore=True),
        )
        return
    templates = request.getfixturevalue("postgres_templates")
    data = conftest._clone(templates["data"])
    keys = conftest._clone(templates["keystore"])
    yield next(data), next(keys)
    for clone in (data, keys):
        next(clone, None)


@pytest.fixture(scope="module", params=STACKS, ids=["-".join(s) for s in STACKS])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Workers (``local``: 1 process; ``upstream``: 4 threads) and beat on a broker and a
    database; the API app in this process, enqueuing."""
    broker_name, database = request.param
    broker = BROKERS[broker_name]
    broker_reachable(broker)
    tmp = tmp_path_factory.mktemp(f"celery-{broker_name}-{database}")
    databases = _databases(database, tmp, request)
    data_url, keys_url = next(databases)
    settings = {
        "DATABASE_URL": data_url,
        "KEYSTORE_URL": keys_url,
        "BROKER_URL": broker,
        "EXECUTOR": "celery",
        "CHECKS_LEASE_SECONDS": LEASE_SECONDS,
        "UPSTREAM_RETRY_SECONDS": 1,
        "BEAT_RETRY_SECONDS": 1,
        "BEAT_WEBHOOKS_SECONDS": 1,
        "BEAT_DEPOSITS_SECONDS": 5,
        "BEAT_RETENTION_SECONDS": 60,
        "RATE_LIMIT": "10000 per second",
    }
    app = create_app({**settings, "TESTING": True})
    app.extensions["kyc"].runner.purge()
    pool = WorkerPool(pool_env(settings), tmp)
    pool.start("local", "worker", "--queues", "local", "--concurrency", "1")
    pool.start("upstream", "worker", "--queues", "upstream", "--concurrency", "4")
    pool.start("beat", "beat", "--schedule-file", str(tmp / "beat-schedule"))
    try:
        yield Stack(app, pool, broker_name)
    finally:
        pool.stop()
        app.extensions["kyc"].close()
        next(databases, None)


def ready_individual(stack: Stack, auth: dict[str, str], body: dict) -> str:
    """Create an individual verification with its documents (a selfie for face match)."""
    created = create(stack.client, auth, body)
    assert created.status_code == 201, created.get_json()
    verification_id = created.get_json()["id"]
    documents = dict(card_photos(body))
    if body["options"]["face_match"]:
        documents["selfie"] = face_photo("obama_2.jpg")
    for kind, image in documents.items():
        response = upload(stack.client, auth, verification_id, kind, image)
        assert response.status_code == 201, response.get_json()
    return verification_id


def test_submit_answers_202_and_the_workers_verify_with_a_face_match(stack):
    auth = stack.key()
    receiver = start_receiver()
    try:
        stack.client.post(
            "/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}, headers=auth
        )
        verification_id = ready_individual(stack, auth, individual_body(rng, face_match=True))
        submitted = submit(stack.client, auth, verification_id)
        assert submitted.status_code == 202, submitted.get_json()
        assert submitted.get_json()["status"] == "processing"
        decided = stack.decided(auth, verification_id)
        assert decided["status"] == "verified", decided
        checks = {c["name"]: c["status"] for c in decided["checks"]}
        assert checks["face_match"] == "passed" and checks["portrait_authority"] == "passed"
        assert checks["identity"] == "passed" and checks["document_quality"] == "passed"
        assert stack.ledger(verification_id) == {
            "identity": 1,
            "bank_card": 1,
            "portrait_authority": 1,
        }
        _wait_for_event(stack, receiver, "verification.verified")
        logs = {name: p.log.read_text() for name, p in stack.pool.processes.items()}
        assert logs["local"].count("face and OCR models loaded") == 1  # its one pool process
        assert (
            "models loaded" not in logs["upstream"] and "worker process ready" in logs["upstream"]
        )
    finally:
        receiver.server.shutdown()


def _wait_for_event(stack: Stack, receiver: Receiver, kind: str) -> None:
    """Wait until beat's delivery job brought an event of ``kind`` to the receiver."""

    def arrived() -> bool:
        with receiver.lock:
            types = [json.loads(r.body)["type"] for r in receiver.requests]
        return kind in types

    wait_until(arrived, 30, f"a {kind} webhook", stack.pool)
    assert len(event_ids(receiver)) >= 1


def test_a_magic_value_rejects_on_the_upstream_worker(stack):
    auth = stack.key()
    body = individual_body(rng, face_match=False, name="测试不符")
    verification_id = ready_individual(stack, auth, body)
    assert submit(stack.client, auth, verification_id).status_code == 202
    decided = stack.decided(auth, verification_id)
    assert decided["status"] == "rejected"
    assert decided["last_error"]["code"] == "name_id_mismatch"


def test_the_local_checks_run_while_the_upstream_worker_is_stopped(stack):
    """Two queues: with the upstream worker paused, the image and face checks are still
    recorded by the local worker; the verification waits in ``processing`` for the upstream
    ones, then is decided once the upstream worker goes on."""
    auth = stack.key()
    verification_id = ready_individual(stack, auth, individual_body(rng, face_match=True))
    stack.pool.pause("upstream")
    try:
        assert submit(stack.client, auth, verification_id).status_code == 202
        seen: dict = {}

        def local_recorded() -> bool:
            seen.update(stack.status(auth, verification_id))
            return {"document_quality", "face_match"} <= {c["name"] for c in seen["checks"]}

        wait_until(local_recorded, DECIDED_WITHIN, "the local checks", stack.pool)
        assert seen["status"] == "processing"
        assert not {"identity", "portrait_authority"} & {c["name"] for c in seen["checks"]}
    finally:
        stack.pool.resume("upstream")
    assert stack.decided(auth, verification_id)["status"] == "verified"


def test_a_worker_killed_holding_its_message_loses_no_verification(stack):
    """The local worker takes the message and is killed before it reads it: on Redis the
    message is gone with the process (RabbitMQ hands it back when the connection drops).
    The verification keeps its lease in ``processing``; beat's retry job runs it after."""
    auth = stack.key()
    verification_id = ready_individual(stack, auth, individual_body(rng, face_match=False))
    stack.pool.pause("local")
    submitted_at = time.monotonic()
    assert submit(stack.client, auth, verification_id).status_code == 202
    time.sleep(0.5)  # the broker hands the message to the stopped worker's connection
    stack.pool.signal("local", signal.SIGKILL)
    stack.pool.processes["local"].popen.wait(10)
    stack.pool.start("local")
    decided = stack.decided(auth, verification_id)
    assert decided["status"] == "verified"
    if stack.broker == "redis":  # nothing handed it back: the lease did
        assert time.monotonic() - submitted_at >= LEASE_SECONDS - 1


def test_an_organization_waits_for_its_deposit_then_verifies(stack):
    auth = stack.key()
    body = organization_body(rng)
    verification_id = ready_organization(stack.client, auth, body)
    assert submit(stack.client, auth, verification_id).status_code == 202
    waiting = stack.decided(auth, verification_id)
    assert waiting["status"] == "awaiting_confirmation", waiting
    confirmed = confirm(stack.client, auth, verification_id, "0.32")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "verified"


def test_an_unreachable_broker_still_answers_202_and_keeps_the_lease(app_config):
    """Publishing never fails a request: a broker that is down is logged by class and the
    verification keeps its lease (the periodic retry runs it)."""
    config = {**app_config, "EXECUTOR": "celery", "BROKER_URL": "redis://127.0.0.1:9/0"}
    app = create_app(config)
    try:
        client = app.test_client()
        key = create_key(app.extensions["kyc"].unit_of_work(), "acme", Mode.TEST, parse_scopes("*"))
        auth = {"Authorization": f"Bearer {key}"}
        body = individual_body(rng, face_match=False)
        created = create(client, auth, body).get_json()
        for kind, image in card_photos(body).items():
            assert upload(client, auth, created["id"], kind, image).status_code == 201
        started = time.monotonic()
        submitted = submit(client, auth, created["id"])
        assert submitted.status_code == 202 and submitted.get_json()["status"] == "processing"
        assert time.monotonic() - started < 10
        with app.extensions["kyc"].unit_of_work() as uow:
            held = uow.verifications.by_id(created["id"])
        assert held.next_attempt_at is not None  # the lease the periodic retry will honour
    finally:
        app.extensions["kyc"].close()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["worker"], {"KYC_EXECUTOR": "inline"}, "KYC_EXECUTOR=celery"),
        (["beat"], {"KYC_EXECUTOR": "inline"}, "KYC_EXECUTOR=celery"),
        (["worker"], {"KYC_EXECUTOR": "celery"}, "KYC_BROKER_URL"),
        (["worker", "--queues", "images"], {"KYC_EXECUTOR": "celery"}, "--queues"),
        (
            ["worker"],
            {
                "KYC_EXECUTOR": "celery",
                "KYC_BROKER_URL": "redis://127.0.0.1:9/0",
                "KYC_CHECKS_LEASE_SECONDS": "5m",
            },
            "KYC_CHECKS_LEASE_SECONDS must be a number of seconds",
        ),
        (
            ["worker"],
            {
                "KYC_EXECUTOR": "celery",
                "KYC_BROKER_URL": "redis://127.0.0.1:9/0",
                "KYC_UNFINISHED_RUNS_LIMIT": "0",
            },
            "KYC_UNFINISHED_RUNS_LIMIT must be a whole number of 1 or more",
        ),
    ],
)
def test_the_worker_commands_refuse_without_a_worker_pool(
    args, env, message, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KYC_BROKER_URL", raising=False)
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
