"""The check pipeline: each check a small step with a recorded result, then the decision.

Local checks (document quality, OCR, face match: computations, free) run before the
upstream ones (identity, bank card, portrait: each call is billed). A run has three phases:
read what the checks need (one transaction), run the steps with no transaction open
(upstream calls are slow), then record the results (one transaction, only if the
verification was not written since the run claimed it: status, lease and last write). Steps
already settled are not run again, so a repeated run never bills an upstream twice. A
definite local failure stops the run before any upstream is asked; a soft one (an
unreadable card) lets the rest run, for the reviewer.

On a worker pool the pipeline runs in two stages (:func:`run_local_checks` on the CPU
workers, then :func:`run_checks` on the I/O workers), each a run as above. Each run renews
the verification's lease; :func:`retry_pending` runs whatever lease lapsed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Mode
from kyc_service.domain.checks import (
    DATA_EXPIRED,
    SUBJECT_ERASED,
    CheckResult,
    CheckStatus,
    ErrorInfo,
    check,
)
from kyc_service.domain.document_policy import document_quality_check
from kyc_service.domain.errors import Conflict, UpstreamUnavailable
from kyc_service.domain.face_policy import face_match_check
from kyc_service.domain.id_card_text import id_card_ocr_check
from kyc_service.domain.results import CheckOutcome, FaceBox, Match
from kyc_service.domain.sealing import DataUnavailable, SubjectRef
from kyc_service.domain.usage import UpstreamCall
from kyc_service.domain.verification import (
    BANK_ACCOUNT_CHECK,
    Deposit,
    Status,
    SubjectType,
    Verification,
)
from kyc_service.ports.storage import UnitOfWork
from kyc_service.services.card_reading import (
    card_portrait,
    read_front,
    rectified_card,
    rectified_page,
)
from kyc_service.services.dependencies import AdapterLookup, CheckDependencies
from kyc_service.services.events import save
from kyc_service.services.upstream_calls import Answer, metered_port, record_calls
from kyc_service.services.verifications import checks_lease

log = logging.getLogger(__name__)
ACTOR = "system:checks"
FRONT = "id_card_front"


@dataclass
class CheckInput:
    """What the steps of one run may read: sealed fields, documents' measures and images."""

    fields: dict[str, str]
    options: dict[str, Any]
    mode: Mode
    documents: Callable[[str], bytes | None]
    quality: Mapping[str, dict] = field(default_factory=dict)
    subject_type: SubjectType = SubjectType.INDIVIDUAL
    rectified: dict[str, tuple[np.ndarray, bool] | None] = field(default_factory=dict)
    verification_id: str = ""
    calls: list[UpstreamCall] = field(default_factory=list)
    """The upstream calls of this run."""
    ledger: Callable[[UpstreamCall], None] | None = None
    """Writes a call to the call ledger at once (a worker killed later loses none)."""

    def note_call(self, call: UpstreamCall) -> None:
        """Keep an upstream call of this run, and write it to the ledger."""
        self.calls.append(call)
        if self.ledger is not None:
            self.ledger(call)

    def rectified_front(self, imaging: Any) -> tuple[np.ndarray, bool] | None:
        """The ID card front and whether it is rectified (once per run); None without one."""
        return self.rectified_card(FRONT, imaging)

    def rectified_card(self, kind: str, imaging: Any) -> tuple[np.ndarray, bool] | None:
        """An ID card side of ``kind`` and whether it is rectified; None without one."""
        if kind not in self.rectified:
            image = self.documents(kind)
            corners = self.quality.get(kind, {}).get("corners")
            self.rectified[kind] = (
                None if image is None else rectified_card(image, corners, imaging)
            )
        return self.rectified[kind]

    def page(self, kind: str, imaging: Any) -> np.ndarray | None:
        """A page of ``kind`` (certificate, power of attorney), rectified when found."""
        if kind not in self.rectified:
            image = self.documents(kind)
            self.rectified[kind] = None if image is None else rectified_page(image, imaging)
        found = self.rectified[kind]
        return None if found is None else found[0]


