"""The use cases on fakes: no database, no Flask, no image model — the rules alone.

Create, upload, submit, the check pipeline, retries, cancel and erasure run against
``tests/fakes.py`` (a transactional fake unit of work, a fake vault, fake verifiers). The
end-to-end HTTP tests run the same flows on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random

import pytest

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Mode, Principal, Scope
from kyc_service.domain.checks import CheckStatus
from kyc_service.domain.errors import Conflict, InvalidRequest
from kyc_service.domain.results import Mismatch
from kyc_service.domain.sealing import SubjectRef
from kyc_service.domain.usage import request_id_for
from kyc_service.domain.verification import Status
from kyc_service.services import pipeline, subjects, verifications
from kyc_service.services.representation import verification_object
from tests.fakes import FakeServices, UpstreamUnavailable, tiny_jpeg
from tests.synthetic import individual_body

PRINCIPAL = Principal("ten_1", "key_1", Mode.TEST, frozenset(Scope))
CARD = {"faces": 1, "card_found": True}


@pytest.fixture
def kyc() -> FakeServices:
    return FakeServices()


def created(kyc: FakeServices, seed: int = 1, **options: object) -> tuple[str, dict]:
    """Create a verification with a person of ``seed``; return its id and the body."""
    body = individual_body(random.Random(seed), **options)
    verification = verifications.create_verification(kyc.unit_of_work(), kyc.vault, PRINCIPAL, body)
    return verification.id, body


def upload_all(kyc: FakeServices, verification_id: str, face_match: bool = False) -> None:
    """Upload both card sides (and the selfie)."""
    kinds = ["id_card_front", "id_card_back"] + (["selfie"] if face_match else [])
    for kind in kinds:
        verifications.add_document(
            kyc.unit_of_work(), kyc.vault, PRINCIPAL, verification_id, kind, tiny_jpeg(), CARD
        )


def submitted(kyc: FakeServices, seed: int = 1, **options: object) -> tuple[str, dict]:
    """A verification created, complete and submitted, with OCR that reads its person."""
    verification_id, body = created(kyc, seed, **options)
    upload_all(kyc, verification_id, bool(options.get("face_match")))
    person = body["individual"]
    kyc.adapters.ocr.lines = [f"姓名 {person['name']}", f"公民身份号码{person['id_number']}"]
    verifications.submit_verification(kyc.unit_of_work(), kyc.vault, PRINCIPAL, verification_id)
    return verification_id, body


def stored(kyc: FakeServices, verification_id: str):
    return kyc.state.verifications[verification_id]


def event_types(kyc: FakeServices, verification_id: str) -> list[str]:
    return [e.type for e in kyc.state.events if e.verification_id == verification_id]


def test_create_seals_each_field_under_its_domain_name_and_shows_it_masked(kyc) -> None:
    verification_id, body = created(kyc)
    person = body["individual"]
    ref = SubjectRef("ten_1", "test", "user-1")
    fields = kyc.state.fields[(ref, verification_id)]
    assert fields[sealed.NAME] == person["name"]
    assert fields[sealed.ID_NUMBER] == person["id_number"]
    assert fields[sealed.CARD_NUMBER] == person["bank_card"]["number"]
    verification = stored(kyc, verification_id)
    assert verification.status == Status.REQUIRES_INPUT
    assert verification.requirements == ["document.id_card_front", "document.id_card_back"]
    shown = verification_object(verification)
    assert person["id_number"] not in str(shown) and person["name"] not in str(shown)
    assert shown["individual"]["id_number"].endswith(person["id_number"][-4:])
    assert event_types(kyc, verification_id) == ["verification.requires_input"]


def test_every_problem_of_a_bad_body_at_once_and_nothing_stored(kyc) -> None:
    body = individual_body(random.Random(2), name="x1", id_number="123")
    with pytest.raises(InvalidRequest) as refused:
        verifications.create_verification(kyc.unit_of_work(), kyc.vault, PRINCIPAL, body)
    listed = {problem["field"] for problem in refused.value.extra["errors"]}
    assert listed >= {sealed.NAME, sealed.ID_NUMBER}
    assert kyc.state.verifications == {} and kyc.state.fields == {} and kyc.database.commits == 0


def test_documents_meet_the_requirements_then_submit_moves_to_processing(kyc) -> None:
    verification_id, _ = created(kyc)
    with pytest.raises(Conflict) as missing:
        verifications.submit_verification(kyc.unit_of_work(), kyc.vault, PRINCIPAL, verification_id)
    assert missing.value.code == "requirements_missing"
    with pytest.raises(InvalidRequest) as kind:
        verifications.add_document(
            kyc.unit_of_work(), kyc.vault, PRINCIPAL, verification_id, "selfie", b"", CARD
        )
    assert kind.value.code == "document_kind_invalid"
    upload_all(kyc, verification_id)
    assert stored(kyc, verification_id).requirements == []
    verifications.submit_verification(kyc.unit_of_work(), kyc.vault, PRINCIPAL, verification_id)
    assert stored(kyc, verification_id).status == Status.PROCESSING
    with pytest.raises(Conflict):
        upload_all(kyc, verification_id)


def test_checks_that_all_pass_verify_and_start_the_retention_clock(kyc) -> None:
    verification_id, _ = submitted(kyc, face_match=True)
    pipeline.run_checks(kyc, verification_id)
    verification = stored(kyc, verification_id)
    assert verification.status == Status.VERIFIED, verification.checks
    assert {c.name for c in verification.checks} == {
        "id_number",
        "document_quality",
        "id_card_ocr",
        "face_match",
        "identity",
        "bank_card",
        "portrait_authority",
    }
    assert all(c.status == CheckStatus.PASSED for c in verification.checks)
    assert kyc.state.decisions == [(verification_id, kyc.clock())]
    assert event_types(kyc, verification_id)[-1] == "verification.verified"


def test_a_definite_failure_rejects_and_no_billed_upstream_runs_after_it(kyc) -> None:
    verification_id, _ = submitted(kyc)
    kyc.adapters.identity.answer = Mismatch("name_id_mismatch")
    pipeline.run_checks(kyc, verification_id)
    verification = stored(kyc, verification_id)
    assert verification.status == Status.REJECTED
    assert verification.last_error.code == "name_id_mismatch"
    assert kyc.adapters.bank.calls == 0


def test_an_unreadable_card_goes_to_review(kyc) -> None:
    verification_id, _ = submitted(kyc)
    kyc.adapters.ocr.lines = []
    pipeline.run_checks(kyc, verification_id)
    assert stored(kyc, verification_id).status == Status.IN_REVIEW
    assert stored(kyc, verification_id).last_error.code == "ocr_unreadable"


def test_an_upstream_outage_retries_with_backoff_then_decides_without_billing_twice(kyc) -> None:
    verification_id, _ = submitted(kyc)
    kyc.adapters.bank.answer = UpstreamUnavailable("down")
    pipeline.run_checks(kyc, verification_id)
    verification = stored(kyc, verification_id)
    assert verification.status == Status.PROCESSING
    assert verification.last_error.code == "upstream_unavailable"
    assert (verification.next_attempt_at - kyc.clock()).total_seconds() == 60
    assert pipeline.retry_pending(kyc) == 0
    kyc.clock.advance(seconds=61)
    kyc.adapters.bank.answer = kyc.adapters.identity.answer
    assert pipeline.retry_pending(kyc) == 1
    assert stored(kyc, verification_id).status == Status.VERIFIED
    assert kyc.adapters.identity.calls == 1
    first, again = kyc.adapters.bank.request_ids
    assert first == again == request_id_for(verification_id, "bank_card")
    assert kyc.adapters.identity.request_ids == [request_id_for(verification_id, "identity")]
    ledger = [(c.check, c.outcome, c.billable) for v, c in kyc.state.upstream_calls]
    assert ledger == [
        ("identity", "match", True),
        ("bank_card", "unavailable", False),
        ("bank_card", "match", True),
    ]


def test_request_ids_differ_per_check_and_verification_and_hold_no_digits_runs() -> None:
    ids = {request_id_for(v, c) for v in ("ver_a", "ver_b") for c in ("identity", "bank_card")}
    assert len(ids) == 4
    assert all(
        i.startswith("vr_") and len(i) <= 64 and not any(ch.isdigit() for ch in i[3:]) for i in ids
    )
    assert request_id_for("ver_a", "identity") == request_id_for("ver_a", "identity")


def test_the_local_stage_records_the_local_checks_and_leaves_the_billed_ones(kyc) -> None:
    """A worker pool's first task (issue 15): the image, OCR and face checks are stored and
    the verification stays ``processing`` for the upstream task, which runs no local check
    again."""
    verification_id, _ = submitted(kyc, face_match=True)
    assert pipeline.run_local_checks(kyc, verification_id)  # the upstream stage's token
    verification = stored(kyc, verification_id)
    assert verification.status == Status.PROCESSING
    assert {c.name for c in verification.checks} >= {
        "document_quality",
        "id_card_ocr",
        "face_match",
    }
    assert not {"identity", "bank_card", "portrait_authority"} & {
        c.name for c in verification.checks
    }
    assert kyc.adapters.identity.calls == kyc.adapters.bank.calls == 0
    assert round((verification.next_attempt_at - kyc.clock()).total_seconds()) == 300  # lease
    assert event_types(kyc, verification_id)[-1] == "verification.processing"
    kyc.adapters.ocr.lines = []  # were the card read again, it would now go to review
    pipeline.run_checks(kyc, verification_id)
    assert stored(kyc, verification_id).status == Status.VERIFIED
    assert kyc.adapters.identity.calls == 1


def test_a_definite_local_failure_is_decided_by_the_local_stage(kyc) -> None:
    verification_id, _ = submitted(kyc, face_match=True)
    kyc.adapters.face.similarity = 0.05
    assert pipeline.run_local_checks(kyc, verification_id) is None
    assert stored(kyc, verification_id).status == Status.REJECTED
    assert kyc.adapters.identity.calls == 0


def test_a_run_whose_lease_lapsed_is_claimed_once_by_the_periodic_retry(kyc) -> None:
    """A message the broker lost: past the lease, ``retry_pending`` hands the verification
    to ``run`` (a worker pool enqueues it) once, however many retry jobs run."""
    verification_id, _ = submitted(kyc)
    handed: list[tuple[str, str]] = []

    def hand(verification_id: str, lease: str) -> None:
        handed.append((verification_id, lease))

    assert pipeline.retry_pending(kyc, run=hand) == 0
    kyc.clock.advance(seconds=301)
    assert pipeline.retry_pending(kyc, run=hand) == 1
    assert pipeline.retry_pending(kyc, run=hand) == 0
    assert [v for v, _ in handed] == [verification_id]
    assert stored(kyc, verification_id).status == Status.PROCESSING
    assert handed[0][1] == pipeline.lease_token(stored(kyc, verification_id))


def test_a_stale_duplicate_run_does_nothing(kyc) -> None:
    """Two messages for one verification (a redelivery, or one the periodic retry re-sent):
    the run holding the current lease token runs; the other, whose token was moved on by
    the claim, asks no verifier and records nothing."""
    verification_id, _ = submitted(kyc)
    submitted_token = pipeline.lease_token(stored(kyc, verification_id))
    upstream_token = pipeline.run_local_checks(kyc, verification_id, submitted_token)
    assert upstream_token and upstream_token != submitted_token
    assert pipeline.run_local_checks(kyc, verification_id, submitted_token) is None  # stale
    pipeline.run_checks(kyc, verification_id, submitted_token)  # stale: asks nobody
    assert kyc.adapters.identity.calls == 0
    assert stored(kyc, verification_id).status == Status.PROCESSING
    pipeline.run_checks(kyc, verification_id, upstream_token)
    assert stored(kyc, verification_id).status == Status.VERIFIED
    assert kyc.adapters.identity.calls == 1
    pipeline.run_checks(kyc, verification_id, upstream_token)  # a redelivery after the end
    assert kyc.adapters.identity.calls == 1


def test_a_run_claimed_by_another_meanwhile_records_nothing(kyc) -> None:
    """A run whose lease lapsed while it worked (the periodic retry claimed the
    verification for another run) drops its results instead of overwriting."""
    verification_id, _ = submitted(kyc)
    token = pipeline.lease_token(stored(kyc, verification_id))
    original = kyc.adapters.identity.verify

    def slow_identity(*args, **kwargs):
        kyc.clock.advance(seconds=301)  # this run outlives its lease …
        assert pipeline.retry_pending(kyc, run=lambda *_: None) == 1  # … and is claimed
        return original(*args, **kwargs)

    kyc.adapters.identity.verify = slow_identity
    pipeline.run_checks(kyc, verification_id, token)
    verification = stored(kyc, verification_id)
    assert verification.status == Status.PROCESSING
    assert not {"identity", "bank_card"} & {c.name for c in verification.checks}


def test_the_lease_follows_the_setting(kyc) -> None:
    kyc.settings["CHECKS_LEASE_SECONDS"] = 20
    verification_id, _ = submitted(kyc)
    pipeline.run_local_checks(kyc, verification_id)
    lease = stored(kyc, verification_id).next_attempt_at - kyc.clock()
    assert round(lease.total_seconds()) == 20


def test_past_the_retry_budget_the_verification_goes_to_review(kyc) -> None:
    verification_id, _ = submitted(kyc)
    kyc.adapters.bank.answer = UpstreamUnavailable("down")
    pipeline.run_checks(kyc, verification_id)
    for _ in range(5):
        kyc.clock.advance(hours=2)
        assert pipeline.retry_pending(kyc) == 1
    assert stored(kyc, verification_id).status == Status.IN_REVIEW
    assert stored(kyc, verification_id).next_attempt_at is None


class WorkerDied(BaseException):
    """A run stopping where it stands, as when its worker process is killed."""


def dies(*_args, **_kwargs) -> None:
    """A verifier call whose worker is killed."""
    raise WorkerDied


def a_run_that_dies(kyc: FakeServices, verification_id: str, token: str | None) -> None:
    """Start a run whose verifier call kills it: it claimed, and records nothing."""
    with pytest.raises(WorkerDied):
        pipeline.run_checks(kyc, verification_id, token)


def lapsed_claim(kyc: FakeServices) -> str:
    """Let the lease lapse; the periodic retry claims the verification: the run's token."""
    handed: list[str] = []
    kyc.clock.advance(seconds=301)
    assert pipeline.retry_pending(kyc, run=lambda _, lease: handed.append(lease)) == 1
    return handed[0]


