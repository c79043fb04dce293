"""Webhook endpoints, events and deliveries: the queries behind webhooks and ``/v1/events``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from kyc_service.domain.events import Event
from kyc_service.persistence.tables import EventRow, WebhookDeliveryRow, WebhookEndpointRow

_EVENTS = EventRow.__table__
_INSERT_EVENT = insert(_EVENTS)
_ENABLED_ENDPOINTS = (
    select(WebhookEndpointRow)
    .where(
        WebhookEndpointRow.tenant_id == bindparam("tenant_id"),
        WebhookEndpointRow.mode == bindparam("mode"),
        WebhookEndpointRow.disabled_at.is_(None),
    )
    .order_by(WebhookEndpointRow.seq.desc())
    .with_for_update(read=True, key_share=True)
)
"""Built once: each status change records an event and reads the endpoints to notify.
``FOR KEY SHARE`` (PostgreSQL): an endpoint being deleted is waited for and then skipped,
never queued for after its delete committed (a foreign-key error that would undo the
status change); it blocks nothing else — two status changes of one tenant at once share
the lock (``read=True``: without it SQLAlchemy writes ``FOR NO KEY UPDATE``, which made
them wait for each other's commit)."""
_EVENT_AND_ENDPOINTS = _ENABLED_ENDPOINTS.add_cte(
    insert(_EVENTS)
    .values({c.name: bindparam(f"ev_{c.name}", type_=c.type) for c in _EVENTS.c if c.name != "seq"})
    .cte("added_event")
)
"""PostgreSQL: the event's insert and the read of its endpoints in one statement (a
data-modifying ``WITH``, run to completion though the read does not refer to it). The
event's values are bound by names no column has (``ev_…``), as in the audit log's."""


class WebhookRepository:
    """Endpoints and events within one tenant and mode; deliveries across all of them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_endpoint(self, **values: Any) -> WebhookEndpointRow:
        """Stage a new endpoint and return it."""
        endpoint = WebhookEndpointRow(**values)
        self.session.add(endpoint)
        return endpoint

    def lock_tenant_endpoints(self, tenant_id: str, mode: str) -> None:
        """Serialise the changes to one tenant and mode's endpoints, for this transaction.

        PostgreSQL: an advisory lock. SQLite: a write that changes nothing, so the
        transaction holds the database's one write lock before it reads anything (SQLite
        opens a transaction at the first write only; reads before it are not part of it).
        """
        if self.session.get_bind().dialect.name == "postgresql":
            key = f"webhook-endpoints:{tenant_id}:{mode}"
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
            return
        self.session.execute(
            update(WebhookEndpointRow)
            .where(WebhookEndpointRow.tenant_id == tenant_id, WebhookEndpointRow.mode == mode)
            .values(seq=WebhookEndpointRow.seq)
        )

    def add_delivery(self, event_id: str, endpoint_id: str, at: datetime) -> None:
        """Queue one delivery of an event to an endpoint, due at ``at``."""
        self.session.add(
            WebhookDeliveryRow(
                event_id=event_id,
                endpoint_id=endpoint_id,
                state="pending",
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )

    def endpoint(self, tenant_id: str, mode: str, endpoint_id: str) -> WebhookEndpointRow | None:
        """Return the endpoint if it belongs to this tenant and mode, as stored now."""
        return self.session.scalar(
            select(WebhookEndpointRow)
            .where(
                WebhookEndpointRow.id == endpoint_id,
                WebhookEndpointRow.tenant_id == tenant_id,
                WebhookEndpointRow.mode == mode,
            )
            .execution_options(populate_existing=True)
        )

    def endpoints(
        self, tenant_id: str, mode: str, *, limit: int | None = None, after_seq: int | None = None
    ) -> Sequence[WebhookEndpointRow]:
        """Return the tenant's endpoints in this mode, enabled or disabled, newest first:
        those older than ``after_seq``, at most ``limit``."""
        query = select(WebhookEndpointRow).where(
            WebhookEndpointRow.tenant_id == tenant_id, WebhookEndpointRow.mode == mode
        )
        if after_seq is not None:
            query = query.where(WebhookEndpointRow.seq < after_seq)
        query = query.order_by(WebhookEndpointRow.seq.desc())
        if limit is not None:
            query = query.limit(limit)
        return self.session.scalars(query).all()

    def update_endpoint(self, endpoint_id: str, **values: Any) -> None:
        """Change an endpoint's ``url``, ``events`` or ``disabled_at``.

        The endpoint's row is locked ``FOR UPDATE`` first (PostgreSQL), as a delete does: a
        plain update takes a lock that the status changes' ``FOR KEY SHARE`` lets through,
        so a status change in progress could queue a delivery to an endpoint being disabled
        that its disable would not see to cancel. Now the update waits for it to commit (its
        delivery is then canceled with the others), and a status change after it waits for
        the update and skips the endpoint once disabled."""
        self.session.execute(
            select(WebhookEndpointRow.id)
            .where(WebhookEndpointRow.id == endpoint_id)
            .with_for_update()
        )
        self.session.execute(
            update(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id).values(**values)
        )

    def replace_secret(
        self,
        endpoint_id: str,
        seen: str,
        *,
        kek_id: str,
        wrapped: str,
        previous_expires_at: datetime | None,
    ) -> bool:
        """Store new wrapped secrets unless they changed since ``seen`` was read; True if
        stored (compare-and-set, as a KEK rotation's re-wrap)."""
        result = self.session.execute(
            update(WebhookEndpointRow)
            .where(WebhookEndpointRow.id == endpoint_id, WebhookEndpointRow.secret_wrapped == seen)
            .values(
                secret_kek_id=kek_id,
                secret_wrapped=wrapped,
                previous_secret_expires_at=previous_expires_at,
            )
        )
        return result.rowcount == 1

    def expired_previous_secrets(self, now: datetime, limit: int) -> Sequence[WebhookEndpointRow]:
        """Endpoints whose replaced secret stopped signing by ``now``, to forget it."""
        return self.session.scalars(
            select(WebhookEndpointRow)
            .where(WebhookEndpointRow.previous_secret_expires_at <= now)
            .order_by(WebhookEndpointRow.seq)
            .limit(limit)
        ).all()

    def cancel_pending_deliveries(self, endpoint_id: str, reason: str) -> int:
        """Stop the endpoint's pending deliveries (state ``canceled``); return how many."""
        result = self.session.execute(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.endpoint_id == endpoint_id,
                WebhookDeliveryRow.state == "pending",
            )
            .values(state="canceled", last_error=reason)
        )
        return result.rowcount or 0

    def delete_endpoint(self, endpoint_id: str) -> int:
        """Delete an endpoint and every delivery to it (pending ones are never sent);
        return how many deliveries were still pending.

        The endpoint's row is locked first (PostgreSQL): a status change queueing a delivery
        to it meanwhile commits before the deliveries are counted and deleted, so none is
        left pointing at a deleted endpoint."""
        self.session.execute(
            select(WebhookEndpointRow.id)
            .where(WebhookEndpointRow.id == endpoint_id)
            .with_for_update()
        )
        pending = self.session.scalar(
            select(func.count())
            .select_from(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.endpoint_id == endpoint_id,
                WebhookDeliveryRow.state == "pending",
            )
        )
        self.session.execute(
            delete(WebhookDeliveryRow).where(WebhookDeliveryRow.endpoint_id == endpoint_id)
        )
        self.session.execute(delete(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id))
        return int(pending or 0)

    def due_deliveries(self, now: datetime, limit: int) -> Sequence[tuple[int, datetime]]:
        """Return (id, next_attempt_at) of pending deliveries due by ``now``, oldest first."""
        rows = self.session.execute(
            select(WebhookDeliveryRow.id, WebhookDeliveryRow.next_attempt_at)
            .where(
                WebhookDeliveryRow.state == "pending",
                WebhookDeliveryRow.next_attempt_at <= now,
            )
            .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
            .limit(limit)
        ).all()
        return [(row.id, row.next_attempt_at) for row in rows]

    def claim(
        self, delivery_id: int, seen_next_attempt_at: datetime, lease_until: datetime
    ) -> bool:
        """Take a delivery by moving its next attempt to ``lease_until``; False if another did.

        Compare-and-set on ``next_attempt_at``: of two runners that saw the same value, the
        database lets only one update succeed (the other waits for the row, then matches none).
        """
        result = self.session.execute(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.id == delivery_id,
                WebhookDeliveryRow.state == "pending",
                WebhookDeliveryRow.next_attempt_at == seen_next_attempt_at,
            )
            .values(next_attempt_at=lease_until)
        )
        return result.rowcount == 1

    def delivery(
        self, delivery_id: int
    ) -> tuple[WebhookDeliveryRow, EventRow, WebhookEndpointRow] | None:
        """Return a delivery with its event and endpoint."""
        row = self.session.execute(
            select(WebhookDeliveryRow, EventRow, WebhookEndpointRow)
            .join(EventRow, EventRow.id == WebhookDeliveryRow.event_id)
            .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
            .where(WebhookDeliveryRow.id == delivery_id)
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    def finish_attempt(self, delivery_id: int, lease_until: datetime, **values: Any) -> bool:
        """Record an attempt's outcome, if the lease taken at ``lease_until`` still holds."""
        result = self.session.execute(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.id == delivery_id,
                WebhookDeliveryRow.state == "pending",
                WebhookDeliveryRow.next_attempt_at == lease_until,
            )
            .values(**values)
        )
        return result.rowcount == 1


