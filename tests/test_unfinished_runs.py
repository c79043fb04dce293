"""Issue 15, a poison verification: runs that keep stopping before they record (their worker
killed each time) end in review, on SQLite and PostgreSQL — the counting is in SQL
(``claim_run``, ``hold_run``) and a recorded run resets it. The rules are in
``tests/test_use_cases.py``; here the repository and the give-up on real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from flask import Flask
from sqlalchemy import select, update

from kyc_service.domain.errors import Conflict
from kyc_service.domain.sealing import SubjectRef
from kyc_service.persistence.tables import EventRow, SubjectRow, VerificationRow
from kyc_service.services import pipeline
from kyc_service.services.events import save
from tests.conftest import assert_error
from tests.helpers import principal_of, seed_verification
from tests.test_races import at_once


def stored(app: Flask, verification_id: str):
    with app.extensions["kyc"].unit_of_work() as uow:
        return uow.verifications.by_id(verification_id)


def test_started_runs_are_counted_in_sql_and_a_recorded_run_ends_them(app, auth) -> None:
    verification_id = seed_verification(app, auth, status="processing")
    kyc = app.extensions["kyc"]
    now = datetime.now(UTC).replace(microsecond=0)
    first, second, third = (now + timedelta(seconds=n) for n in (10, 20, 30))
    with kyc.unit_of_work() as uow:  # an in-process run, without a lease token
        held = uow.verifications.hold_run(verification_id, first, below=5)
        uow.commit()
    assert (held.next_attempt_at, held.unfinished_runs) == (first, 1)
    with kyc.unit_of_work() as uow:
        assert uow.verifications.claim_attempt(verification_id, first, second)  # a retry claim
        uow.commit()
    assert stored(app, verification_id).unfinished_runs == 1  # the claim alone is no run
    with kyc.unit_of_work() as uow:
        claimed = uow.verifications.claim_run(verification_id, second, third, below=5)
        assert claimed.unfinished_runs == 2
        assert uow.verifications.claim_run(verification_id, second, third, below=5) is None
        uow.commit()
    assert stored(app, verification_id).unfinished_runs == 2
    with kyc.unit_of_work() as uow:
        verification = uow.verifications.by_id(verification_id, for_update=True)
        verification.run_finished()
        save(uow, verification)
        uow.commit()
    assert stored(app, verification_id).unfinished_runs == 0


def stuck(app: Flask, auth: dict[str, str]) -> tuple[str, datetime]:
    """A processing verification whose last runs all stopped unfinished, its subject's
    data held (sealed); its lease token."""
    verification_id = seed_verification(app, auth, status="processing")
    token = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    with app.extensions["kyc"].unit_of_work() as uow:
        fields = {"name": "张三", "id_number": "11010519491231002X"}
        app.extensions["kyc"].vault.put_fields(
            uow, subject_of(app, auth), verification_id, fields, ["kyc"]
        )
        uow.session.execute(
            update(VerificationRow)
            .where(VerificationRow.id == verification_id)
            .values(unfinished_runs=app.config["UNFINISHED_RUNS_LIMIT"], next_attempt_at=token)
        )
        uow.commit()
    return verification_id, token


def subject_of(app: Flask, auth: dict[str, str]) -> SubjectRef:
    """The data subject of the verifications ``seed_verification`` makes."""
    principal = principal_of(app, auth)
    return SubjectRef(principal.tenant_id, principal.mode.value, "user-1")


def event_types(app: Flask, verification_id: str) -> list[str]:
    with app.extensions["kyc"].unit_of_work() as uow:
        events = uow.session.scalars(
            select(EventRow.type).where(EventRow.verification_id == verification_id)
        ).all()
    return list(events)


def in_review_events(app: Flask, verification_id: str) -> int:
    return event_types(app, verification_id).count("verification.in_review")


def test_past_the_limit_the_next_run_sends_it_to_review_with_one_event(app, auth) -> None:
    verification_id, token = stuck(app, auth)
    kyc = app.extensions["kyc"]
    pipeline.run_checks(kyc, verification_id, token.isoformat())
    verification = stored(app, verification_id)
    assert verification.status.value == "in_review"
    assert verification.last_error.code == "checks_incomplete"
    assert verification.next_attempt_at is None
    pipeline.run_checks(kyc, verification_id, token.isoformat())  # a redelivery: nothing
    assert in_review_events(app, verification_id) == 1


@pytest.mark.parametrize(
    ("gone", "code"),
    [
        ({"retain_until": datetime.now(UTC) - timedelta(minutes=1)}, "data_expired"),
        ({"erased_at": datetime.now(UTC)}, "subject_erased"),
    ],
    ids=["past_retention", "erased"],
)
def test_past_the_limit_with_its_data_gone_it_is_cancelled_not_reviewed(
    app, auth, gone, code
) -> None:
    """The give-up looks at the data first: a subject past its retention (the sweep not yet
    run) or erased (here in SQL alone, its verifications untouched) cannot be reviewed, so
    the verification is cancelled with the reason a run opening the data would give."""
    verification_id, token = stuck(app, auth)
    ref = subject_of(app, auth)
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.session.execute(
            update(SubjectRow)
            .where(SubjectRow.reference == ref.reference, SubjectRow.tenant_id == ref.tenant_id)
            .values(**gone)
        )
        uow.commit()
    pipeline.run_checks(app.extensions["kyc"], verification_id, token.isoformat())
    verification = stored(app, verification_id)
    assert verification.status.value == "canceled"
    assert verification.last_error.code == code
    assert verification.redacted
    assert in_review_events(app, verification_id) == 0


def test_an_erasure_racing_the_give_up_leaves_it_cancelled_and_redacted(app, auth) -> None:
    """Erase ‖ give-up, in parallel threads: whichever lands first, the verification ends
    cancelled and redacted with one ``verification.canceled`` event (in review for a moment
    at most, when the give-up landed first), and the subject's data is gone."""
    verification_id, token = stuck(app, auth)
    kyc = app.extensions["kyc"]
    erase = partial(app.test_client().delete, "/v1/subjects/user-1", headers=auth)
    give_up = partial(pipeline.run_checks, kyc, verification_id, token.isoformat())
    answer, _ = at_once(erase, give_up)
    assert answer.status_code in (200, 202, 204), answer.get_json()
    verification = stored(app, verification_id)
    assert verification.status.value == "canceled"
    assert verification.redacted
    assert event_types(app, verification_id).count("verification.canceled") == 1
    assert in_review_events(app, verification_id) <= 1
    with kyc.unit_of_work() as uow:
        assert kyc.vault.unreadable(uow, subject_of(app, auth)) == "erased"