def test_a_verification_whose_runs_keep_dying_goes_to_review_not_round_forever(kyc) -> None:
    """A poison verification (issue 15, left out before): each run kills its worker. The
    lease brought it back every ``KYC_CHECKS_LEASE_SECONDS``, for ever; now after
    ``KYC_UNFINISHED_RUNS_LIMIT`` (3) unfinished runs in a row the next run asks no verifier
    and sends it to review, with its reason and one ``verification.in_review`` event."""
    verification_id, _ = submitted(kyc)

    kyc.adapters.identity.verify = dies
    token = pipeline.lease_token(stored(kyc, verification_id))
    for run in range(3):
        a_run_that_dies(kyc, verification_id, token)
        assert stored(kyc, verification_id).unfinished_runs == run + 1
        assert stored(kyc, verification_id).status == Status.PROCESSING
        token = lapsed_claim(kyc)
    ledger_before = len(kyc.state.upstream_calls)
    pipeline.run_checks(kyc, verification_id, token)  # the fourth: given up, nothing asked
    verification = stored(kyc, verification_id)
    assert verification.status == Status.IN_REVIEW
    assert verification.last_error.code == "checks_incomplete"
    assert verification.next_attempt_at is None
    assert len(kyc.state.upstream_calls) == ledger_before
    assert event_types(kyc, verification_id).count("verification.in_review") == 1
    kyc.clock.advance(hours=2)
    assert pipeline.retry_pending(kyc) == 0  # never picked up again


