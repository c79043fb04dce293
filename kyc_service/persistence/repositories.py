"""Repositories: the only code that speaks SQL to the service's tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kyc_service.domain.verification import FINAL_STATUSES
from kyc_service.persistence.tables import (
    ApiKeyRow,
    IdempotencyRow,
    TenantRow,
    VerificationRow,
)


class TenantRepository:
    """Tenants by name."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> TenantRow | None:
        """Return the tenant called ``name``, if any."""
        return self.session.scalar(select(TenantRow).where(TenantRow.name == name))

    def add(self, tenant: TenantRow) -> None:
        """Add a new tenant (flushed now, so rows that refer to it may follow)."""
        self.session.add(tenant)
        self.session.flush()


class ApiKeyRepository:
    """API keys by lookup prefix."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_lookup(self, lookup: str) -> ApiKeyRow | None:
        """Return the unrevoked key with this lookup prefix, if any."""
        return self.session.scalar(
            select(ApiKeyRow).where(ApiKeyRow.lookup == lookup, ApiKeyRow.revoked_at.is_(None))
        )

    def add(self, key: ApiKeyRow) -> None:
        """Stage a new key."""
        self.session.add(key)


class IdempotencyRepository:
    """Claimed idempotency keys and their stored responses."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant_id: str, mode: str, key: str) -> IdempotencyRow | None:
        """Return the record of ``key`` for this tenant and mode, if any."""
        return self.session.scalar(
            select(IdempotencyRow).where(
                IdempotencyRow.tenant_id == tenant_id,
                IdempotencyRow.mode == mode,
                IdempotencyRow.key == key,
            )
        )

    def by_id(self, row_id: int) -> IdempotencyRow | None:
        """Return one record by its row id."""
        return self.session.get(IdempotencyRow, row_id)

    def insert_claim(self, row: IdempotencyRow) -> bool:
        """Insert ``row`` and commit; return False when another request holds the key."""
        self.session.add(row)
        try:
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            return False
        return True

    def delete(self, row_id: int) -> None:
        """Delete one record."""
        self.session.execute(delete(IdempotencyRow).where(IdempotencyRow.id == row_id))

    def delete_expired(self, now: datetime) -> int:
        """Delete records past their expiry; return how many."""
        result = self.session.execute(delete(IdempotencyRow).where(IdempotencyRow.expires_at < now))
        return result.rowcount or 0


class VerificationRepository:
    """Verifications, always within one tenant and mode."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: VerificationRow) -> None:
        """Stage a new verification."""
        self.session.add(row)

    def get(self, tenant_id: str, mode: str, verification_id: str) -> VerificationRow | None:
        """Return the verification if it belongs to this tenant and mode."""
        return self.session.scalar(
            select(VerificationRow).where(
                VerificationRow.id == verification_id,
                VerificationRow.tenant_id == tenant_id,
                VerificationRow.mode == mode,
            )
        )

    def by_id(self, verification_id: str, *, for_update: bool = False) -> VerificationRow | None:
        """Return a verification by id alone (for workers; never for a tenant's request)."""
        query = select(VerificationRow).where(VerificationRow.id == verification_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def due_for_retry(self, now: datetime, limit: int) -> Sequence[tuple[str, datetime]]:
        """Return (id, next attempt) of processing verifications whose next attempt is due."""
        rows = self.session.execute(
            select(VerificationRow.id, VerificationRow.next_attempt_at)
            .where(
                VerificationRow.status == "processing",
                VerificationRow.next_attempt_at <= now,
            )
            .order_by(VerificationRow.next_attempt_at)
            .limit(limit)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def claim_attempt(self, verification_id: str, seen: datetime, lease_until: datetime) -> bool:
        """Move a due attempt to ``lease_until`` unless another worker already did."""
        result = self.session.execute(
            update(VerificationRow)
            .where(VerificationRow.id == verification_id, VerificationRow.next_attempt_at == seen)
            .values(next_attempt_at=lease_until)
        )
        return (result.rowcount or 0) == 1

    def redact_subject(self, tenant_id: str, mode: str, reference: str, now: datetime) -> int:
        """Turn a subject's verifications into redacted shells (status and checks kept)."""
        result = self.session.execute(
            update(VerificationRow)
            .where(
                VerificationRow.tenant_id == tenant_id,
                VerificationRow.mode == mode,
                VerificationRow.reference == reference,
            )
            .values(masked={}, redacted=True, updated_at=now)
        )
        return result.rowcount or 0

    def in_flight_of_subject(
        self, tenant_id: str, mode: str, reference: str
    ) -> Sequence[VerificationRow]:
        """Return a subject's verifications that are not final yet, locked for update."""
        query = select(VerificationRow).where(
            VerificationRow.tenant_id == tenant_id,
            VerificationRow.mode == mode,
            VerificationRow.reference == reference,
            VerificationRow.status.not_in([s.value for s in FINAL_STATUSES]),
        )
        return self.session.scalars(query.with_for_update()).all()

    def page(
        self,
        tenant_id: str,
        mode: str,
        *,
        limit: int,
        after_seq: int | None = None,
        filters: dict[str, Any] | None = None,
    ) -> Sequence[VerificationRow]:
        """Return up to ``limit`` verifications, newest first, older than ``after_seq``."""
        query = select(VerificationRow).where(
            VerificationRow.tenant_id == tenant_id, VerificationRow.mode == mode
        )
        for name, value in (filters or {}).items():
            query = query.where(getattr(VerificationRow, name) == value)
        if after_seq is not None:
            query = query.where(VerificationRow.seq < after_seq)
        query = query.order_by(VerificationRow.seq.desc()).limit(limit)
        return self.session.scalars(query).all()
