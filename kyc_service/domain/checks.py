"""A check's typed result, and the decision a set of results leads to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: its name, state, the failure code and a score where one exists,
    and the submitted fields a document did not match (their names, never their values)."""

    name: str
    status: CheckStatus
    code: str | None = None
    score: float | None = None
    fields: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        """Tell whether the check has its final result (it is never run again)."""
        return self.status in SETTLED_CHECKS

    @property
    def failed(self) -> bool:
        """Tell whether the check failed."""
        return self.status == CheckStatus.FAILED

    @property
    def definite_failure(self) -> bool:
        """Tell whether the check failed for good (not a soft failure left to a reviewer)."""
        return self.failed and self.code not in SOFT_FAILURES

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored and shown (``name``, ``status``, ``code``, ``score``;
        ``fields`` when the check names some)."""
        record: dict[str, Any] = {
            "name": self.name,
            "status": self.status.value,
            "code": self.code,
            "score": self.score,
        }
        if self.fields:
            record["fields"] = list(self.fields)
        return record

    def failure_message(self) -> str:
        """Say that the check failed, and which submitted fields differ when it knows."""
        if self.fields:
            return f"the {self.name} check failed: {', '.join(self.fields)} differ on the document"
        return f"the {self.name} check failed"

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CheckResult:
        """Read a stored record back."""
        return cls(
            name=str(record["name"]),
            status=CheckStatus(record["status"]),
            code=record.get("code"),
            score=record.get("score"),
            fields=tuple(record.get("fields") or ()),
        )


def check(
    name: str,
    status: CheckStatus,
    code: str | None = None,
    score: float | None = None,
    fields: tuple[str, ...] = (),
) -> CheckResult:
    """Return one check's result."""
    return CheckResult(name, status, code, score, fields)


@dataclass(frozen=True)
class ErrorInfo:
    """Why a verification stands where it does (``last_error``): a code and a message."""

    code: str
    message: str

    def to_record(self) -> dict[str, str]:
        """Return the record as stored and shown."""
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> ErrorInfo | None:
        """Read a stored record back (None stays None)."""
        if not record:
            return None
        return cls(str(record["code"]), str(record.get("message", "")))


UPSTREAM_UNAVAILABLE = ErrorInfo("upstream_unavailable", "an upstream verifier is unavailable")
CHECKS_INCOMPLETE = ErrorInfo(
    "checks_incomplete",
    "the checks stopped before they finished, run after run (a worker died or failed each "
    "time): a reviewer decides",
)
SUBJECT_ERASED = ErrorInfo(
    "subject_erased",
    "the subject's personal data was erased: this verification can never be decided",
)
DATA_EXPIRED = ErrorInfo(
    "data_expired",
    "the personal data of this verification is past its retention: it can never be decided",
)
