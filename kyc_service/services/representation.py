"""The public, masked representation of a verification, as events and webhooks carry it.

The API's responses are dumped by ``schemas.verifications.VerificationSchema`` from the
same entity; a test holds the two to one shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kyc_service.domain.timestamps import utc_text_or_none
from kyc_service.domain.verification import Verification


def timestamp(value: datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp (``YYYY-MM-DDTHH:MM:SSZ``), or ``None``."""
    return utc_text_or_none(value)


def verification_object(verification: Verification) -> dict[str, Any]:
    """Return the verification as API.md shows it: personal data masked, never plain."""
    individual = None if verification.redacted else verification.individual
    organization = None if verification.redacted else verification.organization
    return {
        "id": verification.id,
        "object": "verification",
        "type": verification.type.value,
        "mode": verification.mode,
        "reference": verification.reference,
        "status": verification.status.value,
        "requirements": list(verification.requirements),
        "checks": [c.to_record() for c in verification.checks],
        "last_error": verification.last_error.to_record() if verification.last_error else None,
        "individual": individual.to_record() if individual else None,
        "organization": organization.to_record() if organization else None,
        "options": verification.options.to_record(),
        "attempt": verification.attempt,
        "parent_id": verification.parent_id,
        "redacted": verification.redacted,
        "created_at": timestamp(verification.created_at),
        "updated_at": timestamp(verification.updated_at),
        "decided_at": timestamp(verification.decided_at),
    }
