"""Erasing a subject whose verifications are not final yet (SQLite and PostgreSQL).

API.md: a verification that is not final when its subject is erased becomes ``canceled``
with ``last_error.code = "subject_erased"``; it can never be decided on data that is gone,
and ``retry-pending`` afterwards finishes cleanly with it skipped.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.services.pipeline import retry_pending
from kyc_service.vault import SubjectRef
from tests.helpers import create, submit
from tests.synthetic import individual_body
from tests.test_individual_flow import ready

rng = random.Random(9)
BANK_DOWN = "13900000009"


def erase(client, auth, reference):
    return client.delete(f"/v1/subjects/{reference}", headers=auth)


def fetch(client, auth, verification_id):
    return client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()


def later(services, hours: float) -> None:
    real = services.vault.clock
    services.vault.clock = lambda: real() + timedelta(hours=hours)


def in_status(app, client, auth, status: str) -> tuple[str, str]:
    """A verification brought to ``status``; returns (id, reference)."""
    services = app.extensions["kyc"]
    if status == "requires_input":
        body = individual_body(rng, reference=f"user-{status}")
        return create(client, auth, body).get_json()["id"], body["reference"]
    body = individual_body(rng, reserved_phone=BANK_DOWN, reference=f"user-{status}")
    verification_id = ready(client, auth, body)
    assert submit(client, auth, verification_id).get_json()["status"] == "processing"
    if status == "in_review":
        with services.unit_of_work() as uow:
            verification = uow.verifications.by_id(verification_id)
            verification.retry_count = 99
            verification.next_attempt_at = services.vault.clock() - timedelta(seconds=1)
            uow.verifications.save(verification)
            uow.commit()
        retry_pending(services)
    if status == "awaiting_confirmation":  # the organization flow's waiting state
        with services.unit_of_work() as uow:
            verification = uow.verifications.by_id(verification_id)
            verification.await_deposit(services.vault.clock())
            uow.verifications.save(verification)
            uow.commit()
    assert fetch(client, auth, verification_id)["status"] == status
    return verification_id, body["reference"]


@pytest.mark.parametrize(
    "status", ["requires_input", "processing", "in_review", "awaiting_confirmation"]
)
def test_erasure_cancels_what_is_not_final(app, client, auth, status):
    verification_id, reference = in_status(app, client, auth, status)
    assert erase(client, auth, reference).status_code == 204
    shell = fetch(client, auth, verification_id)
    assert shell["status"] == "canceled" and shell["redacted"] is True
    assert shell["last_error"]["code"] == "subject_erased"
    assert shell["decided_at"] is not None
    events = client.get("/v1/events?limit=100", headers=auth).get_json()["data"]
    canceled = [e for e in events if e["type"] == "verification.canceled"]
    assert [e["data"]["object"]["id"] for e in canceled] == [verification_id]
    assert canceled[0]["data"]["object"]["redacted"] is True
    services = app.extensions["kyc"]
    later(services, 24 * 30)
    assert retry_pending(services) == 0
    assert fetch(client, auth, verification_id)["status"] == "canceled"
    submitted = submit(client, auth, verification_id)
    assert submitted.status_code == 409


def test_a_final_verification_keeps_its_decision(app, client, auth):
    body = individual_body(rng)
    verification_id = ready(client, auth, body)
    assert submit(client, auth, verification_id).get_json()["status"] == "verified"
    assert erase(client, auth, body["reference"]).status_code == 204
    shell = fetch(client, auth, verification_id)
    assert shell["status"] == "verified" and shell["last_error"] is None


class Down:
    """An identity verifier that is unavailable."""

    def verify(self, *args, **kwargs):
        raise UpstreamUnavailable("down")

    def close(self):
        pass


def test_data_gone_under_a_running_retry_cancels_it_and_the_batch_goes_on(app, client, auth):
    """The vault lost the data (erased behind the service's back, or past retention)
    while the identity verifier was down: the retry cancels that verification instead of
    crashing, and the other due verification of the batch is still decided."""
    services = app.extensions["kyc"]
    real_identity = services.adapters.get("identity", Mode.TEST)
    services.adapters._built[("identity", Mode.TEST, "sandbox")] = Down()
    gone_body = individual_body(rng, reference="user-gone")
    kept_body = individual_body(rng, reference="user-kept")
    gone, kept = ready(client, auth, gone_body), ready(client, auth, kept_body)
    for verification_id in (gone, kept):
        assert submit(client, auth, verification_id).get_json()["status"] == "processing"
    with services.unit_of_work() as uow:
        row = uow.verifications.by_id(gone)
        services.vault.erase(
            uow.session, SubjectRef(row.tenant_id, row.mode, row.reference), actor="test"
        )
        uow.commit()
    services.adapters._built[("identity", Mode.TEST, "sandbox")] = real_identity
    later(services, 2)
    assert retry_pending(services) == 2
    assert fetch(client, auth, gone)["status"] == "canceled"
    assert fetch(client, auth, gone)["last_error"]["code"] == "subject_erased"
    assert fetch(client, auth, kept)["status"] == "verified"


@pytest.mark.parametrize(
    ("reason", "code"), [("erased", "subject_erased"), ("past_retention", "data_expired")]
)
def test_data_gone_while_the_checks_run_cancels_without_a_trace(app, client, auth, reason, code):
    """The documents vanish between reading the fields and running the steps."""
    from kyc_service.vault import DataUnavailable

    services = app.extensions["kyc"]
    body = individual_body(rng, reference=f"user-{reason}")
    verification_id = ready(client, auth, body)

    def gone(*args, **kwargs):
        raise DataUnavailable(reason)

    services.vault.get_document = gone
    answered = submit(client, auth, verification_id)
    assert answered.status_code == 200
    shell = fetch(client, auth, verification_id)
    assert shell["status"] == "canceled" and shell["last_error"]["code"] == code
    assert shell["redacted"] is True and shell.get("individual") in (None, {})
    events = client.get("/v1/events?limit=100", headers=auth).get_json()["data"]
    (canceled,) = [e for e in events if e["type"] == "verification.canceled"]
    assert body["individual"]["name"][0] not in str(canceled["data"]["object"])


@pytest.mark.parametrize("first", ["cancel", "erase"])
def test_a_check_run_never_overwrites_a_cancel_or_an_erasure_that_came_first(
    app, client, auth, first
):
    """cancel ‖ check run and erase ‖ check run: the run read the verification as
    processing and would verify it, the other request committed first; the run's save is
    conditional on the status it read, so its results are dropped and the cancel stands
    (SQLite, where FOR UPDATE does nothing, and PostgreSQL alike)."""
    from kyc_service.services import pipeline

    services = app.extensions["kyc"]
    real_identity = services.adapters.get("identity", Mode.TEST)
    services.adapters._built[("identity", Mode.TEST, "sandbox")] = Down()
    body = individual_body(rng, reference=f"user-race-{first}")
    verification_id = ready(client, auth, body)
    assert submit(client, auth, verification_id).get_json()["status"] == "processing"
    services.adapters._built[("identity", Mode.TEST, "sandbox")] = real_identity
    given, claimed = pipeline._load(services, verification_id, None)
    result = pipeline.run_steps(services.adapters, given, list(claimed.checks))
    assert not result.upstream_down  # this run would verify
    if first == "cancel":
        response = client.post(f"/v1/verifications/{verification_id}/cancel", headers=auth)
        assert response.status_code == 200
    else:
        assert erase(client, auth, body["reference"]).status_code == 204
    assert pipeline._record(services, claimed, result) is False
    after = fetch(client, auth, verification_id)
    assert after["status"] == "canceled"
    assert (after["individual"] is None) == (first == "erase")
    events = client.get("/v1/events?limit=100", headers=auth).get_json()["data"]
    mine = [e["type"] for e in events if e["data"]["object"]["id"] == verification_id]
    assert "verification.verified" not in mine and mine[0] == "verification.canceled"
