"""Repositories: the only code that speaks SQL to the service's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kyc_service.persistence.tables import (
    ApiKeyRow,
    IdempotencyRow,
    TenantRow,
)

_KEY_BY_LOOKUP = select(ApiKeyRow).where(
    ApiKeyRow.lookup == bindparam("lookup"), ApiKeyRow.revoked_at.is_(None)
)
"""Built once: every authenticated request runs it."""


class TenantRepository:
    """Tenants by name."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> TenantRow | None:
        """Return the tenant called ``name``, if any."""
        return self.session.scalar(select(TenantRow).where(TenantRow.name == name))

    def create(self, **values: Any) -> TenantRow:
        """Add a new tenant (flushed now, so rows that refer to it may follow)."""
        tenant = TenantRow(**values)
        self.session.add(tenant)
        self.session.flush()
        return tenant


class ApiKeyRepository:
    """API keys by lookup prefix."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_lookup(self, lookup: str) -> ApiKeyRow | None:
        """Return the unrevoked key with this lookup prefix, if any."""
        return self.session.scalar(_KEY_BY_LOOKUP, {"lookup": lookup})

    def create(self, **values: Any) -> ApiKeyRow:
        """Stage a new key."""
        key = ApiKeyRow(**values)
        self.session.add(key)
        return key


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

    def claim(self, **values: Any) -> IdempotencyRow | None:
        """Insert a claim and commit; return None when another request holds the key."""
        row = IdempotencyRow(**values)
        self.session.add(row)
        try:
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            return None
        return row

    def complete(self, row_id: int, status: int, body: str, headers: dict[str, str]) -> None:
        """Store the response of the request that holds the claim."""
        self.session.execute(
            update(IdempotencyRow)
            .where(IdempotencyRow.id == row_id)
            .values(
                state="completed",
                response_status=status,
                response_body=body,
                response_headers=headers,
            )
        )

    def delete(self, row_id: int) -> None:
        """Delete one record."""
        self.session.execute(delete(IdempotencyRow).where(IdempotencyRow.id == row_id))

    def delete_expired(self, now: datetime) -> int:
        """Delete records past their expiry; return how many."""
        result = self.session.execute(delete(IdempotencyRow).where(IdempotencyRow.expires_at < now))
        return result.rowcount or 0