def test_a_poison_verification_whose_data_is_gone_is_cancelled_not_sent_to_review(kyc) -> None:
    """Past the limit, the give-up looks at the data first: erased meanwhile (or past its
    retention), no reviewer could see it, so it is cancelled as a run opening the data would
    have done — one ``verification.canceled`` event, no review, nothing asked."""
    verification_id, _ = submitted(kyc)
    kyc.adapters.identity.verify = dies
    token = pipeline.lease_token(stored(kyc, verification_id))
    for _ in range(3):
        a_run_that_dies(kyc, verification_id, token)
        token = lapsed_claim(kyc)
    with kyc.unit_of_work() as uow:
        uow.working.erased[SubjectRef("ten_1", "test", "user-1")] = kyc.clock()
        uow.commit()
    ledger_before = len(kyc.state.upstream_calls)
    pipeline.run_checks(kyc, verification_id, token)
    verification = stored(kyc, verification_id)
    assert verification.status == Status.CANCELED
    assert verification.last_error.code == "subject_erased"
    assert len(kyc.state.upstream_calls) == ledger_before
    assert "verification.in_review" not in event_types(kyc, verification_id)
    assert event_types(kyc, verification_id).count("verification.canceled") == 1


def test_on_a_worker_pool_a_run_dying_in_its_upstream_stage_still_counts(kyc) -> None:
    """Two stages (issue 15's worker pool): every retried message runs the local stage
    again, which records and hands on; only its own claim is undone, so three upstream
    stages killed in a row still send the verification to review (a reset there would
    have had it round for ever)."""
    verification_id, _ = submitted(kyc)

    kyc.adapters.identity.verify = dies
    token = pipeline.lease_token(stored(kyc, verification_id))
    for run in range(3):
        upstream_token = pipeline.run_local_checks(kyc, verification_id, token)
        assert upstream_token, "the local stage hands on"
        a_run_that_dies(kyc, verification_id, upstream_token)
        assert stored(kyc, verification_id).unfinished_runs == run + 1
        token = lapsed_claim(kyc)
    assert pipeline.run_local_checks(kyc, verification_id, token) is None
    verification = stored(kyc, verification_id)
    assert verification.status == Status.IN_REVIEW
    assert verification.last_error.code == "checks_incomplete"


