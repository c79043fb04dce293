"""The audit log: append-only events, each carrying the hash of the one before it.

The events form :data:`CHAINS` chains, each with its own head: an event joins the chain of
its subject (tenant and reference), so a subject's history is one unbroken run, and
appenders of different subjects seldom wait for each other. ``verify`` walks every chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from kyc_service.domain.encoding import encode_bytes
from kyc_service.domain.ids import new_id
from kyc_service.observability.masking import mask_text
from kyc_service.persistence.tables import AuditChainRow, AuditEventRow

_HEADS = AuditChainRow.__table__
_TAKE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == bindparam("chain"))
    .values(last_seq=_HEADS.c.last_seq + 1)
    .returning(_HEADS.c.last_hash)
)
_MOVE_HEAD = (
    update(_HEADS).where(_HEADS.c.id == bindparam("chain")).values(last_hash=bindparam("hash"))
)
_EVENTS = AuditEventRow.__table__
_INSERT_EVENT = insert(_EVENTS)
_EVENT_COLUMNS = tuple(c.name for c in _EVENTS.columns if c.name != "seq")
_INSERT_AND_MOVE = (
    insert(_EVENTS)
    .values({c.name: bindparam(f"ev_{c.name}", type_=c.type) for c in _EVENTS.c if c.name != "seq"})
    .add_cte(
        update(_HEADS)
        .where(_HEADS.c.id == bindparam("head_id"))
        .values(last_hash=bindparam("head_hash"))
        .cte("moved_head")
    )
)
"""PostgreSQL: the event's insert and the head's new hash in one statement (a data-modifying
``WITH``), so the head is held for one round trip less. Its values are bound by names no
column of either table has (a key named like a column would be taken for the update's).
Like the others here, built once: an append builds no SQL."""

GENESIS = "genesis"
CHAINS = 8
"""How many chains there are (their heads are made by the migrations: rows 1 to 8)."""


def chain_of(tenant_id: str | None, reference: str | None) -> int:
    """The chain of a subject's events (1 to :data:`CHAINS`); chain 1 without a subject."""
    if reference is None:
        return 1
    digest = hashlib.sha256(f"{tenant_id}\n{reference}".encode()).digest()
    return 1 + int.from_bytes(digest[:4], "big") % CHAINS


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose hash or link does not hold."""

    seq: int
    event_id: str
    problem: str


def event_hash(event: AuditEventRow) -> str:
    """Return the hash of an event's content and its link to the previous event."""
    content = {
        "id": event.id,
        "tenant_id": event.tenant_id,
        "mode": event.mode,
        "actor": event.actor,
        "action": event.action,
        "reference": event.reference,
        "verification_id": event.verification_id,
        "reason": event.reason,
        "details": event.details,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return encode_bytes(hashlib.sha256(canonical.encode()).digest())


class AuditLog:
    """Appends events in one chain and checks the chain."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def append(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        tenant_id: str | None = None,
        mode: str | None = None,
        reference: str | None = None,
        verification_id: str | None = None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEventRow:
        """Add an event to the caller's transaction; appenders take turns on the chain head.

        The event is made before the head is taken, and one statement both takes the head
        and reads the previous hash: the head is held for that statement, the event's insert
        and the head's new hash (one statement on PostgreSQL), then until the caller
        commits — so an audited reading is best the last thing its transaction does. What
        the caller staged in the session is written before the head is taken (the session
        flushes before any statement, plain SQL included).
        """
        masked = json.loads(mask_text(json.dumps(dict(details or {}), ensure_ascii=False)))
        event = AuditEventRow(
            id=new_id("aud"),
            tenant_id=tenant_id,
            mode=mode,
            actor=actor,
            action=action,
            reference=reference,
            verification_id=verification_id,
            reason=mask_text(reason) if reason else None,
            details=masked,
        )
        event.chain = chain_of(tenant_id, reference)
        event.prev_hash = session.execute(_TAKE_HEAD, {"chain": event.chain}).scalar_one()
        event.created_at = self.clock()  # once the head is held: the chain's order is time's
        event.hash = event_hash(event)
        values = {name: getattr(event, name) for name in _EVENT_COLUMNS}
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                _INSERT_AND_MOVE,
                {f"ev_{name}": value for name, value in values.items()}
                | {"head_id": event.chain, "head_hash": event.hash},
            )
        else:  # SQLite has no data-modifying WITH
            session.execute(_INSERT_EVENT, values)
            session.execute(_MOVE_HEAD, {"chain": event.chain, "hash": event.hash})
        return event

    def verify(self, session: Session, batch: int = 1000) -> ChainBreak | None:
        """Walk every chain from its start; return the first broken link, or None."""
        for head in session.scalars(select(AuditChainRow).order_by(AuditChainRow.id)).all():
            broken = self._verify_chain(session, head, batch)
            if broken is not None:
                return broken
        return None

    def _verify_chain(self, session: Session, head: AuditChainRow, batch: int) -> ChainBreak | None:
        """Walk one chain; its first broken link, or None."""
        previous, after = GENESIS, 0
        while True:
            events = session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.chain == head.id, AuditEventRow.seq > after)
                .order_by(AuditEventRow.seq)
                .limit(batch)
            ).all()
            if not events:
                break
            for event in events:
                if event.prev_hash != previous:
                    return ChainBreak(event.seq, event.id, "does not link to the event before it")
                if event_hash(event) != event.hash:
                    return ChainBreak(event.seq, event.id, "its content does not match its hash")
                previous, after = event.hash, event.seq
        if head.last_hash != previous:
            return ChainBreak(after, "", "the chain's last event is missing")
        return None
