"""The scale benchmark's same-run baseline (benchmarks/bare_upstream.py) measures what it says:
the two calls a verification makes, on the service's own Celery runner, counted only when
the sandbox answered them."""

from __future__ import annotations

import json
import os
import secrets

import pytest
import requests

from adapters.http_verifiers import protocol
from benchmarks import bare_upstream
from benchmarks.scale import cpu_seconds
from benchmarks.upstream import sandbox_server
from tests.conftest import redis_reachable

REDIS_URL = os.environ.get("KYC_TEST_BARE_BROKER_URL", "redis://127.0.0.1:6379/10")


@pytest.fixture
def broker_url() -> str:
    return redis_reachable(REDIS_URL)


def test_each_call_sends_its_roles_fields_and_nothing_more():
    person = bare_upstream.people(1)[0]
    sent = bare_upstream.bodies("vr_bare_x_1", person)
    assert [role for role, _ in sent] == ["identity", "bank"]
    request_ids = set()
    for role, body in sent:
        fields = json.loads(body)
        request_ids.add(fields.pop("request_id"))
        assert set(fields) == set(protocol.ROLE_FIELDS[role])
        assert all(isinstance(value, str) and value for value in fields.values())
    assert len(request_ids) == 2  # each call its own request id, as a verification's are


@pytest.fixture
def counted(broker_url, monkeypatch):
    """``two_calls`` counting on the test's Redis database, from a fresh thread state."""
    import redis

    monkeypatch.setattr(bare_upstream, "BROKER_URL", broker_url)
    monkeypatch.setattr(bare_upstream, "_local", type(bare_upstream._local)())
    client = redis.Redis.from_url(broker_url)
    client.delete(bare_upstream.DONE_KEY)
    yield lambda: int(client.get(bare_upstream.DONE_KEY) or 0)
    client.delete(bare_upstream.DONE_KEY)
    client.close()


def test_a_task_counts_itself_done_only_when_the_sandbox_answered(tmp_path, counted, monkeypatch):
    secret = secrets.token_hex(16)
    person = bare_upstream.people(1)[0]
    with sandbox_server(secret, tmp_path, "--latency-ms", "0") as url:
        monkeypatch.setenv("BENCH_BARE_SANDBOX_URL", url)
        monkeypatch.setenv("BENCH_BARE_SECRET", "not-the-sandbox-secret")
        with pytest.raises(requests.HTTPError):
            bare_upstream.two_calls(request_id="vr_bare_refused", person=person)
        assert counted() == 0
        monkeypatch.setenv("BENCH_BARE_SECRET", secret)
        bare_upstream.two_calls(request_id="vr_bare_answered", person=person)
        assert counted() == 1


def test_the_baseline_times_rounds_on_the_services_celery_runner(tmp_path, broker_url):
    secret = secrets.token_hex(16)
    with sandbox_server(secret, tmp_path, "--latency-ms", "50") as url:
        cold, timed = bare_upstream.measure(
            url, secret, tmp_path, bare_upstream.people(2), (1, 2, 6), cpu_seconds, broker_url
        )
    # six tasks of two 50 ms calls on two threads: three rounds of at least 0.1 s
    assert timed.wall >= 0.3
    assert cold.wall >= 0.1
    assert timed.worker_cpu >= 0
    logs = [log.read_text() for log in tmp_path.glob("bare-worker-*.log")]
    assert logs
    assert not [log for log in logs if "failed" in log or "Traceback" in log]