class SqlEventRepository:
    """Events of one tenant and mode: recorded with each status change, listed for polling."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_for_delivery(self, event: Event) -> Sequence[WebhookEndpointRow]:
        """Write an event now (a plain insert, after what the session holds, so deliveries
        may refer to it) and return the enabled endpoints of its tenant and mode, as
        ``_ENABLED_ENDPOINTS`` reads and locks them: one statement on
        PostgreSQL, two on SQLite."""
        self.session.flush()
        values = {
            "id": event.id,
            "tenant_id": event.tenant_id,
            "mode": event.mode,
            "type": event.type,
            "verification_id": event.verification_id,
            "payload": event.payload,
            "created_at": event.created_at,
        }
        scope = {"tenant_id": event.tenant_id, "mode": event.mode}
        if self.session.get_bind().dialect.name == "postgresql":
            params = {f"ev_{name}": value for name, value in values.items()} | scope
            return self.session.scalars(_EVENT_AND_ENDPOINTS, params).all()
        self.session.execute(_INSERT_EVENT, values)
        return self.session.scalars(_ENABLED_ENDPOINTS, scope).all()

    def get(self, tenant_id: str, mode: str, event_id: str) -> EventRow | None:
        """Return the event if it belongs to this tenant and mode."""
        return self.session.scalar(
            select(EventRow).where(
                EventRow.id == event_id, EventRow.tenant_id == tenant_id, EventRow.mode == mode
            )
        )

    def page(
        self,
        tenant_id: str,
        mode: str,
        *,
        limit: int,
        after_seq: int | None = None,
        type_: str | None = None,
    ) -> Sequence[EventRow]:
        """Return up to ``limit`` events, newest first, older than ``after_seq``."""
        query = select(EventRow).where(EventRow.tenant_id == tenant_id, EventRow.mode == mode)
        if type_:
            query = query.where(EventRow.type == type_)
        if after_seq is not None:
            query = query.where(EventRow.seq < after_seq)
        return self.session.scalars(query.order_by(EventRow.seq.desc()).limit(limit)).all()