def test_a_save_under_a_lease_another_run_claimed_since_is_refused(app, auth) -> None:
    """The record of a run checks its lease in the write itself: on SQLite a read takes no
    row lock, so a claim committed between ``_record``'s read and its write would otherwise
    be overwritten (its lease and its count lost)."""
    verification_id = seed_verification(app, auth, status="processing")
    kyc = app.extensions["kyc"]
    now = datetime.now(UTC).replace(microsecond=0)
    held, newer = now + timedelta(seconds=10), now + timedelta(seconds=20)
    with kyc.unit_of_work() as uow:
        assert uow.verifications.hold_run(verification_id, held, below=5) is not None
        uow.commit()
    with kyc.unit_of_work() as uow:
        verification = uow.verifications.by_id(verification_id)
    with kyc.unit_of_work() as uow:  # the periodic retry claims it meanwhile
        assert uow.verifications.claim_run(verification_id, held, newer, below=5) is not None
        uow.commit()
    with kyc.unit_of_work() as uow:
        verification.run_finished()
        with pytest.raises(Conflict):
            save(uow, verification, lease=held)
    after = stored(app, verification_id)
    assert (after.next_attempt_at, after.unfinished_runs) == (newer, 2)


def test_two_runs_giving_up_at_once_leave_one_review_and_one_event(app, auth) -> None:
    """A message and its redelivery, run in parallel threads (their transactions interleave
    in the database): one moves the verification to review, the other finds it moved."""
    verification_id, token = stuck(app, auth)
    kyc = app.extensions["kyc"]
    run = partial(pipeline.run_checks, kyc, verification_id, token.isoformat())
    at_once(run, run)
    assert stored(app, verification_id).status.value == "in_review"
    assert in_review_events(app, verification_id) == 1


def test_a_cancel_racing_the_give_up_leaves_one_consistent_state(app, client, auth) -> None:
    """Cancel ‖ give-up, in parallel threads. Either the cancel lands first (canceled; the
    give-up finds it moved and writes nothing) or the give-up does: in review with its one
    event, and the cancel that read it still processing answers 409 ``invalid_state`` (read
    it again) — a cancel sent again then cancels. Never in review after canceled."""
    verification_id, token = stuck(app, auth)
    kyc = app.extensions["kyc"]
    path = f"/v1/verifications/{verification_id}/cancel"
    cancel = partial(app.test_client().post, path, headers=auth)
    give_up = partial(pipeline.run_checks, kyc, verification_id, token.isoformat())
    answer, _ = at_once(cancel, give_up)
    if answer.status_code == 409:
        assert_error(answer, 409, "conflict", "invalid_state")
        assert stored(app, verification_id).status.value == "in_review"
        assert in_review_events(app, verification_id) == 1
        answer = client.post(path, headers=auth)
    assert answer.status_code == 200, answer.get_json()
    assert stored(app, verification_id).status.value == "canceled"
    assert in_review_events(app, verification_id) <= 1


