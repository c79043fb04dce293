"""The scale benchmark's same-run baseline (benchmarks/bare_upstream.py) measures what it says:
the two calls a verification makes, through the service's adapters on its own Celery runner,
counted done only when the sandbox answered a match, and timed only once the workers go on."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from benchmarks import bare_upstream, scale
from benchmarks.scale import cpu_seconds, render_people
from benchmarks.upstream import sandbox_server
from tests.conftest import redis_reachable

REDIS_URL = os.environ.get("KYC_TEST_BARE_BROKER_URL", "redis://127.0.0.1:6379/10")


@pytest.fixture
def broker_url() -> Iterator[str]:
    """The tests' own Redis database, emptied after (the broker's bindings, the counts)."""
    import redis

    yield redis_reachable(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def test_the_baseline_asks_about_the_scale_benchs_people():
    bodies = [body["individual"] for body, _ in render_people(2)]
    people = bare_upstream.people(2)
    assert [p["name"] for p in people] == [b["name"] for b in bodies]
    assert [p["id_number"] for p in people] == [b["id_number"] for b in bodies]
    assert [p["card_number"] for p in people] == [b["bank_card"]["number"] for b in bodies]
    assert [p["phone"] for p in people] == [b["bank_card"]["reserved_phone"] for b in bodies]


@pytest.fixture
def counts(broker_url, monkeypatch):
    """``two_calls`` counting on the test's Redis database, from a fresh process state;
    reads (done, failed)."""
    import redis

    monkeypatch.setattr(bare_upstream, "BROKER_URL", broker_url)
    monkeypatch.setattr(bare_upstream, "_local", type(bare_upstream._local)())
    monkeypatch.setattr(bare_upstream, "_verifiers", [])
    client = redis.Redis.from_url(broker_url)
    keys = (bare_upstream.DONE_KEY, bare_upstream.FAILED_KEY)
    client.delete(*keys)
    yield lambda: tuple(int(value or 0) for value in client.mget(*keys))
    client.delete(*keys)
    client.close()


def test_a_task_counts_done_only_when_the_sandbox_answered_a_match(tmp_path, counts, monkeypatch):
    secret = secrets.token_hex(16)
    person = bare_upstream.people(1)[0]
    with sandbox_server(secret, tmp_path, "--latency-ms", "0") as url:
        monkeypatch.setenv("BENCH_BARE_SANDBOX_URL", url)
        monkeypatch.setenv("BENCH_BARE_SECRET", "not-the-sandbox-secret")
        bare_upstream.two_calls(request_id="vr_bare_refused", person=person)
        assert counts() == (0, 1)
        monkeypatch.setattr(bare_upstream, "_verifiers", [])
        monkeypatch.setenv("BENCH_BARE_SECRET", secret)
        bare_upstream.two_calls(request_id="vr_bare_answered", person=person)
        assert counts() == (1, 1)
        mismatch = person | {"name": "测试不符"}  # API.md § Sandbox: identity mismatches
        bare_upstream.two_calls(request_id="vr_bare_mismatch", person=mismatch)
        assert counts() == (1, 2)
    for verifier in bare_upstream.verifiers():
        verifier.close()
    bare_upstream._counter().close()


def test_the_baseline_times_rounds_on_the_services_celery_runner(tmp_path, broker_url):
    import redis

    secret = secrets.token_hex(16)
    with sandbox_server(secret, tmp_path, "--latency-ms", "50") as url:
        cold, timed = bare_upstream.measure(
            url, secret, tmp_path, (1, 2, 6), cpu_seconds, broker_url
        )
    # six tasks of two 50 ms calls on two threads: three in a row of at least 0.1 s each
    assert timed.wall >= 0.3
    assert cold.wall >= 0.1
    assert (cold.failed, timed.failed) == (0, 0)
    client = redis.Redis.from_url(broker_url)
    assert client.mget(bare_upstream.DONE_KEY, bare_upstream.FAILED_KEY) == [None, None]
    client.close()


def _run(wall: float, failed: int = 0) -> bare_upstream.BareRun:
    return bare_upstream.BareRun(wall=wall, worker_cpu=1.0, failed=failed)


def test_the_service_is_reported_as_a_fraction_of_the_baselines_mean(monkeypatch):
    monkeypatch.setattr(scale, "VERIFICATIONS", 200)
    figures = scale.bare_figures([_run(2.0), _run(4.0)], rate=50.0)  # 100/s and 50/s
    assert figures["scale_bare_upstream_throughput"] == 75.0
    assert figures["scale_upstream_of_bare"] == round(50 / 75, 3)
    assert figures["scale_bare_upstream_of_ideal"] == round(75 / scale.UPSTREAM_IDEAL, 3)
    assert figures["scale_bare_failures"] == 0


@pytest.mark.parametrize(
    ("runs", "failed"),
    [([_run(2.0), None], 200), ([_run(2.0, failed=3), _run(2.0)], 3), ([], 0)],
    ids=["one-did-not-run", "failed-tasks", "none"],
)
def test_a_baseline_that_failed_gives_no_figures(monkeypatch, runs, failed):
    monkeypatch.setattr(scale, "VERIFICATIONS", 200)
    figures = scale.bare_figures(runs, rate=50.0)
    assert figures["scale_upstream_of_bare"] is None
    assert figures["scale_bare_upstream_of_ideal"] is None
    assert figures["scale_bare_failures"] == failed


def test_no_verifications_give_null_figures_not_an_error(monkeypatch):
    monkeypatch.setattr(scale, "VERIFICATIONS", 0)
    figures = scale.bare_figures([_run(0.0), _run(0.0)], rate=float("nan"))
    assert figures["scale_upstream_of_bare"] is None


class BrokerDown(Exception):
    """As kombu's and redis's errors: not an OSError."""


def test_a_baseline_that_cannot_run_is_reported_not_raised(tmp_path, monkeypatch, capsys):
    def broker_down(*_args, **_kwargs):
        raise BrokerDown("the broker is down")

    monkeypatch.setattr(bare_upstream, "measure", broker_down)
    env = {"KYC_IDENTITY_URL": "http://127.0.0.1:9", "KYC_IDENTITY_SECRET": "s"}
    assert scale.baseline(env, tmp_path, "before") is None
    assert "the baseline failed: BrokerDown" in capsys.readouterr().out
