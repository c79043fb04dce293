"""The closed lists the OpenAPI document names as enums, taken from the domain and use cases.

Each list is built from where the service itself defines the values, so the document
cannot drift from what the service does: consent purposes, document kinds, check names,
error codes and event types.
"""

from __future__ import annotations

from kyc_service.domain import subject, verification
from kyc_service.domain.errors import ERROR_CODES
from kyc_service.services.organization_checks import ORGANIZATION_STEPS
from kyc_service.services.pipeline import INDIVIDUAL_STEPS
from kyc_service.services.webhooks import ALL_EVENTS, EVENT_TYPES

PURPOSES: tuple[str, ...] = (
    subject.REAL_NAME,
    subject.BANK_CARD,
    subject.FACE,
    subject.BANK_ACCOUNT,
)
"""Consent purposes (API.md § Endpoints, Consent)."""

DOCUMENT_KINDS: tuple[str, ...] = (
    *verification.INDIVIDUAL_DOCUMENTS,
    verification.FACE_DOCUMENT,
    *verification.ORGANIZATION_DOCUMENTS,
    verification.REPRESENTATIVE_PHOTO,
    *verification.AGENT_DOCUMENTS,
)
"""Every document kind; a verification takes those its type and options call for."""

CREATION_CHECKS: tuple[str, ...] = ("id_number", "uscc")
"""The checks recorded when a verification is created (``Verification.create``)."""

CHECK_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *CREATION_CHECKS,
            *(step.name for step in INDIVIDUAL_STEPS),
            *(step.name for step in ORGANIZATION_STEPS),
            verification.BANK_ACCOUNT_CHECK,
            verification.REVIEW_CHECK,
        ]
    )
)
"""Every check name a verification may show (API.md § Check names)."""

STATUSES: tuple[str, ...] = tuple(status.value for status in verification.Status)
"""Every status of a verification."""

EVENT_CHOICES: tuple[str, ...] = (*EVENT_TYPES, ALL_EVENTS)
"""Event types a webhook endpoint may subscribe to (``*`` for all)."""

__all__ = [
    "CHECK_NAMES",
    "DOCUMENT_KINDS",
    "ERROR_CODES",
    "EVENT_CHOICES",
    "EVENT_TYPES",
    "PURPOSES",
    "STATUSES",
]
