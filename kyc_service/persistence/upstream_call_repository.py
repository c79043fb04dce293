"""The call ledger's repository: one row per upstream call, one billable row per request id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kyc_service.domain.usage import UpstreamCall
from kyc_service.persistence.tables import UpstreamCallRow

LEDGER = UpstreamCallRow.__table__
_BILLED = {
    name: insert(LEDGER)
    .on_conflict_do_nothing(index_elements=["request_id"], index_where=LEDGER.c.billable)
    .returning(LEDGER.c.seq)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
"""Built once per dialect (both know ``ON CONFLICT``): a billable call, unless billed before."""
_NOT_BILLED = LEDGER.insert()


class SqlUpstreamCallRepository:
    """Upstream calls of every tenant; read per tenant and mode."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        tenant_id: str,
        mode: str,
        verification_id: str | None,
        calls: Sequence[UpstreamCall],
        at: datetime,
    ) -> None:
        """Store the calls. A billable call whose request id was billed before (a repeat
        after a crash) is stored as not billable: the partial unique index on billed
        request ids decides, so two writers at once cannot both bill it."""
        for call in calls:
            values = {
                "tenant_id": tenant_id,
                "mode": mode,
                "verification_id": verification_id,
                "role": call.role,
                "provider": call.provider,
                "check_name": call.check,
                "request_id": call.request_id,
                "outcome": call.outcome,
                "billable": call.billable,
                "latency_ms": call.latency_ms,
                "created_at": at,
            }
            if call.billable and self._insert_billed(values):
                continue
            self.session.execute(_NOT_BILLED, values | {"billable": False})

    def _insert_billed(self, values: dict[str, object]) -> bool:
        """Insert a billable row unless its request id is billed already; tell whether."""
        statement = _BILLED[self.session.get_bind().dialect.name]
        return self.session.execute(statement, values).first() is not None

    def summary(
        self, tenant_id: str, mode: str, start: datetime, end: datetime
    ) -> Sequence[tuple[str, str, str, int, int]]:
        """``(role, provider, outcome, calls, billable calls)`` of ``[start, end)``."""
        row = UpstreamCallRow
        billed = func.sum(case((row.billable, 1), else_=0))
        statement = (
            select(row.role, row.provider, row.outcome, func.count(), billed)
            .where(
                row.tenant_id == tenant_id,
                row.mode == mode,
                row.created_at >= start,
                row.created_at < end,
            )
            .group_by(row.role, row.provider, row.outcome)
        )
        return [(r, p, o, int(n), int(b or 0)) for r, p, o, n, b in self.session.execute(statement)]

    def of_verification(self, verification_id: str) -> Sequence[UpstreamCall]:
        """A verification's calls, oldest first."""
        row = UpstreamCallRow
        rows = self.session.scalars(
            select(row).where(row.verification_id == verification_id).order_by(row.seq)
        )
        return [
            UpstreamCall(
                r.role, r.provider, r.check_name, r.request_id, r.outcome, r.billable, r.latency_ms
            )
            for r in rows
        ]
