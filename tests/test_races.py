"""Issue 10, items 5–7: two requests on one verification at once, as real parallel requests.

Threads share the app and its connection pool, so their transactions really interleave in
the database (SQLite and PostgreSQL). Each round checks: no 5xx, at most one check run per
verification (the identity verifier is counted), and a final status never changes (the
verification's events stop at the first final one).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from functools import partial

import pytest

from kyc_service.domain.access import Mode
from tests.helpers import submit
from tests.synthetic import individual_body
from tests.test_individual_flow import ready

ROUNDS = 20
FINAL = {"verification.verified", "verification.rejected", "verification.canceled"}


class CountingIdentity:
    """The sandbox identity verifier, counting its calls per ID number."""

    def __init__(self, real) -> None:
        self.real = real
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def verify(self, name: str, id_number: str, *, request_id: str = ""):
        with self.lock:
            self.calls[id_number] = self.calls.get(id_number, 0) + 1
        return self.real.verify(name, id_number, request_id=request_id)

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def counted(app) -> CountingIdentity:
    services = app.extensions["kyc"]
    counting = CountingIdentity(services.adapters.get("identity", Mode.TEST))
    services.adapters._built[("identity", Mode.TEST, "sandbox")] = counting
    return counting


def at_once(*calls: Callable[[], object]) -> list:
    """Run the calls in parallel threads released together; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def statuses_of(client, auth, verification_id: str) -> list[str]:
    """The verification's events, oldest first."""
    events = client.get("/v1/events?limit=100", headers=auth).get_json()["data"]
    mine = [e["type"] for e in events if e["data"]["object"]["id"] == verification_id]
    return list(reversed(mine))


def assert_final_never_changes(types: list[str]) -> None:
    finals = [i for i, t in enumerate(types) if t in FINAL]
    if finals:
        assert finals[0] == len(types) - 1, types


def test_item_5_parallel_submits_start_exactly_one_run(app, client, auth, counted):
    rng = random.Random(51)
    for round_ in range(ROUNDS):
        body = individual_body(rng, reference=f"user-submit-{round_}")
        verification_id = ready(client, auth, body)
        clients = [app.test_client() for _ in range(4)]
        answers = at_once(*[partial(submit, c, auth, verification_id) for c in clients])
        codes = sorted(a.status_code for a in answers)
        assert codes.count(200) == 1 and codes.count(409) == 3, codes
        for refused in (a for a in answers if a.status_code == 409):
            assert refused.get_json()["error"]["code"] == "invalid_state"
        assert counted.calls[body["individual"]["id_number"]] == 1
        types = statuses_of(client, auth, verification_id)
        assert types.count("verification.processing") == 1, types
        assert_final_never_changes(types)


def test_item_6_cancel_racing_submit_never_ends_decided_after_canceled(app, client, auth, counted):
    rng = random.Random(61)
    outcomes = set()
    for round_ in range(ROUNDS):
        body = individual_body(rng, reference=f"user-cancel-{round_}")
        verification_id = ready(client, auth, body)
        submitted, canceled = at_once(
            partial(submit, app.test_client(), auth, verification_id),
            partial(
                app.test_client().post, f"/v1/verifications/{verification_id}/cancel", headers=auth
            ),
        )
        assert submitted.status_code in (200, 409) and canceled.status_code in (200, 409)
        final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
        if canceled.status_code == 200:
            assert final["status"] == "canceled"
        else:
            assert final["status"] in ("verified", "rejected", "in_review")
        assert counted.calls.get(body["individual"]["id_number"], 0) <= 1
        assert_final_never_changes(statuses_of(client, auth, verification_id))
        outcomes.add(final["status"])
    assert "canceled" in outcomes


def test_item_7_erase_racing_submit_leaves_nothing_running_on_erased_data(
    app, client, auth, counted
):
    rng = random.Random(71)
    for round_ in range(ROUNDS):
        body = individual_body(rng, reference=f"user-erase-{round_}")
        verification_id = ready(client, auth, body)
        submitted, erased = at_once(
            partial(submit, app.test_client(), auth, verification_id),
            partial(app.test_client().delete, f"/v1/subjects/{body['reference']}", headers=auth),
        )
        assert submitted.status_code in (200, 409), submitted.get_json()
        assert erased.status_code == 204, erased.get_json()
        final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
        assert final["redacted"] is True and final["individual"] is None
        assert final["status"] in ("canceled", "verified", "rejected", "in_review"), final
        if final["status"] == "canceled":
            assert final["last_error"]["code"] == "subject_erased"
        assert counted.calls.get(body["individual"]["id_number"], 0) <= 1
        assert_final_never_changes(statuses_of(client, auth, verification_id))
        again = submit(client, auth, verification_id)
        assert again.status_code == 409
