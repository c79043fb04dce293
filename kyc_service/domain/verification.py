"""The verification's statuses and the moves between them."""

from __future__ import annotations

from enum import StrEnum


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


class CheckStatus(StrEnum):
    """A check's state."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


SETTLED_CHECKS = frozenset({CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.SKIPPED})
SOFT_FAILURES = frozenset({"ocr_unreadable", "seal_not_found", "face_uncertain"})
"""Failure codes that send a verification to manual review instead of rejecting it."""

INDIVIDUAL_DOCUMENTS = ("id_card_front", "id_card_back")
FACE_DOCUMENT = "selfie"


def document_kinds(subject_type: str, face_match: bool) -> tuple[str, ...]:
    """Return the document kinds a verification needs."""
    if subject_type != SubjectType.INDIVIDUAL:
        return ()
    return INDIVIDUAL_DOCUMENTS + ((FACE_DOCUMENT,) if face_match else ())


def requirements(subject_type: str, face_match: bool, uploaded: set[str]) -> list[str]:
    """Return ``document.<kind>`` for each needed document not yet uploaded."""
    return [
        f"document.{kind}"
        for kind in document_kinds(subject_type, face_match)
        if kind not in uploaded
    ]


def check(
    name: str, status: CheckStatus, code: str | None = None, score: float | None = None
) -> dict:
    """Return one check's record as stored and shown."""
    return {"name": name, "status": status.value, "code": code, "score": score}


def decide(checks: list[dict]) -> tuple[Status, dict | None]:
    """Return the status that the checks lead to, and the error that explains it.

    A definite failure rejects; a soft failure sends to review; anything unsettled keeps
    the verification processing; all settled and none failed verifies it.
    """
    failed = [c for c in checks if c["status"] == CheckStatus.FAILED]
    hard = [c for c in failed if c["code"] not in SOFT_FAILURES]
    if hard:
        return Status.REJECTED, {
            "code": hard[0]["code"],
            "message": f"the {hard[0]['name']} check failed",
        }
    if any(c["status"] not in SETTLED_CHECKS for c in checks):
        return Status.PROCESSING, None
    if failed:
        return Status.IN_REVIEW, {
            "code": failed[0]["code"],
            "message": f"the {failed[0]['name']} check needs review",
        }
    return Status.VERIFIED, None


def can_cancel(status: Status) -> bool:
    """Tell whether a verification in ``status`` may still be canceled."""
    return not is_final(status)