def test_a_run_that_records_ends_the_unfinished_count(kyc) -> None:
    """Two runs killed, then one that finishes: decided as its data calls for."""
    verification_id, _ = submitted(kyc)
    original = kyc.adapters.identity.verify
    deaths = [WorkerDied(), WorkerDied()]

    def dies_twice(*args, **kwargs):
        if deaths:
            raise deaths.pop()
        return original(*args, **kwargs)

    kyc.adapters.identity.verify = dies_twice
    token = pipeline.lease_token(stored(kyc, verification_id))
    for _ in range(2):
        a_run_that_dies(kyc, verification_id, token)
        token = lapsed_claim(kyc)
    pipeline.run_checks(kyc, verification_id, token)
    assert stored(kyc, verification_id).status == Status.VERIFIED
    assert stored(kyc, verification_id).unfinished_runs == 0


def test_messages_lost_before_any_run_starts_do_not_count_as_unfinished_runs(kyc) -> None:
    """A broker outage or a worker pool down for hours: the periodic retry claims and
    re-sends the verification many times, but no run starts; when one finally does, it
    runs (no false give-up)."""
    verification_id, _ = submitted(kyc)
    for _ in range(6):
        token = lapsed_claim(kyc)  # each message lost: nothing runs
    assert stored(kyc, verification_id).unfinished_runs == 0
    pipeline.run_checks(kyc, verification_id, token)
    assert stored(kyc, verification_id).status == Status.VERIFIED