@dataclass(frozen=True)
class Step:
    """One check: its name, whether it applies, and how to run it."""

    name: str
    applies: Callable[[CheckInput], bool]
    run: Callable[[AdapterLookup, CheckInput], CheckResult]
    upstream: bool = False
    """True for a billed call to a verifier (the ``upstream`` queue's work), False for a
    local computation (the ``local`` queue's)."""


def ask_upstream(
    adapters: AdapterLookup,
    given: CheckInput,
    role: str,
    check_name: str,
    call: Callable[[Any, str], Answer],
) -> Answer:
    """Call the ``role`` port for ``check_name`` of this run's verification, noting the call
    in ``given.calls`` for the ledger (see ``services.upstream_calls.metered``)."""
    return metered_port(
        adapters, given.mode, given.verification_id, role, check_name, call, given.note_call
    )


def _outcome(name: str, outcome: CheckOutcome) -> CheckResult:
    """Turn a port's result into a check record."""
    if isinstance(outcome, Match):
        return check(name, CheckStatus.PASSED, score=outcome.score)
    return check(name, CheckStatus.FAILED, outcome.code, getattr(outcome, "score", None))


def _identity(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """Name and ID number at the identity authority."""
    name, number = given.fields[sealed.NAME], given.fields[sealed.ID_NUMBER]
    outcome = ask_upstream(
        adapters,
        given,
        "identity",
        "identity",
        lambda port, rid: port.verify(name, number, request_id=rid),
    )
    return _outcome("identity", outcome)


def _bank_card(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """Card, name, ID number and reserved phone at the bank (4 elements)."""
    fields = given.fields
    elements = (
        fields[sealed.CARD_NUMBER],
        fields[sealed.NAME],
        fields[sealed.ID_NUMBER],
        fields[sealed.RESERVED_PHONE],
    )
    outcome = ask_upstream(
        adapters,
        given,
        "bank",
        "bank_card",
        lambda port, rid: port.verify(*elements, request_id=rid),
    )
    return _outcome("bank_card", outcome)


def _portrait(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """The selfie against the identity authority's photo."""
    selfie = given.documents("selfie")
    if selfie is None:
        return check("portrait_authority", CheckStatus.FAILED, "no_face_found")
    name, number = given.fields[sealed.NAME], given.fields[sealed.ID_NUMBER]
    outcome = ask_upstream(
        adapters,
        given,
        "portrait",
        "portrait_authority",
        lambda port, rid: port.compare(name, number, selfie, request_id=rid),
    )
    return _outcome("portrait_authority", outcome)


def _document_quality(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """Sharpness, glare and the card's outline, as measured when each image was accepted."""
    return document_quality_check(given.quality)


def _id_card_ocr(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """The name and number printed on the ID card front against the submitted ones."""
    front = given.rectified_front(adapters.get("imaging", given.mode))
    if front is None:
        return check("id_card_ocr", CheckStatus.FAILED, "ocr_unreadable")
    lines = read_front(adapters.get("ocr", given.mode), front[0])
    return id_card_ocr_check(lines, given.fields[sealed.NAME], given.fields[sealed.ID_NUMBER])


def _face_match(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """The selfie against the portrait on the ID card front."""
    front = given.rectified_front(adapters.get("imaging", given.mode))
    selfie = given.documents("selfie")
    if front is None or selfie is None:
        return check("face_match", CheckStatus.FAILED, "no_face_found")
    card, rectified = front
    portrait = card_portrait(card) if rectified else card
    box = given.quality.get("selfie", {}).get("face_box")
    probe_face = FaceBox(*box) if box and len(box) == 4 else None
    matcher = adapters.get("face", given.mode)
    return face_match_check(matcher.compare(portrait, selfie, probe_face))


def _has_face_match(given: CheckInput) -> bool:
    """Tell whether the caller asked for face matching."""
    return bool(given.options.get("face_match"))


INDIVIDUAL_STEPS: tuple[Step, ...] = (
    Step("document_quality", lambda given: True, _document_quality),
    Step("id_card_ocr", lambda given: True, _id_card_ocr),
    Step("face_match", _has_face_match, _face_match),
    Step("identity", lambda given: True, _identity, upstream=True),
    Step("bank_card", lambda given: sealed.CARD_NUMBER in given.fields, _bank_card, upstream=True),
    Step("portrait_authority", _has_face_match, _portrait, upstream=True),
)


def steps_for(given: CheckInput) -> tuple[Step, ...]:
    """The steps of the verification's subject type, local ones before billed ones."""
    if given.subject_type == SubjectType.ORGANIZATION:
        from kyc_service.services.organization_checks import ORGANIZATION_STEPS

        return ORGANIZATION_STEPS
    return INDIVIDUAL_STEPS


@dataclass
class RunResult:
    """The checks a run produced, and whether an upstream was down."""

    checks: list[CheckResult]
    upstream_down: bool = False
    deposit_amount: str | None = None
    """The micro-deposit paid by this run (an organization whose other checks all passed)."""
    partial: bool = False
    """Only the local checks ran (none failed for good): the upstream ones are still to run."""
    next_lease: str | None = None
    """The lease token the upstream stage runs with (a partial result, once recorded)."""


def run_steps(
    adapters: AdapterLookup, given: CheckInput, checks: list[CheckResult], local_only: bool = False
) -> RunResult:
    """Run every applicable step not yet settled; stop at the first failure or outage
    (``local_only``: stop before the first upstream step, a partial result)."""
    by_name = {c.name: c for c in checks}
    for step in steps_for(given):
        if not step.applies(given):
            continue
        previous = by_name.get(step.name)
        if previous and previous.settled:
            if previous.definite_failure:
                break
            continue
        if local_only and step.upstream:
            return RunResult(list(by_name.values()), partial=True)
        try:
            result = step.run(adapters, given)
        except UpstreamUnavailable:
            by_name[step.name] = check(step.name, CheckStatus.ERROR, "upstream_unavailable")
            return RunResult(list(by_name.values()), upstream_down=True)
        by_name[step.name] = result
        if result.definite_failure:
            break
    results = list(by_name.values())
    paid = any(c.name == BANK_ACCOUNT_CHECK for c in results)
    if given.subject_type == SubjectType.ORGANIZATION and not paid and _all_passed(results):
        if local_only:
            return RunResult(results, partial=True)
        from kyc_service.services.organization_checks import pay_micro_deposit

        try:
            return RunResult(results, deposit_amount=pay_micro_deposit(adapters, given))
        except UpstreamUnavailable:
            return RunResult(results, upstream_down=True)
    return RunResult(results)


def _all_passed(results: list[CheckResult]) -> bool:
    """Every check passed or was skipped (no soft failure either)."""
    return all(c.status in (CheckStatus.PASSED, CheckStatus.SKIPPED) for c in results)


def run_checks(deps: CheckDependencies, verification_id: str, lease: str | None = None) -> None:
    """Run the pipeline of a processing verification and record its outcome.

    ``lease`` is the run's token: the verification's next attempt as it was when this run
    was submitted or claimed (ISO 8601). The run claims it by moving it on, and records
    only if no other run claimed it since; a stale duplicate (a message redelivered, or
    re-enqueued by the periodic retry meanwhile) does nothing. Without one (a run in the
    submit request of an older caller) the run just renews the lease.
    """
    _run(deps, verification_id, lease, local_only=False)


def run_local_checks(
    deps: CheckDependencies, verification_id: str, lease: str | None = None
) -> str | None:
    """Run the local checks (images, OCR, faces) of a processing verification and record
    them; the lease token for its upstream checks (:func:`run_checks` on the ``upstream``
    queue), or None when it was decided (a definite local failure), moved, or the run was
    a stale duplicate."""
    result = _run(deps, verification_id, lease, local_only=True)
    if result is None or not result.partial:
        return None
    return result.next_lease


def _run(
    deps: CheckDependencies, verification_id: str, token: str | None, local_only: bool
) -> RunResult | None:
    """Load, run and record; the recorded result, or None when nothing was recorded."""
    loaded = _load(deps, verification_id, _parse_token(token))
    if loaded is None:
        return None
    given, verification = loaded
    tenant_id = verification.tenant_id
    given.ledger = lambda call: record_calls(deps, tenant_id, given.mode, verification_id, [call])
    try:
        result = run_steps(deps.adapters, given, list(verification.checks), local_only)
    except DataUnavailable as gone:  # the subject was erased while the checks ran
        _cancel_erased(deps, verification_id, gone.reason)
        return None
    return result if _record(deps, verification, result) else None


def _parse_token(token: str | None) -> datetime | None:
    """A lease token back as the instant it names (None: no token, or not one)."""
    if not token:
        return None
    try:
        parsed = datetime.fromisoformat(token)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _after(at: datetime, previous: datetime | None) -> datetime:
    """``at``, or just past ``previous`` if it is not later: each claim moves the lease
    token on, even within one tick of the clock."""
    if previous is not None and at <= previous:
        return previous + timedelta(microseconds=1)
    return at


def lease_token(verification: Verification) -> str | None:
    """The token a run of ``verification`` is submitted with: its next attempt, ISO 8601."""
    at = verification.next_attempt_at
    return at.isoformat() if at is not None else None


def lease(deps: CheckDependencies) -> timedelta:
    """How long a started run holds its verification before the periodic retry may take it."""
    return checks_lease(deps.settings)


def _subject(verification: Verification) -> SubjectRef:
    """The data subject a verification belongs to."""
    return SubjectRef(verification.tenant_id, verification.mode, verification.reference)


def _load(
    deps: CheckDependencies, verification_id: str, token: datetime | None
) -> tuple[CheckInput, Verification] | None:
    """Phase 1: claim the run (its lease token) and read the sealed fields (an audited
    opening); what the steps read, and the verification as claimed (its recorded checks,
    its new lease). None when there is nothing for this run to do."""
    vault = deps.vault
    claimed_until = _after(deps.clock() + lease(deps), token)
    with deps.unit_of_work() as uow:
        verification = _claimed(deps, uow, verification_id, token, claimed_until)
        if verification is None:
            return None
        ref = _subject(verification)
        held = HeldDocuments(lambda: _held_documents(deps, ref, verification_id))
        try:  # the audited opening last: the audit chain's head is held until the commit
            fields = vault.get_fields(
                uow, ref, verification.id, actor=ACTOR, action="verification.checks"
            )
        except DataUnavailable as gone:
            fields, reason = None, gone.reason
        if fields is not None:
            uow.commit()
    if fields is None:  # erased, or past retention: nothing can be decided
        _cancel_erased(deps, verification_id, reason)
        return None

    opened: dict[str, bytes] = {}

    def documents(kind: str) -> bytes | None:
        document_id = held.document_id(kind)
        if document_id is None:
            return None
        if kind in opened:
            return opened[kind]
        with deps.unit_of_work() as inner:
            image, _ = vault.get_document(
                inner, ref, document_id, actor=ACTOR, action="verification.checks"
            )
            inner.commit()
        opened[kind] = image
        return image

    given = CheckInput(
        fields,
        verification.options.to_record(),
        Mode(verification.mode),
        documents,
        held,
        subject_type=verification.type,
        verification_id=verification.id,
    )
    return given, verification


def _claimed(
    deps: CheckDependencies,
    uow: UnitOfWork,
    verification_id: str,
    token: datetime | None,
    claimed_until: datetime,
) -> Verification | None:
    """Claim the run and read the verification in one statement (with a token: only if it
    still holds the current lease); when that claims nothing, read it and find out why (not
    processing, runs that kept stopping: the give-up, or a stale duplicate). None when
    there is nothing for this run to do."""
    limit = unfinished_runs_limit(deps)
    verifications = uow.verifications
    if token is None:
        claimed = verifications.hold_run(verification_id, claimed_until, below=limit)
    else:
        claimed = verifications.claim_run(verification_id, token, claimed_until, below=limit)
    if claimed is not None:
        return claimed
    verification = verifications.by_id(verification_id)
    if verification is None or verification.status != Status.PROCESSING:
        return None
    if verification.unfinished_runs >= limit:
        _give_up(deps, uow, verification, token)
        return None
    log.info("stale run dropped: another run holds the verification")
    return None


class HeldDocuments(Mapping[str, dict]):
    """``kind → quality measures`` of the verification's documents, read when first asked
    for (an upstream stage that opens no image reads none), with each kind's document id."""

    def __init__(self, read: Callable[[], dict[str, tuple[str, dict]]]) -> None:
        self._read = read
        self._held: dict[str, tuple[str, dict]] | None = None

    def _index(self) -> dict[str, tuple[str, dict]]:
        if self._held is None:
            self._held = self._read()
        return self._held

    def __getitem__(self, kind: str) -> dict:
        return self._index()[kind][1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def document_id(self, kind: str) -> str | None:
        """The id of the document of ``kind``, or None without one."""
        entry = self._index().get(kind)
        return entry[0] if entry is not None else None


def _held_documents(
    deps: CheckDependencies, ref: SubjectRef, verification_id: str
) -> dict[str, tuple[str, dict]]:
    """``kind → (document id, quality measures)`` of a verification, read in a transaction
    of its own (no decryption); ``DataUnavailable`` when the subject's data can no longer be
    opened (erased, past retention since the run opened its fields: the run is cancelled,
    no upstream asked)."""
    with deps.unit_of_work() as uow:
        gone = deps.vault.unreadable(uow, ref)
        if gone is not None:
            raise DataUnavailable(gone)
        return deps.vault.documents(uow, ref, verification_id)


def unfinished_runs_limit(deps: CheckDependencies) -> int:
    """How many runs in a row may stop before recording before a reviewer takes over
    (``KYC_UNFINISHED_RUNS_LIMIT``, checked at start)."""
    return int(str(deps.settings["UNFINISHED_RUNS_LIMIT"]))


def _give_up(
    deps: CheckDependencies, uow: UnitOfWork, verification: Verification, token: datetime | None
) -> None:
    """Send a verification whose runs kept stopping unfinished to review, instead of a run
    that would likely stop again (this run's lease token must still be current); cancel it
    instead if its data is gone meanwhile (past retention, erased): no one could review it."""
    if token is not None and verification.next_attempt_at != token:
        log.info("stale run dropped: another run holds the verification")
        return
    runs = verification.unfinished_runs
    gone = deps.vault.unreadable(uow, _subject(verification))
    if gone is None:
        verification.give_up_unfinished(deps.clock())
    else:
        verification.erase(deps.clock(), _data_gone_error(gone))
    try:
        save(uow, verification, lease=token)
    except Conflict:  # moved meanwhile (canceled, erased, given up by another run)
        log.info("give-up dropped: the verification moved meanwhile")
        return
    uow.commit()
    log.warning(
        "checks of %s given up after %d unfinished runs: the verification is %s",
        verification.id,
        runs,
        verification.status.value,
    )


def _data_gone_error(reason: str) -> ErrorInfo:
    """The error of a verification cancelled because its data is gone for ``reason``."""
    return DATA_EXPIRED if reason == "past_retention" else SUBJECT_ERASED


def _cancel_erased(deps: CheckDependencies, verification_id: str, reason: str) -> None:
    """Cancel a processing verification whose subject's data is gone (erased, expired)."""
    error = _data_gone_error(reason)
    with deps.unit_of_work() as uow:
        verification = uow.verifications.by_id(verification_id, for_update=True)
        if verification is None or verification.is_final:
            return
        verification.erase(deps.clock(), error)
        try:
            save(uow, verification)
        except Conflict:  # moved meanwhile (canceled, erased): its new state stands
            log.info("erasure cancel dropped: the verification moved meanwhile")
            return
        uow.commit()


def _record(deps: CheckDependencies, verification: Verification, result: RunResult) -> bool:
    """Phase 3: store the checks and decide, unless the verification was written since this
    run claimed it; True when stored.

    ``verification`` is the one the run claimed (no second read): the save is conditional on
    its status, its lease and its last write as claimed, so a cancel, an erasure, another
    run's claim or any other write committed meanwhile makes it a 409 and the run's results
    are dropped. The retention clocks start after the save, in its transaction (the
    verification's row locked first, as every writer of it does).
    """
    held = verification.next_attempt_at
    with deps.unit_of_work() as uow:
        decided_at = _apply(deps, verification, result)
        try:
            save(uow, verification, strict=True, lease=held)
        except Conflict:  # moved meanwhile (canceled, erased, claimed): its new state stands
            log.info("check results dropped: the verification moved meanwhile")
            return False
        if decided_at is not None:
            ref = _subject(verification)
            deps.vault.record_decision(uow, ref, verification.id, decided_at)
        uow.commit()
    return True


def _apply(
    deps: CheckDependencies, verification: Verification, result: RunResult
) -> datetime | None:
    """Move the verification as the run's result says; the time of its decision when the
    run decided it (its retention clocks start then), else None."""
    settings = deps.settings
    now = deps.clock()
    if result.partial:
        verification.stage_finished()
        until = _after(now + lease(deps), verification.next_attempt_at)
        verification.keep_checks(result.checks, now, until)
        result.next_lease = lease_token(verification)
        return None
    verification.run_finished()
    if result.upstream_down:
        verification.schedule_retry(
            result.checks,
            now,
            limit=int(settings["UPSTREAM_RETRY_LIMIT"]),
            base_seconds=float(settings["UPSTREAM_RETRY_SECONDS"]),
        )
    elif result.deposit_amount is not None:
        verification.checks = result.checks
        verification.await_deposit(now, _deposit(deps, verification, result.deposit_amount))
    else:
        verification.record_checks(result.checks, now)
        if verification.is_final:
            return now
    return None


def _deposit(deps: CheckDependencies, verification: Verification, amount: str) -> Deposit:
    """The awaited deposit: the amount's keyed hash, the attempts and the expiry."""
    from kyc_service.services.deposits import deposit_digest

    settings = deps.settings
    return Deposit(
        digest=deposit_digest(deps.vault, verification, amount),
        attempts_left=int(settings["DEPOSIT_ATTEMPTS"]),
        expires_at=deps.clock() + timedelta(hours=float(settings["DEPOSIT_HOURS"])),
    )


def retry_pending(
    deps: CheckDependencies,
    limit: int = 100,
    run: Callable[[str, str], Any] | None = None,
    expire: bool = True,
) -> int:
    """Run the checks of every processing verification whose next attempt is due: an
    upstream was down, or a run's lease lapsed (its worker died, its message was lost).

    Safe from cron and concurrently: each verification is claimed by moving its next
    attempt forward before it runs, and only the process that moved it runs it. ``run``
    runs one with its lease token (default: here, now; a worker pool enqueues it). Micro-deposits
    waiting past their time are rejected first (``expire``; nothing waits forever).
    """
    if expire:
        from kyc_service.services.deposits import expire_deposits

        expire_deposits(deps.unit_of_work, deps.vault, limit)
    now = deps.clock()
    with deps.unit_of_work() as uow:
        due = uow.verifications.due_for_retry(now, limit)
    ran = 0
    for verification_id, seen in due:
        with deps.unit_of_work() as uow:
            until = now + lease(deps)
            claimed = uow.verifications.claim_attempt(verification_id, seen, until)
            uow.commit()
        if claimed:
            (run or functools.partial(run_checks, deps))(verification_id, until.isoformat())
            ran += 1
    return ran
