"""``Idempotency-Key``: replay, refusal of a different body, one object under concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from kyc_service.services import idempotency
from tests.conftest import assert_error
from tests.helpers import add_probe_routes, count_verifications, principal_of


@pytest.fixture
def probe(app, client):
    add_probe_routes(app)
    return client


def post(client, headers, body, key=None):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/v1/_probe/objects", json=body, headers={**headers, **extra})


def test_same_key_same_body_replays_without_doing_the_work_again(app, probe, auth):
    first = post(probe, auth, {"reference": "r1"}, key="abc")
    second = post(probe, auth, {"reference": "r1"}, key="abc")
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert count_verifications(app) == 1


def test_without_a_key_every_post_does_work(app, probe, auth):
    post(probe, auth, {"reference": "r"})
    post(probe, auth, {"reference": "r"})
    assert count_verifications(app) == 2


def test_same_key_different_body_is_409(app, probe, auth):
    post(probe, auth, {"reference": "r1"}, key="k")
    assert_error(
        post(probe, auth, {"reference": "r2"}, key="k"), 409, "conflict", "idempotency_key_reused"
    )
    assert count_verifications(app) == 1


def test_keys_are_per_tenant_and_mode(app, probe, make_key):
    for headers in (make_key(tenant="a"), make_key(tenant="b"), make_key(tenant="a", mode="live")):
        assert post(probe, headers, {"reference": "r"}, key="shared").status_code == 201
    assert count_verifications(app) == 3


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_key_length_is_checked(probe, auth, key):
    error = assert_error(
        post(probe, auth, {"reference": "r"}, key=key), 422, "invalid_request", "validation_failed"
    )
    assert error["field"] == "Idempotency-Key"


def test_item_9_a_refusal_is_not_replayed_and_a_validation_answer_is(probe, make_key):
    """Issue 10, item 9: only successes and validation answers are kept for replay."""
    headers = make_key(scopes="verifications:read")
    assert post(probe, headers, {"reference": "r"}, key="e").status_code == 403
    again = post(probe, headers, {"reference": "r"}, key="e")
    assert again.status_code == 403 and "Idempotent-Replayed" not in again.headers
    full = {**make_key(), "Idempotency-Key": "v"}
    bad = probe.post("/v1/verifications", json={"type": "individual"}, headers=full)
    assert bad.status_code == 422
    replay = probe.post("/v1/verifications", json={"type": "individual"}, headers=full)
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"


def other_body() -> dict:
    return {"url": "http://127.0.0.1:9/other", "events": ["*"]}


def test_item_9_a_narrow_key_never_replays_a_full_keys_answer(app, client, make_key):
    """A key without webhooks:write replaying another key's Idempotency-Key got the
    webhook secret (shown once); and a narrow key's 403 was replayed to the full key."""
    full = make_key()
    narrow = make_key(scopes="verifications:read,verifications:write")
    body = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    created = client.post(
        "/v1/webhook-endpoints", json=body, headers={**full, "Idempotency-Key": "hook"}
    )
    assert created.status_code == 201
    stolen = client.post(
        "/v1/webhook-endpoints", json=body, headers={**narrow, "Idempotency-Key": "hook"}
    )
    assert_error(stolen, 403, "permission", "scope_missing")
    assert created.get_json()["secret"] not in stolen.get_data(as_text=True)
    refused = client.post(
        "/v1/webhook-endpoints", json=other_body(), headers={**narrow, "Idempotency-Key": "first"}
    )
    assert refused.status_code == 403
    fresh = client.post(
        "/v1/webhook-endpoints", json=other_body(), headers={**full, "Idempotency-Key": "first"}
    )
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers


def test_item_8_a_claim_whose_request_died_is_taken_over(app, probe, auth):
    """Issue 10, item 8: a worker died mid-request; its claim held the key for 24 h."""
    principal = principal_of(app, auth)
    uow = app.extensions["kyc"].unit_of_work
    fingerprint = idempotency.fingerprint("POST", "/v1/_probe/objects", b'{"reference":"o"}')
    held = idempotency.claim(
        uow(), principal, "orphan", fingerprint, ttl=timedelta(hours=24), wait_seconds=0
    )
    assert isinstance(held, idempotency.Claim)  # and its worker is killed here
    with pytest.raises(idempotency.Conflict):  # within the lease, the key is still held
        idempotency.claim(
            uow(), principal, "orphan", fingerprint, ttl=timedelta(hours=24), wait_seconds=0
        )
    taken = idempotency.claim(
        uow(),
        principal,
        "orphan",
        fingerprint,
        ttl=timedelta(hours=24),
        wait_seconds=0,
        lease=timedelta(seconds=-1),
    )
    assert isinstance(taken, idempotency.Claim)


def test_a_server_error_frees_the_key(app, probe, auth):
    response = probe.post(
        "/v1/_probe/explode", json={}, headers={**auth, "Idempotency-Key": "boom"}
    )
    assert response.status_code == 500
    again = probe.post("/v1/_probe/explode", json={}, headers={**auth, "Idempotency-Key": "boom"})
    assert again.status_code == 500 and "Idempotent-Replayed" not in again.headers


def test_twenty_concurrent_requests_with_one_key_create_one_object(app, probe, auth):
    barrier = threading.Barrier(20)
    results: list = [None] * 20

    def worker(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        results[index] = post(client, auth, {"reference": "concurrent"}, key="one-key")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None and r.status_code == 201 for r in results), [
        r.status_code if r else None for r in results
    ]
    assert len({r.get_json()["id"] for r in results}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 19
    assert count_verifications(app) == 1
    assert len(app.extensions["probe_calls"]) == 1


def test_an_expired_key_may_be_used_again(app, probe, auth):
    principal = principal_of(app, auth)
    uow = app.extensions["kyc"].unit_of_work
    held = idempotency.claim(
        uow(), principal, "old", "f" * 64, ttl=timedelta(seconds=-1), wait_seconds=0
    )
    assert isinstance(held, idempotency.Claim)
    again = idempotency.claim(
        uow(), principal, "old", "e" * 64, ttl=timedelta(hours=1), wait_seconds=0
    )
    assert isinstance(again, idempotency.Claim)


def test_a_key_still_in_progress_answers_409_after_the_wait(app, auth):
    principal = principal_of(app, auth)
    uow = app.extensions["kyc"].unit_of_work
    idempotency.claim(uow(), principal, "slow", "a" * 64, ttl=timedelta(hours=1), wait_seconds=0)
    with pytest.raises(idempotency.Conflict) as caught:
        idempotency.claim(
            uow(), principal, "slow", "a" * 64, ttl=timedelta(hours=1), wait_seconds=0.1
        )
    assert caught.value.code == "idempotency_key_in_use"