def test_a_run_is_claimed_and_read_in_one_statement_only_when_it_may_run(app, auth) -> None:
    """``claim_run``: one UPDATE … RETURNING moves the lease, counts the run and reads the
    verification as claimed; with a stale lease, at the limit of unfinished runs, or not
    processing, it writes nothing and reads nothing (the caller reads it and finds out why)."""
    from sqlalchemy import event

    verification_id = seed_verification(app, auth, status="processing")
    kyc = app.extensions["kyc"]
    now = datetime.now(UTC).replace(microsecond=0)
    first, second, third = (now + timedelta(seconds=n) for n in (10, 20, 30))
    with kyc.unit_of_work() as uow:
        assert uow.verifications.hold_run(verification_id, first, below=5)  # one unfinished run
        uow.commit()
    with kyc.unit_of_work() as uow:
        assert uow.verifications.claim_run(verification_id, second, third, below=5) is None
        assert uow.verifications.claim_run(verification_id, first, third, below=1) is None
        uow.commit()
    kept = stored(app, verification_id)
    assert (kept.next_attempt_at, kept.unfinished_runs) == (first, 1)
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        sent.append(statement)

    event.listen(kyc.engine, "before_cursor_execute", note)
    try:
        with kyc.unit_of_work() as uow:
            claimed = uow.verifications.claim_run(verification_id, first, second, below=5)
            uow.commit()
    finally:
        event.remove(kyc.engine, "before_cursor_execute", note)
    assert len(sent) == 1 and sent[0].startswith("UPDATE verifications")
    assert claimed is not None and claimed.id == verification_id
    assert (claimed.status, claimed.next_attempt_at, claimed.unfinished_runs) == (
        kept.status,
        second,
        2,
    )
    assert claimed.loaded_status == claimed.status
    after = stored(app, verification_id)
    assert (after.next_attempt_at, after.unfinished_runs) == (second, 2)
    cancel_in_sql(app, verification_id)
    with kyc.unit_of_work() as uow:
        assert uow.verifications.claim_run(verification_id, second, third, below=5) is None
        uow.commit()
    assert stored(app, verification_id).next_attempt_at == second


def cancel_in_sql(app: Flask, verification_id: str) -> None:
    """Mark a verification canceled in SQL alone (as a cancel committed meanwhile)."""
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.session.execute(
            update(VerificationRow)
            .where(VerificationRow.id == verification_id)
            .values(status="canceled")
        )
        uow.commit()


def claimable(app: Flask, auth: dict[str, str]) -> tuple[str, datetime]:
    """A processing verification with its subject's data sealed, no run yet; its token."""
    verification_id, token = stuck(app, auth)
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.session.execute(
            update(VerificationRow)
            .where(VerificationRow.id == verification_id)
            .values(unfinished_runs=0)
        )
        uow.commit()
    return verification_id, token


@pytest.mark.parametrize("meanwhile", [False, True], ids=["alone", "written_meanwhile"])
def test_a_run_records_on_the_verification_it_claimed_and_any_write_since_drops_it(
    app, auth, meanwhile
) -> None:
    """The record does not read the verification again: it saves the one the run claimed,
    on condition of its status, its lease and its last write — so a write that moved none of
    the first two (here only ``updated_at``, as any other save would) still drops the run's
    results, and nothing of them is written."""
    from sqlalchemy import event

    from kyc_service.domain.checks import CheckStatus, check

    verification_id, token = claimable(app, auth)
    kyc = app.extensions["kyc"]
    loaded = pipeline._load(kyc, verification_id, token)
    assert loaded is not None
    _, claimed = loaded
    assert claimed.unfinished_runs == 1 and claimed.next_attempt_at > token
    if meanwhile:
        with kyc.unit_of_work() as uow:
            uow.session.execute(
                update(VerificationRow)
                .where(VerificationRow.id == verification_id)
                .values(updated_at=claimed.updated_at + timedelta(seconds=1))
            )
            uow.commit()
    result = pipeline.RunResult([check("identity", CheckStatus.PASSED)])
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        sent.append(" ".join(statement.split()[:3]))

    event.listen(kyc.engine, "before_cursor_execute", note)
    try:
        recorded = pipeline._record(kyc, claimed, result)
    finally:
        event.remove(kyc.engine, "before_cursor_execute", note)
    after = stored(app, verification_id)
    assert not any(s.startswith("SELECT") and "verifications" in s for s in sent), sent
    if meanwhile:
        assert recorded is False
        assert (after.status.value, after.checks, after.unfinished_runs) == ("processing", [], 1)
    else:
        assert recorded is True and after.status.value != "processing"
        assert [c.name for c in after.checks] == ["identity"] and after.unfinished_runs == 0


def test_a_run_without_a_token_is_counted_in_the_statement_that_holds_it(app, auth) -> None:
    """A run without a lease token (an older caller's) takes its lease and counts itself in
    one statement that also reads the verification; a cancelled one is neither held nor
    counted, and the run does nothing."""
    verification_id, _ = claimable(app, auth)
    kyc = app.extensions["kyc"]
    loaded = pipeline._load(kyc, verification_id, None)
    assert loaded is not None
    _, claimed = loaded
    kept = stored(app, verification_id)
    assert (claimed.unfinished_runs, claimed.next_attempt_at) == (1, kept.next_attempt_at)
    assert kept.unfinished_runs == 1
    cancel_in_sql(app, verification_id)
    assert pipeline._load(kyc, verification_id, None) is None
    after = stored(app, verification_id)
    assert (after.unfinished_runs, after.next_attempt_at) == (1, kept.next_attempt_at)
