"""Reading the audit chain: one tenant's events, newest first (appending is the vault's)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyc_service.persistence.tables import AuditEventRow


class SqlAuditEventRepository:
    """Audit events of a tenant and mode, filtered by verification or subject reference."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def seq_of(self, tenant_id: str, mode: str, event_id: str) -> int | None:
        """The position of the tenant's event ``event_id`` (None when unknown or foreign)."""
        return self.session.scalar(
            select(AuditEventRow.seq).where(
                AuditEventRow.id == event_id,
                AuditEventRow.tenant_id == tenant_id,
                AuditEventRow.mode == mode,
            )
        )

    def page(
        self,
        tenant_id: str,
        mode: str,
        *,
        limit: int,
        after_seq: int | None = None,
        verification_id: str | None = None,
        reference: str | None = None,
    ) -> Sequence[AuditEventRow]:
        """Up to ``limit`` events older than ``after_seq``, newest first."""
        row = AuditEventRow
        query = select(row).where(row.tenant_id == tenant_id, row.mode == mode)
        if verification_id:
            query = query.where(row.verification_id == verification_id)
        if reference:
            query = query.where(row.reference == reference)
        if after_seq is not None:
            query = query.where(row.seq < after_seq)
        return list(self.session.scalars(query.order_by(row.seq.desc()).limit(limit)))