def test_an_upstream_outage_s_retries_are_runs_that_finished(kyc) -> None:
    """Runs that record ``upstream_unavailable`` finished: only the retry budget counts
    them (``test_past_the_retry_budget…``), never the unfinished-run limit."""
    verification_id, _ = submitted(kyc)
    kyc.adapters.bank.answer = UpstreamUnavailable("down")
    pipeline.run_checks(kyc, verification_id)
    for _ in range(4):
        kyc.clock.advance(hours=2)
        assert pipeline.retry_pending(kyc) == 1
        assert stored(kyc, verification_id).unfinished_runs == 0
    assert stored(kyc, verification_id).status == Status.PROCESSING
    assert stored(kyc, verification_id).last_error.code == "upstream_unavailable"


def test_the_unfinished_run_limit_follows_the_setting(kyc) -> None:
    kyc.settings["UNFINISHED_RUNS_LIMIT"] = "1"
    verification_id, _ = submitted(kyc)

    kyc.adapters.identity.verify = dies
    a_run_that_dies(kyc, verification_id, pipeline.lease_token(stored(kyc, verification_id)))
    pipeline.run_checks(kyc, verification_id, lapsed_claim(kyc))
    assert stored(kyc, verification_id).status == Status.IN_REVIEW


@pytest.mark.parametrize("down", ["bank", "identity"])
def test_erasure_during_an_outage_cancels_and_retries_skip_it(kyc, down) -> None:
    """The first defect of issue 9: the verification stayed processing forever (bank down)
    or crashed ``retry-pending`` with KeyError (identity down)."""
    getattr(kyc.adapters, down).answer = UpstreamUnavailable("down")
    verification_id, _ = submitted(kyc)
    pipeline.run_checks(kyc, verification_id)
    other_id, _ = submitted(kyc, seed=2, reference="user-2")
    pipeline.run_checks(kyc, other_id)
    subjects.erase_subject(kyc.unit_of_work(), kyc.vault, PRINCIPAL, "user-1")
    verification = stored(kyc, verification_id)
    assert verification.status == Status.CANCELED and verification.redacted
    assert verification.last_error.code == "subject_erased"
    assert verification.individual is None and verification.next_attempt_at is None
    assert verification_object(verification)["individual"] is None
    kyc.clock.advance(hours=1)
    getattr(kyc.adapters, down).answer = kyc.adapters.portrait.answer
    assert pipeline.retry_pending(kyc) == 1  # only the other subject's
    assert stored(kyc, other_id).status == Status.VERIFIED
    assert stored(kyc, verification_id).status == Status.CANCELED


