"""The repository of signup phone verifications: sends by blind index, atomic attempt counts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from kyc_service.domain.phone import PENDING, VERIFIED
from kyc_service.persistence.tables import PhoneVerificationRow


class PhoneVerificationRepository:
    """Phone verifications of one tenant and mode; the phone only ever as its blind index."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant_id: str, mode: str, pv_id: str) -> PhoneVerificationRow | None:
        """Return the tenant's phone verification ``pv_id`` in ``mode``, if any."""
        return self.session.scalar(
            select(PhoneVerificationRow).where(
                PhoneVerificationRow.id == pv_id,
                PhoneVerificationRow.tenant_id == tenant_id,
                PhoneVerificationRow.mode == mode,
            )
        )

    def create(self, **values: Any) -> PhoneVerificationRow:
        """Stage a new phone verification (flushed) and return it."""
        row = PhoneVerificationRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def refresh(self, row: PhoneVerificationRow) -> None:
        """Read the row's current values again."""
        self.session.refresh(row)

    def add(self, row: PhoneVerificationRow) -> None:
        """Stage a new phone verification and flush it, so later counts include it."""
        self.session.add(row)
        self.session.flush()

    def lock_phone(self, tenant_id: str, mode: str, phone_index: str) -> None:
        """Serialise sends to one phone until commit (PostgreSQL; SQLite writers queue anyway)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        digest = hashlib.sha256(f"phone\x1f{tenant_id}\x1f{mode}\x1f{phone_index}".encode())
        key = int.from_bytes(digest.digest()[:8], "big", signed=True)
        self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def sent_since(
        self, tenant_id: str, mode: str, phone_index: str, since: datetime, *, excluding: str = ""
    ) -> Sequence[datetime]:
        """Return when codes were sent to the phone after ``since``, newest first."""
        return self.session.scalars(
            select(PhoneVerificationRow.created_at)
            .where(
                PhoneVerificationRow.tenant_id == tenant_id,
                PhoneVerificationRow.mode == mode,
                PhoneVerificationRow.phone_index == phone_index,
                PhoneVerificationRow.created_at > since,
                PhoneVerificationRow.id != excluding,
            )
            .order_by(PhoneVerificationRow.created_at.desc())
        ).all()

    def delete(self, pv_id: str) -> None:
        """Delete a phone verification whose code could not be sent."""
        self.session.execute(delete(PhoneVerificationRow).where(PhoneVerificationRow.id == pv_id))

    def count_wrong_code(self, pv_id: str, max_attempts: int) -> int | None:
        """Count one wrong code atomically; return the new count, or None when none was left."""
        return self.session.scalar(
            update(PhoneVerificationRow)
            .where(
                PhoneVerificationRow.id == pv_id,
                PhoneVerificationRow.status == PENDING,
                PhoneVerificationRow.attempts < max_attempts,
            )
            .values(attempts=PhoneVerificationRow.attempts + 1)
            .returning(PhoneVerificationRow.attempts)
            .execution_options(synchronize_session=False)
        )

    def mark_verified(self, pv_id: str, max_attempts: int, now: datetime) -> bool:
        """Verify a pending, unexpired, unexhausted one atomically; tell whether it was."""
        result = self.session.execute(
            update(PhoneVerificationRow)
            .where(
                PhoneVerificationRow.id == pv_id,
                PhoneVerificationRow.status == PENDING,
                PhoneVerificationRow.attempts < max_attempts,
                PhoneVerificationRow.expires_at > now,
            )
            .values(status=VERIFIED, verified_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1
