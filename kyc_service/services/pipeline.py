"""The check pipeline: each check a small step with a recorded result, then the decision.

Local checks (document quality, OCR, face match: computations, free) run before the
upstream ones (identity, bank card, portrait: each call is billed). A run has three
phases: read what the checks need (one transaction), run the steps with no transaction
open (upstream calls are slow), then record the results (one transaction, only if the
verification is still processing). Steps already settled are not run again, so a repeated
run never bills an upstream twice. A definite local failure stops the run before any
upstream is asked; a soft one (an unreadable card) lets the rest run, for the reviewer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Mode
from kyc_service.domain.document_policy import document_quality_check
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.face_policy import face_match_check
from kyc_service.domain.id_card_text import id_card_ocr_check
from kyc_service.domain.results import CheckOutcome, FaceBox, Match
from kyc_service.domain.verification import (
    SETTLED_CHECKS,
    SOFT_FAILURES,
    CheckStatus,
    Status,
    check,
    decide,
    is_final,
)
from kyc_service.persistence.tables import VerificationRow
from kyc_service.services.card_reading import card_portrait, read_front, rectified_card
from kyc_service.services.events import change_status
from kyc_service.services.subjects import DATA_EXPIRED, SUBJECT_ERASED, cancel_as_erased
from kyc_service.vault import DataUnavailable, SubjectRef

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
    quality: dict[str, dict] = field(default_factory=dict)
    rectified: dict[str, tuple[np.ndarray, bool] | None] = field(default_factory=dict)

    def rectified_front(self, imaging: Any) -> tuple[np.ndarray, bool] | None:
        """The ID card front and whether it is rectified (once per run); None without one."""
        if FRONT not in self.rectified:
            image = self.documents(FRONT)
            corners = self.quality.get(FRONT, {}).get("corners")
            self.rectified[FRONT] = (
                None if image is None else rectified_card(image, corners, imaging)
            )
        return self.rectified[FRONT]


@dataclass(frozen=True)
class Step:
    """One check: its name, whether it applies, and how to run it."""

    name: str
    applies: Callable[[CheckInput], bool]
    run: Callable[[Any, CheckInput], dict]


def _outcome(name: str, outcome: CheckOutcome) -> dict:
    """Turn a port's result into a check record."""
    if isinstance(outcome, Match):
        return check(name, CheckStatus.PASSED, score=outcome.score)
    return check(name, CheckStatus.FAILED, outcome.code, getattr(outcome, "score", None))


def _identity(adapters: Any, given: CheckInput) -> dict:
    """Name and ID number at the identity authority."""
    port = adapters.get("identity", given.mode)
    return _outcome(
        "identity",
        port.verify(given.fields[sealed.NAME], given.fields[sealed.ID_NUMBER]),
    )


def _bank_card(adapters: Any, given: CheckInput) -> dict:
    """Card, name, ID number and reserved phone at the bank (4 elements)."""
    port = adapters.get("bank", given.mode)
    outcome = port.verify(
        given.fields[sealed.CARD_NUMBER],
        given.fields[sealed.NAME],
        given.fields[sealed.ID_NUMBER],
        given.fields[sealed.RESERVED_PHONE],
    )
    return _outcome("bank_card", outcome)


def _portrait(adapters: Any, given: CheckInput) -> dict:
    """The selfie against the identity authority's photo."""
    selfie = given.documents("selfie")
    if selfie is None:
        return check("portrait_authority", CheckStatus.FAILED, "no_face_found")
    port = adapters.get("portrait", given.mode)
    outcome = port.compare(given.fields[sealed.NAME], given.fields[sealed.ID_NUMBER], selfie)
    return _outcome("portrait_authority", outcome)


def _document_quality(adapters: Any, given: CheckInput) -> dict:
    """Sharpness, glare and the card's outline, as measured when each image was accepted."""
    return document_quality_check(given.quality)


def _id_card_ocr(adapters: Any, given: CheckInput) -> dict:
    """The name and number printed on the ID card front against the submitted ones."""
    front = given.rectified_front(adapters.get("imaging", given.mode))
    if front is None:
        return check("id_card_ocr", CheckStatus.FAILED, "ocr_unreadable")
    lines = read_front(adapters.get("ocr", given.mode), front[0])
    return id_card_ocr_check(lines, given.fields[sealed.NAME], given.fields[sealed.ID_NUMBER])


def _face_match(adapters: Any, given: CheckInput) -> dict:
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
    Step("identity", lambda given: True, _identity),
    Step("bank_card", lambda given: sealed.CARD_NUMBER in given.fields, _bank_card),
    Step("portrait_authority", _has_face_match, _portrait),
)


@dataclass
class RunResult:
    """The checks a run produced, and whether an upstream was down."""

    checks: list[dict]
    upstream_down: bool = False
    notes: list[str] = field(default_factory=list)


def run_steps(adapters: Any, given: CheckInput, checks: list[dict]) -> RunResult:
    """Run every applicable step not yet settled; stop at the first failure or outage."""
    by_name = {c["name"]: c for c in checks}
    for step in INDIVIDUAL_STEPS:
        if not step.applies(given):
            continue
        previous = by_name.get(step.name)
        if previous and previous["status"] in SETTLED_CHECKS:
            if previous["status"] == CheckStatus.FAILED and previous["code"] not in SOFT_FAILURES:
                break
            continue
        try:
            result = step.run(adapters, given)
        except UpstreamUnavailable:
            by_name[step.name] = check(step.name, CheckStatus.ERROR, "upstream_unavailable")
            return RunResult(list(by_name.values()), upstream_down=True)
        by_name[step.name] = result
        if result["status"] == CheckStatus.FAILED and result["code"] not in SOFT_FAILURES:
            break
    return RunResult(list(by_name.values()))