def test_erasure_cancels_every_status_that_is_not_final_and_keeps_final_ones(kyc) -> None:
    draft, _ = created(kyc, reference="user-x")
    running, _ = submitted(kyc, seed=3, reference="user-x")
    decided, _ = submitted(kyc, seed=4, reference="user-x")
    pipeline.run_checks(kyc, decided)
    subjects.erase_subject(kyc.unit_of_work(), kyc.vault, PRINCIPAL, "user-x")
    for verification_id in (draft, running):
        verification = stored(kyc, verification_id)
        assert (verification.status, verification.last_error.code) == (
            Status.CANCELED,
            "subject_erased",
        )
        assert event_types(kyc, verification_id)[-1] == "verification.canceled"
    assert stored(kyc, decided).status == Status.VERIFIED and stored(kyc, decided).redacted
    assert all(e.payload["individual"] is None for e in kyc.state.events[-2:])


def test_data_gone_before_a_run_cancels_instead_of_crashing(kyc) -> None:
    verification_id, _ = submitted(kyc)
    with kyc.unit_of_work() as uow:
        uow.working.erased[SubjectRef("ten_1", "test", "user-1")] = kyc.clock()
        uow.commit()
    pipeline.run_checks(kyc, verification_id)
    assert stored(kyc, verification_id).status == Status.CANCELED
    assert stored(kyc, verification_id).last_error.code == "subject_erased"


def test_a_cancel_between_the_checks_and_their_record_stands(kyc) -> None:
    """cancel ‖ check run: the run's conditional save finds the status moved and drops."""
    verification_id, _ = submitted(kyc)
    given, claimed = pipeline._load(kyc, verification_id, None)
    result = pipeline.run_steps(kyc.adapters, given, list(claimed.checks))
    verifications.cancel_verification(kyc.unit_of_work(), kyc.vault, PRINCIPAL, verification_id)
    assert pipeline._record(kyc, claimed, result) is False
    assert stored(kyc, verification_id).status == Status.CANCELED
    assert event_types(kyc, verification_id)[-1] == "verification.canceled"


