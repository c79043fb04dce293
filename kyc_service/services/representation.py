"""The public, masked representation of a verification (API responses, events, webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kyc_service.persistence.tables import VerificationRow


def _time(value: datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def verification_object(row: VerificationRow) -> dict[str, Any]:
    """Return the verification as API.md shows it: personal data masked, never plain."""
    subject = {"individual": None, "organization": None}
    if not row.redacted:
        subject[row.type] = row.masked or None
    return {
        "id": row.id,
        "object": "verification",
        "type": row.type,
        "mode": row.mode,
        "reference": row.reference,
        "status": row.status,
        "requirements": list(row.requirements or []),
        "checks": [dict(check) for check in row.checks or []],
        "last_error": row.last_error,
        **subject,
        "options": dict(row.options or {}),
        "attempt": row.attempt,
        "parent_id": row.parent_id,
        "redacted": row.redacted,
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
        "decided_at": _time(row.decided_at),
    }