def run_checks(services: Any, verification_id: str) -> None:
    """Run the pipeline of a processing verification and record its outcome."""
    loaded = _load(services, verification_id)
    if loaded is None:
        return
    given, checks = loaded
    try:
        result = run_steps(services.adapters, given, checks)
    except DataUnavailable as gone:  # the subject was erased while the checks ran
        _cancel_erased(services, verification_id, gone.reason)
        return
    _record(services, verification_id, result)


def _load(services: Any, verification_id: str) -> tuple[CheckInput, list[dict]] | None:
    """Phase 1: read the sealed fields (an audited opening) and the recorded checks."""
    vault = services.vault
    with services.unit_of_work() as uow:
        row = uow.verifications.by_id(verification_id)
        if row is None or row.status != Status.PROCESSING:
            return None
        ref = SubjectRef(row.tenant_id, row.mode, row.reference)
        try:
            fields = vault.get_fields(
                uow.session, ref, row.id, actor=ACTOR, action="verification.checks"
            )
        except DataUnavailable as gone:
            fields, reason = None, gone.reason
        if fields is not None:
            held = vault.documents(uow.session, ref, row.id)
            kinds = {kind: document_id for kind, (document_id, _) in held.items()}
            quality = {kind: measures for kind, (_, measures) in held.items()}
            uow.commit()
            checks = [dict(c) for c in row.checks or []]
            options = dict(row.options or {})
    if fields is None:  # erased, or past retention: nothing can be decided
        _cancel_erased(services, verification_id, reason)
        return None

    opened: dict[str, bytes] = {}

    def documents(kind: str) -> bytes | None:
        if kind not in kinds:
            return None
        if kind in opened:
            return opened[kind]
        with services.unit_of_work() as inner:
            image, _ = vault.get_document(
                inner.session, ref, kinds[kind], actor=ACTOR, action="verification.checks"
            )
            inner.commit()
        opened[kind] = image
        return image

    return CheckInput(fields, options, Mode(row.mode), documents, quality), checks


def _cancel_erased(services: Any, verification_id: str, reason: str) -> None:
    """Cancel a processing verification whose subject's data is gone (erased, expired)."""
    error = DATA_EXPIRED if reason == "past_retention" else SUBJECT_ERASED
    with services.unit_of_work() as uow:
        row = uow.verifications.by_id(verification_id, for_update=True)
        if row is not None and not is_final(Status(row.status)):
            cancel_as_erased(uow.session, row, services.vault.clock(), error)
        uow.commit()


def _record(services: Any, verification_id: str, result: RunResult) -> None:
    """Phase 3: store the checks and decide, unless the verification moved meanwhile."""
    vault = services.vault
    settings = services.settings
    with services.unit_of_work() as uow:
        row = uow.verifications.by_id(verification_id, for_update=True)
        if row is None or row.status != Status.PROCESSING:
            return
        now = vault.clock()
        row.checks = result.checks
        if result.upstream_down:
            _schedule_retry(uow.session, row, now, settings)
        else:
            status, error = decide(result.checks)
            row.last_error = error
            row.next_attempt_at = None
            _settle(uow.session, vault, row, status, now)
        uow.commit()


def _schedule_retry(session: Any, row: VerificationRow, now: datetime, settings: Any) -> None:
    """Keep the verification processing and retry later; past the budget, send it to review."""
    row.retry_count = (row.retry_count or 0) + 1
    row.last_error = {
        "code": "upstream_unavailable",
        "message": "an upstream verifier is unavailable",
    }
    if row.retry_count > int(settings["UPSTREAM_RETRY_LIMIT"]):
        row.next_attempt_at = None
        change_status(session, row, Status.IN_REVIEW, now)
        return
    delay = float(settings["UPSTREAM_RETRY_SECONDS"]) * 2 ** (row.retry_count - 1)
    row.next_attempt_at = now + timedelta(seconds=delay)
    row.updated_at = now


def _settle(session: Any, vault: Any, row: VerificationRow, status: Status, now: datetime) -> None:
    """Apply the decision; a final one starts the retention clocks."""
    if is_final(status):
        row.decided_at = now
        vault.record_decision(
            session, SubjectRef(row.tenant_id, row.mode, row.reference), row.id, now
        )
    change_status(session, row, status, now)


def retry_pending(services: Any, limit: int = 100) -> int:
    """Run the checks of every processing verification whose next attempt is due.

    Safe from cron and concurrently: each verification is claimed by moving its next
    attempt forward before it runs, and only the process that moved it runs it.
    """
    now = services.vault.clock()
    lease = now + timedelta(minutes=5)
    with services.unit_of_work() as uow:
        due = uow.verifications.due_for_retry(now, limit)
    ran = 0
    for verification_id, seen in due:
        with services.unit_of_work() as uow:
            claimed = uow.verifications.claim_attempt(verification_id, seen, lease)
            uow.commit()
        if claimed:
            run_checks(services, verification_id)
            ran += 1
    return ran
