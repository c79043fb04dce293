"""Events: one for every status change of a verification, fanned out to webhook endpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kyc_service.domain.errors import Conflict
from kyc_service.domain.ids import new_id
from kyc_service.domain.verification import Status, can_move
from kyc_service.persistence.tables import EventRow, VerificationRow
from kyc_service.services.representation import verification_object


def record_status_event(session: Session, row: VerificationRow, now: datetime) -> EventRow:
    """Record ``verification.<status>`` with the masked object, and queue its deliveries."""
    from kyc_service.services.webhooks import enqueue_deliveries

    event = EventRow(
        id=new_id("evt"),
        tenant_id=row.tenant_id,
        mode=row.mode,
        type=f"verification.{row.status}",
        verification_id=row.id,
        payload=verification_object(row),
        created_at=now,
    )
    session.add(event)
    session.flush()
    enqueue_deliveries(session, event)
    return event


def change_status(session: Session, row: VerificationRow, status: str, now: datetime) -> None:
    """Move a verification to ``status`` and record the event (no event if it did not change).

    A move the state machine forbids (any change of a final status, among others) is refused
    with 409 ``invalid_state``: the one gate every status change passes.
    """
    if not can_move(Status(row.status), Status(status)):
        raise Conflict(f"a verification in {row.status} cannot become {status}")
    if row.status == status:
        row.updated_at = now
        return
    row.status = status
    row.updated_at = now
    record_status_event(session, row, now)
