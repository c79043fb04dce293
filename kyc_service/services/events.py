"""Saving a verification: its changes, and one event for each status change it made."""

from __future__ import annotations

from datetime import datetime

from kyc_service.domain.events import Event
from kyc_service.domain.ids import new_id
from kyc_service.domain.verification import Status, Verification
from kyc_service.ports.storage import UnitOfWork
from kyc_service.services.representation import verification_object


def save(
    uow: UnitOfWork,
    verification: Verification,
    *,
    new: bool = False,
    strict: bool = False,
    lease: datetime | None = None,
) -> None:
    """Store the verification (409 if its status moved meanwhile — with ``strict``, if
    anything was written meanwhile; with ``lease``, if another run claimed it since) and
    record its status events."""
    if new:
        uow.verifications.add(verification)
    else:
        uow.verifications.save(verification, strict=strict, lease=lease)
    for status in verification.drain_changes():
        record_status_event(uow, verification, status)


def _payload(verification: Verification, status: Status) -> dict:
    """The masked object as the event of ``status`` shows it (a change passed through on
    the way to the final one shows its own status)."""
    payload = verification_object(verification)
    payload["status"] = status.value
    return payload


def record_status_event(uow: UnitOfWork, verification: Verification, status: Status) -> Event:
    """Record ``verification.<status>`` with the masked object, and queue its deliveries."""
    from kyc_service.services.webhook_endpoints import enqueue_deliveries

    event = Event(
        id=new_id("evt"),
        tenant_id=verification.tenant_id,
        mode=verification.mode,
        type=f"verification.{status.value}",
        verification_id=verification.id,
        payload=_payload(verification, status),
        created_at=verification.updated_at,
    )
    enqueue_deliveries(uow, event, uow.events.add_for_delivery(event))
    return event
