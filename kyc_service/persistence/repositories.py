"""Repositories: the only code that speaks SQL to the service's tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