def test_a_stale_copy_cannot_overwrite_a_newer_status(kyc) -> None:
    verification_id, _ = created(kyc)
    with kyc.unit_of_work() as first, kyc.unit_of_work() as second:
        stale = second.verifications.by_id(verification_id)
        fresh = first.verifications.by_id(verification_id)
        fresh.cancel(kyc.clock())
        first.verifications.save(fresh)
        first.commit()
        second.working.verifications[verification_id] = stored(kyc, verification_id)
        stale.cancel(kyc.clock())  # the stale copy still believes requires_input
        with pytest.raises(Conflict):
            second.verifications.save(stale)


def test_a_final_verification_refuses_every_transition(kyc) -> None:
    verification_id, _ = submitted(kyc)
    pipeline.run_checks(kyc, verification_id)
    verification = stored(kyc, verification_id)
    now = kyc.clock()
    for move in (
        lambda: verification.cancel(now),
        lambda: verification.submit(now, now - now),
        lambda: verification.record_checks([], now),
        lambda: verification.await_deposit(now),
        lambda: verification.review(Status.REJECTED, now),
    ):
        with pytest.raises(Conflict):
            move()
    assert verification.status == Status.VERIFIED and verification.changes == []


def test_the_api_schema_and_the_webhook_payload_are_one_shape(kyc) -> None:
    from schemas.verifications import VerificationSchema

    verification_id, _ = submitted(kyc)
    kyc.adapters.ocr.lines = []
    pipeline.run_checks(kyc, verification_id)
    verification = stored(kyc, verification_id)
    assert VerificationSchema().dump(verification) == verification_object(verification)
    subjects.erase_subject(kyc.unit_of_work(), kyc.vault, PRINCIPAL, "user-1")
    shell = stored(kyc, verification_id)
    assert VerificationSchema().dump(shell) == verification_object(shell)


def test_an_upstream_stage_reads_the_documents_index_only_when_a_step_needs_an_image(
    kyc, monkeypatch
) -> None:
    """The local stage reads the documents (their measures, the images); the upstream stage
    of a verification without face match opens no image, so it reads no document index; with
    face match its portrait step reads the selfie."""
    asked: list[str] = []
    index = kyc.vault.documents

    def counted(uow, ref, verification_id):  # noqa: ANN001, ANN202
        asked.append(verification_id)
        return index(uow, ref, verification_id)

    monkeypatch.setattr(kyc.vault, "documents", counted)
    plain, _ = submitted(kyc, seed=3)
    asked.clear()  # the submit's own reads
    upstream = pipeline.run_local_checks(kyc, plain, pipeline.lease_token(stored(kyc, plain)))
    assert asked == [plain]
    pipeline.run_checks(kyc, plain, upstream)
    assert stored(kyc, plain).status == Status.VERIFIED
    assert asked == [plain]  # none in the upstream stage
    with_face, _ = submitted(kyc, seed=4, face_match=True)
    asked[:] = [plain]
    token = pipeline.lease_token(stored(kyc, with_face))
    upstream = pipeline.run_local_checks(kyc, with_face, token)
    pipeline.run_checks(kyc, with_face, upstream)
    assert asked == [plain, with_face, with_face]  # the portrait step opened the selfie
    assert kyc.adapters.portrait.calls == 1


def test_an_erasure_after_the_fields_were_opened_stops_the_run_before_any_verifier(kyc) -> None:
    """The documents' index is read after the run opened the fields (lazily): a subject
    erased in between is seen there as erased — the run stops before any verifier is asked
    with the erased subject's data — not as documents missing."""
    from kyc_service.domain.sealing import DataUnavailable

    verification_id, _ = submitted(kyc)
    token = pipeline.lease_token(stored(kyc, verification_id))
    loaded = pipeline._load(kyc, verification_id, pipeline._parse_token(token))
    assert loaded is not None
    given, claimed = loaded
    subjects.erase_subject(kyc.unit_of_work(), kyc.vault, PRINCIPAL, "user-1")
    with pytest.raises(DataUnavailable, match="erased"):
        pipeline.run_steps(kyc.adapters, given, list(claimed.checks))
    assert kyc.adapters.identity.calls == 0
