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
