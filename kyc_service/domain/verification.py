"""The verification: its statuses, the moves between them, and the entity that owns its rules.

``Verification`` is pure Python: its subject data as typed values, its requirements, its
typed check results, and the transitions (``submit``, ``record_checks``, ``await_deposit``,
``review``, ``cancel``, ``erase``) as methods that refuse what the state machine of
API.md forbids. Each status change is noted in ``changes`` for the service layer to record
as an event when the verification is saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kyc_service.domain.checks import (  # noqa: F401  (re-exported: one place to import from)
    CHECKS_INCOMPLETE,
    SETTLED_CHECKS,
    SOFT_FAILURES,
    SUBJECT_ERASED,
    UPSTREAM_UNAVAILABLE,
    CheckResult,
    CheckStatus,
    ErrorInfo,
    check,
)
from kyc_service.domain.errors import Conflict, InvalidRequest
from kyc_service.domain.subject import (
    Individual,
    MaskedIndividual,
    MaskedOrganization,
    Organization,
)

BANK_ACCOUNT_CHECK = "bank_account"
REVIEW_CHECK = "review"
"""Recorded when a reviewer approves: the soft failures it looked at no longer hold the
verification in review."""


@dataclass(frozen=True)
class Deposit:
    """An awaited micro-deposit: the keyed hash of its amount, attempts left, its expiry."""

    digest: str
    attempts_left: int
    expires_at: datetime

    def attempted(self) -> Deposit:
        """One wrong amount later."""
        return Deposit(self.digest, max(0, self.attempts_left - 1), self.expires_at)

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored (the amount itself never is)."""
        return {
            "digest": self.digest,
            "attempts_left": self.attempts_left,
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Deposit | None:
        """Read a stored record back."""
        if not record:
            return None
        return cls(
            str(record["digest"]),
            int(record["attempts_left"]),
            datetime.fromisoformat(str(record["expires_at"])),
        )


class Status(StrEnum):
    """Where a verification stands; see API.md § Statuses."""

    REQUIRES_INPUT = "requires_input"
    PROCESSING = "processing"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    IN_REVIEW = "in_review"
    VERIFIED = "verified"
    REJECTED = "rejected"
    CANCELED = "canceled"


FINAL_STATUSES = frozenset({Status.VERIFIED, Status.REJECTED, Status.CANCELED})


class SubjectType(StrEnum):
    """Who is verified: a person or an organization."""

    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"


def is_final(status: Status) -> bool:
    """Tell whether no further move is possible from ``status``."""
    return status in FINAL_STATUSES


MOVES: dict[Status, frozenset[Status]] = {
    Status.REQUIRES_INPUT: frozenset({Status.PROCESSING, Status.CANCELED}),
    Status.PROCESSING: frozenset(
        {
            Status.VERIFIED,
            Status.REJECTED,
            Status.IN_REVIEW,
            Status.AWAITING_CONFIRMATION,
            Status.REQUIRES_INPUT,
            Status.CANCELED,
        }
    ),
    Status.IN_REVIEW: frozenset(
        {Status.VERIFIED, Status.REJECTED, Status.AWAITING_CONFIRMATION, Status.CANCELED}
    ),
    Status.AWAITING_CONFIRMATION: frozenset(
        {Status.PROCESSING, Status.VERIFIED, Status.REJECTED, Status.CANCELED}
    ),
    Status.VERIFIED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELED: frozenset(),
}
"""The state machine of API.md § Statuses: where each status may move. A final status
never changes."""


def can_move(current: Status, target: Status) -> bool:
    """Tell whether a verification in ``current`` may move to ``target``."""
    return target == current or target in MOVES[current]


INDIVIDUAL_DOCUMENTS = ("id_card_front", "id_card_back")
FACE_DOCUMENT = "selfie"
ORGANIZATION_DOCUMENTS = ("certificate", "legal_rep_id_card_front", "legal_rep_id_card_back")
REPRESENTATIVE_PHOTO = "legal_rep_photo"
AGENT_DOCUMENTS = ("power_of_attorney", "agent_id_card_front", "agent_id_card_back")
ID_CARD_FRONTS = ("id_card_front", "legal_rep_id_card_front", "agent_id_card_front")
ID_CARD_BACKS = ("id_card_back", "legal_rep_id_card_back", "agent_id_card_back")
PAGES = ("certificate", "power_of_attorney")
FACE_PHOTOS = (FACE_DOCUMENT, REPRESENTATIVE_PHOTO)


def document_kinds(
    subject_type: str, face_match: bool, with_agent: bool = False
) -> tuple[str, ...]:
    """Return the document kinds a verification needs."""
    if subject_type == SubjectType.ORGANIZATION:
        kinds = ORGANIZATION_DOCUMENTS
        kinds += (REPRESENTATIVE_PHOTO,) if face_match else ()
        return kinds + (AGENT_DOCUMENTS if with_agent else ())
    return INDIVIDUAL_DOCUMENTS + ((FACE_DOCUMENT,) if face_match else ())


def requirements(
    subject_type: str, face_match: bool, uploaded: set[str], with_agent: bool = False
) -> list[str]:
    """Return ``document.<kind>`` for each needed document not yet uploaded."""
    return [
        f"document.{kind}"
        for kind in document_kinds(subject_type, face_match, with_agent)
        if kind not in uploaded
    ]


def can_cancel(status: Status) -> bool:
    """Tell whether a verification in ``status`` may still be canceled."""
    return not is_final(status)


def decide(checks: Iterable[CheckResult]) -> tuple[Status, ErrorInfo | None]:
    """Return the status that the checks lead to, and the error that explains it.

    A definite failure rejects; a soft failure sends to review; anything unsettled keeps
    the verification processing; all settled and none failed verifies it.
    """
    checks = list(checks)
    reviewed = any(c.name == REVIEW_CHECK and c.status == CheckStatus.PASSED for c in checks)
    failed = [c for c in checks if c.failed and not (reviewed and not c.definite_failure)]
    hard = [c for c in failed if c.definite_failure]
    if hard:
        return Status.REJECTED, ErrorInfo(hard[0].code or "failed", hard[0].failure_message())
    if any(not c.settled for c in checks):
        return Status.PROCESSING, None
    if failed:
        return Status.IN_REVIEW, ErrorInfo(
            failed[0].code or "failed", f"the {failed[0].name} check needs review"
        )
    return Status.VERIFIED, None


@dataclass(frozen=True)
class Options:
    """What the caller asked for beyond the minimum."""

    face_match: bool = False

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored and shown."""
        return {"face_match": self.face_match}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Options:
        """Read a stored record back."""
        return cls(face_match=bool((record or {}).get("face_match", False)))


@dataclass(frozen=True)
class Consent:
    """The subject's consent as given at creation: policy version, purposes, when."""

    policy_version: str | None
    purposes: tuple[str, ...]
    granted_at: datetime | str | None

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored."""
        granted = self.granted_at
        return {
            "policy_version": self.policy_version,
            "purposes": sorted(set(self.purposes)),
            "granted_at": granted.isoformat() if isinstance(granted, datetime) else granted,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Consent:
        """Read a stored record back."""
        record = record or {}
        return cls(
            record.get("policy_version"),
            tuple(record.get("purposes") or ()),
            record.get("granted_at"),
        )


@dataclass(eq=False)
class Verification:
    """One verification of one subject; every change of its status goes through a method."""

    id: str
    tenant_id: str
    mode: str
    type: SubjectType
    reference: str
    status: Status
    created_at: datetime
    updated_at: datetime
    options: Options = field(default_factory=Options)
    consent: Consent = field(default_factory=lambda: Consent(None, (), None))
    individual: MaskedIndividual | None = None
    organization: MaskedOrganization | None = None
    deposit: Deposit | None = None
    requirements: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    last_error: ErrorInfo | None = None
    attempt: int = 1
    parent_id: str | None = None
    redacted: bool = False
    retry_count: int = 0
    unfinished_runs: int = 0
    """Runs of its checks started in a row that recorded nothing (their worker was killed,
    or failed): past ``KYC_UNFINISHED_RUNS_LIMIT`` the verification goes to review."""
    decided_at: datetime | None = None
    submitted_at: datetime | None = None
    next_attempt_at: datetime | None = None
    seq: int | None = None
    changes: list[Status] = field(default_factory=list)
    """Status changes not yet recorded as events (the service layer drains them on save)."""
    loaded_status: Status | None = field(default=None, repr=False)
    """The status as read from storage: a save is refused if it changed meanwhile."""
    loaded_updated_at: datetime | None = field(default=None, repr=False)
    """When the row read was last written (a strict save is refused if it was since)."""

    @classmethod
    def open(
        cls,
        *,
        id: str,
        tenant_id: str,
        mode: str,
        reference: str,
        options: Options,
        consent: Consent,
        now: datetime,
        individual: Individual | None = None,
        organization: Organization | None = None,
    ) -> Verification:
        """Start a verification of a person or an organization: it waits for its documents.

        Only the masked copy of the subject is kept; the identifiers validated at creation
        are recorded as passed checks.
        """
        if (individual is None) == (organization is None):
            raise ValueError("a verification has one subject: an individual or an organization")
        passed = ("id_number",) if individual else ("uscc", "id_number")
        verification = cls(
            id=id,
            tenant_id=tenant_id,
            mode=mode,
            type=SubjectType.INDIVIDUAL if individual else SubjectType.ORGANIZATION,
            reference=reference,
            status=Status.REQUIRES_INPUT,
            created_at=now,
            updated_at=now,
            options=options,
            consent=consent,
            individual=individual.masked() if individual else None,
            organization=organization.masked() if organization else None,
            checks=[check(name, CheckStatus.PASSED) for name in passed],
        )
        verification.requirements = verification.missing_documents(set())
        verification.changes.append(Status.REQUIRES_INPUT)
        return verification

    @property
    def with_agent(self) -> bool:
        """Tell whether an authorized agent acts for the organization."""
        return bool(self.organization and self.organization.agent)

    @property
    def is_final(self) -> bool:
        """Tell whether the verification can no longer change."""
        return is_final(self.status)

    def document_kinds(self) -> tuple[str, ...]:
        """Return the document kinds this verification takes."""
        return document_kinds(self.type, self.options.face_match, self.with_agent)

    def missing_documents(self, uploaded: set[str]) -> list[str]:
        """Return ``document.<kind>`` for each needed document not in ``uploaded``."""
        return requirements(self.type, self.options.face_match, uploaded, self.with_agent)

    def check_document(self, kind: str) -> None:
        """Refuse a document kind this verification does not take, or any once submitted."""
        allowed = self.document_kinds()
        if kind not in allowed:
            raise InvalidRequest(
                self._kind_refusal(kind, allowed), code="document_kind_invalid", field="kind"
            )
        if self.status != Status.REQUIRES_INPUT:
            raise Conflict(f"documents cannot be added to a verification in {self.status}")

    def _kind_refusal(self, kind: str, allowed: tuple[str, ...]) -> str:
        """Say why ``kind`` is refused: a face photo needs face match, an agent's documents
        an agent, both chosen at create; else which kinds the verification takes."""
        choices = f"kind must be one of: {', '.join(allowed)}"
        face_match, with_agent = self.options.face_match, self.with_agent
        if not face_match and kind in document_kinds(self.type, True, with_agent):
            return (
                f"a {kind} is taken only when the verification is created with "
                f"options.face_match: true; {choices}"
            )
        if not with_agent and kind in document_kinds(self.type, face_match, True):
            return (
                f"{kind} is taken only when the verification is created with an "
                f"organization.agent; {choices}"
            )
        return choices

    def documents_held(self, uploaded: set[str], now: datetime) -> None:
        """Note which documents the vault now holds: the requirements follow."""
        self.requirements = self.missing_documents(uploaded)
        self.updated_at = now

    def submit(self, now: datetime, lease: timedelta) -> None:
        """Move a complete verification to ``processing``; its checks are due within ``lease``."""
        if self.status != Status.REQUIRES_INPUT:
            raise Conflict(f"a verification in {self.status} cannot be submitted")
        if self.requirements:
            raise Conflict(
                "documents are missing",
                code="requirements_missing",
                extra={"requirements": list(self.requirements)},
            )
        self.submitted_at = now
        self.last_error = None
        self.next_attempt_at = now + lease
        self._move(Status.PROCESSING, now)

    def record_checks(self, results: Iterable[CheckResult], now: datetime) -> Status:
        """Store a check run's results and move to the status they lead to."""
        self._require(Status.PROCESSING, "record checks of")
        self.checks = list(results)
        status, error = decide(self.checks)
        self.last_error = error
        self.next_attempt_at = None
        if is_final(status):
            self.decided_at = now
        self._move(status, now)
        return status

    def keep_checks(self, results: Iterable[CheckResult], now: datetime, until: datetime) -> None:
        """A first stage settled these checks (the local ones); the rest run by ``until``."""
        self._require(Status.PROCESSING, "record checks of")
        self.checks = list(results)
        self.next_attempt_at = until
        self.updated_at = now

    def run_finished(self) -> None:
        """A run of the checks recorded its outcome: the unfinished ones before it are over."""
        self.unfinished_runs = 0

    def stage_finished(self) -> None:
        """A first stage (the local checks) recorded and hands on: only its own claim is
        undone, so a run that then dies in the next stage still counts."""
        self.unfinished_runs = max(0, self.unfinished_runs - 1)

    def give_up_unfinished(self, now: datetime) -> None:
        """Its runs kept stopping before they finished: no run again, a reviewer decides."""
        self._require(Status.PROCESSING, "give up the checks of")
        self.last_error = CHECKS_INCOMPLETE
        self.next_attempt_at = None
        self.unfinished_runs = 0
        self._move(Status.IN_REVIEW, now)

    def schedule_retry(
        self, results: Iterable[CheckResult], now: datetime, *, limit: int, base_seconds: float
    ) -> None:
        """An upstream was down: keep processing and retry later, past ``limit`` go to review."""
        self._require(Status.PROCESSING, "retry the checks of")
        self.checks = list(results)
        self.retry_count += 1
        self.last_error = UPSTREAM_UNAVAILABLE
        if self.retry_count > limit:
            self.next_attempt_at = None
            self._move(Status.IN_REVIEW, now)
            return
        self.next_attempt_at = now + timedelta(seconds=base_seconds * 2 ** (self.retry_count - 1))
        self.updated_at = now

    def await_deposit(self, now: datetime, deposit: Deposit | None = None) -> None:
        """The other checks passed and a micro-deposit was paid: wait for its amount."""
        if deposit is not None:
            self.deposit = deposit
            self.checks = [c for c in self.checks if c.name != BANK_ACCOUNT_CHECK]
            self.checks.append(check(BANK_ACCOUNT_CHECK, CheckStatus.PENDING))
        self.last_error = None
        self.next_attempt_at = deposit.expires_at if deposit else None
        self._move(Status.AWAITING_CONFIRMATION, now)

    def confirm_deposit(self, matches: bool, now: datetime) -> int:
        """Take one confirmation attempt; return the attempts left (0 once decided).

        The right amount resumes the checks (``processing``) and verifies; the last wrong
        one rejects with ``deposit_attempts_exhausted``; past the expiry nothing is taken
        (:meth:`expire_deposit` rejects, the caller answers 410).
        """
        self._require(Status.AWAITING_CONFIRMATION, "confirm a deposit of")
        deposit = self.deposit
        if deposit is None:
            raise Conflict("no micro-deposit is awaited")
        if matches:
            self._settle_bank_account(CheckStatus.PASSED, None, now)
            return 0
        self.deposit = deposit.attempted()
        self.updated_at = now
        if self.deposit.attempts_left > 0:
            return self.deposit.attempts_left
        self._settle_bank_account(CheckStatus.FAILED, "deposit_attempts_exhausted", now)
        return 0

    def deposit_expired(self, now: datetime) -> bool:
        """Tell whether the awaited micro-deposit is past its time."""
        return (
            self.status == Status.AWAITING_CONFIRMATION
            and self.deposit is not None
            and self.deposit.expires_at <= now
        )

    def expire_deposit(self, now: datetime) -> None:
        """The micro-deposit was not confirmed in time: reject with ``deposit_expired``."""
        self._require(Status.AWAITING_CONFIRMATION, "expire the deposit of")
        self._settle_bank_account(CheckStatus.FAILED, "deposit_expired", now)

    def _settle_bank_account(self, status: CheckStatus, code: str | None, now: datetime) -> None:
        """Record the bank_account check and decide: a confirmed amount resumes the checks
        (``processing``, then their decision); a failure rejects at once."""
        self.checks = [c for c in self.checks if c.name != BANK_ACCOUNT_CHECK]
        self.checks.append(check(BANK_ACCOUNT_CHECK, status, code))
        self.next_attempt_at = None
        if status == CheckStatus.FAILED:
            self.last_error = ErrorInfo(code or "failed", "the bank_account check failed")
            self.decided_at = now
            self._move(Status.REJECTED, now)
            return
        self._move(Status.PROCESSING, now)
        self.record_checks(self.checks, now)

    def review(self, decision: Status, now: datetime, error: ErrorInfo | None = None) -> None:
        """A reviewer's decision on a verification in review: verified or rejected."""
        self._require(Status.IN_REVIEW, "review")
        if decision not in (Status.VERIFIED, Status.REJECTED):
            raise InvalidRequest("a review decides verified or rejected", field="decision")
        self.last_error = error
        self.decided_at = now
        self._move(decision, now)

    def approve(self, now: datetime, deposit: Deposit | None = None) -> None:
        """A reviewer approves: resume where it stopped — the micro-deposit for an
        organization whose account is not proven yet (``deposit``), else ``verified``."""
        self._require(Status.IN_REVIEW, "approve")
        self.checks = [
            c if c.settled else check(c.name, CheckStatus.SKIPPED, c.code)
            for c in self.checks
            if c.name != REVIEW_CHECK
        ]
        self.checks.append(check(REVIEW_CHECK, CheckStatus.PASSED))
        if deposit is not None:
            self.await_deposit(now, deposit)
            return
        self.review(Status.VERIFIED, now)

    def cancel(self, now: datetime) -> None:
        """Cancel a verification that is not final yet; its retention clock starts now."""
        if self.is_final:
            raise Conflict(f"a verification in {self.status} cannot be canceled")
        self.decided_at = now
        self.next_attempt_at = None
        self._move(Status.CANCELED, now)

    def forget_scores(self, check_names: frozenset[str], now: datetime) -> bool:
        """Drop the scores of ``check_names`` (a withdrawn consent: face scores); tell
        whether any was dropped. The results (passed, failed) stay."""
        kept = [
            replace(c, score=None) if c.name in check_names and c.score is not None else c
            for c in self.checks
        ]
        if kept == self.checks:
            return False
        self.checks, self.updated_at = kept, now
        return True

    def withdraw(self, now: datetime, error: ErrorInfo) -> None:
        """The subject withdrew a consent this verification needs: it cannot go on."""
        self.cancel(now)
        self.last_error = error

    def erase(self, now: datetime, error: ErrorInfo = SUBJECT_ERASED) -> None:
        """The subject's data is gone: keep a redacted shell, cancel it if it was not final.

        The masked copy is dropped before the status changes, so neither the event nor a
        webhook can carry it.
        """
        self.individual = None
        self.organization = None
        self.deposit = None
        self.redacted = True
        self.updated_at = now
        if self.is_final:
            return
        self.last_error = error
        self.next_attempt_at = None
        self.decided_at = now
        self._move(Status.CANCELED, now)

    def drain_changes(self) -> list[Status]:
        """Return the status changes not yet recorded, and forget them."""
        changes, self.changes = self.changes, []
        return changes

    def _require(self, status: Status, action: str) -> None:
        """Refuse ``action`` unless the verification is in ``status``."""
        if self.status != status:
            raise Conflict(f"cannot {action} a verification in {self.status}")

    def _move(self, target: Status, now: datetime) -> None:
        """The one gate of every status change: what the state machine forbids is 409."""
        if not can_move(self.status, target):
            raise Conflict(f"a verification in {self.status} cannot become {target}")
        self.updated_at = now
        if target != self.status:
            self.status = target
            self.changes.append(target)
