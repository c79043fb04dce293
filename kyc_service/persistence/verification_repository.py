"""Verifications in SQL: rows become ``Verification`` entities and go back as one UPDATE.

``save`` is a conditional UPDATE (``WHERE id = … AND status = <status as loaded>``): if a
concurrent transaction moved the verification meanwhile (a cancel, an erasure, another
check run), nothing is written and the caller gets 409 — on SQLite, where ``FOR UPDATE``
does nothing, as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session

from kyc_service.domain.checks import CheckResult, ErrorInfo
from kyc_service.domain.errors import Conflict
from kyc_service.domain.sealing import SubjectRef
from kyc_service.domain.subject import MaskedIndividual, MaskedOrganization
from kyc_service.domain.verification import (
    Consent,
    Deposit,
    Options,
    Status,
    SubjectType,
    Verification,
)
from kyc_service.persistence.tables import VerificationRow

TABLE = VerificationRow.__table__
COLUMNS = TABLE.c
_INSERT = insert(TABLE).returning(COLUMNS.seq)
"""Built once: a new verification is one plain insert (SQLAlchemy reuses its compiled form)."""


def to_entity(row: Any) -> Verification:
    """Build the entity from a row (ORM object or Core row)."""
    verification = Verification(
        id=row.id,
        tenant_id=row.tenant_id,
        mode=row.mode,
        type=SubjectType(row.type),
        reference=row.reference,
        status=Status(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        options=Options.from_record(row.options),
        consent=Consent.from_record(row.consent),
        individual=MaskedIndividual.from_record(row.masked)
        if row.type == SubjectType.INDIVIDUAL and not row.redacted
        else None,
        organization=MaskedOrganization.from_record(row.masked)
        if row.type == SubjectType.ORGANIZATION and not row.redacted
        else None,
        deposit=Deposit.from_record(row.deposit),
        requirements=list(row.requirements or []),
        checks=[CheckResult.from_record(c) for c in row.checks or []],
        last_error=ErrorInfo.from_record(row.last_error),
        attempt=row.attempt or 1,
        parent_id=row.parent_id,
        redacted=bool(row.redacted),
        retry_count=row.retry_count or 0,
        unfinished_runs=row.unfinished_runs or 0,
        decided_at=row.decided_at,
        submitted_at=row.submitted_at,
        next_attempt_at=row.next_attempt_at,
        seq=row.seq,
    )
    verification.loaded_status = verification.status
    verification.loaded_updated_at = verification.updated_at
    return verification


def to_values(verification: Verification) -> dict[str, Any]:
    """Return the row's column values for the entity (all but ``seq``)."""
    subject = verification.individual or verification.organization
    masked = subject.to_record() if subject else {}
    return {
        "id": verification.id,
        "tenant_id": verification.tenant_id,
        "mode": verification.mode,
        "type": verification.type.value,
        "reference": verification.reference,
        "status": verification.status.value,
        "requirements": list(verification.requirements),
        "checks": [c.to_record() for c in verification.checks],
        "last_error": verification.last_error.to_record() if verification.last_error else None,
        "masked": masked,
        "options": verification.options.to_record(),
        "attempt": verification.attempt,
        "parent_id": verification.parent_id,
        "redacted": verification.redacted,
        "created_at": verification.created_at,
        "updated_at": verification.updated_at,
        "decided_at": verification.decided_at,
        "submitted_at": verification.submitted_at,
        "retry_count": verification.retry_count,
        "unfinished_runs": verification.unfinished_runs,
        "next_attempt_at": verification.next_attempt_at,
        "consent": verification.consent.to_record(),
        "deposit": verification.deposit.to_record() if verification.deposit else None,
    }


_NEXT_RUN = {"unfinished_runs": COLUMNS.unfinished_runs + 1}
_HOLD_LEASE = (
    update(TABLE)
    .where(COLUMNS.id == bindparam("if_id"), COLUMNS.status == Status.PROCESSING.value)
    .values(next_attempt_at=bindparam("until", type_=COLUMNS.next_attempt_at.type), **_NEXT_RUN)
)
_CLAIM = (
    update(TABLE)
    .where(COLUMNS.id == bindparam("if_id"), COLUMNS.next_attempt_at == bindparam("if_lease"))
    .values(next_attempt_at=bindparam("until", type_=COLUMNS.next_attempt_at.type))
)
"""Built once: a claim moves the lease."""
_CLAIM_RUN = (
    _CLAIM.values(**_NEXT_RUN)
    .where(
        COLUMNS.status == Status.PROCESSING.value,
        COLUMNS.unfinished_runs < bindparam("below", type_=COLUMNS.unfinished_runs.type),
    )
    .returning(*TABLE.columns)
)
"""A run's claim that reads the verification as it moves it: one statement."""
_HOLD_RUN = _HOLD_LEASE.where(
    COLUMNS.unfinished_runs < bindparam("below", type_=COLUMNS.unfinished_runs.type)
).returning(*TABLE.columns)
"""A run without a lease token: its lease taken and the verification read, one statement."""


def _save_statement(strict: bool, leased: bool) -> Update:
    """The UPDATE of every column but ``seq``, where the id and the loaded status match
    (``strict``: and the loaded ``updated_at``; ``leased``: and the lease): a Core statement
    with bound values."""
    statement = update(TABLE).where(
        COLUMNS.id == bindparam("if_id"), COLUMNS.status == bindparam("if_status")
    )
    if strict:
        statement = statement.where(COLUMNS.updated_at == bindparam("if_updated_at"))
    if leased:
        statement = statement.where(COLUMNS.next_attempt_at == bindparam("if_lease"))
    return statement.values(
        {c.name: bindparam(c.name, type_=c.type) for c in TABLE.columns if c.name != "seq"}
    )


_SAVES = {
    (strict, leased): _save_statement(strict, leased)
    for strict in (False, True)
    for leased in (False, True)
}
"""Built once, one per kind (strict, leased): a save builds no SQL."""


class SqlVerificationRepository:
    """Verifications, always within one tenant and mode (by id alone for workers)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, query: Select) -> Verification | None:
        row = self.session.execute(query).first()
        return to_entity(row) if row is not None else None

    def _many(self, query: Select) -> list[Verification]:
        return [to_entity(row) for row in self.session.execute(query).all()]

    def add(self, verification: Verification) -> None:
        """Insert a new verification; its ``seq`` is set."""
        result = self.session.execute(_INSERT, to_values(verification))
        verification.seq = result.scalar_one()
        verification.loaded_status = verification.status

    def get(self, tenant_id: str, mode: str, verification_id: str) -> Verification | None:
        """Return the verification if it belongs to this tenant and mode."""
        return self._one(
            select(TABLE).where(
                COLUMNS.id == verification_id,
                COLUMNS.tenant_id == tenant_id,
                COLUMNS.mode == mode,
            )
        )

    def by_id(self, verification_id: str, *, for_update: bool = False) -> Verification | None:
        """Return a verification by id alone (for workers; never for a tenant's request)."""
        query = select(TABLE).where(COLUMNS.id == verification_id)
        return self._one(query.with_for_update() if for_update else query)

    def save(
        self, verification: Verification, *, strict: bool = False, lease: datetime | None = None
    ) -> None:
        """Write the entity back, only if its status is still the one it was loaded with
        (``strict``: only if the row was not written at all since it was loaded; ``lease``:
        only if its next attempt is still that, unclaimed by another run — SQLite takes no
        row lock on read, so the check is in the write)."""
        loaded = getattr(verification, "loaded_status", None) or verification.status
        strict = strict and verification.loaded_updated_at is not None
        conditions = {
            "if_id": verification.id,
            "if_status": loaded.value,
            "if_updated_at": verification.loaded_updated_at if strict else None,
            "if_lease": lease,
        }
        statement = _SAVES[(strict, lease is not None)]
        result = self.session.execute(statement, to_values(verification) | conditions)
        if (result.rowcount or 0) != 1:
            raise Conflict("the verification changed meanwhile; read it again")
        verification.loaded_status = verification.status
        verification.loaded_updated_at = verification.updated_at

    def page(
        self,
        tenant_id: str,
        mode: str,
        *,
        limit: int,
        after_seq: int | None = None,
        filters: Mapping[str, str] | None = None,
        oldest_first: bool = False,
    ) -> Sequence[Verification]:
        """Return up to ``limit`` verifications after ``after_seq``: newest first (older
        than it), or ``oldest_first`` (newer than it)."""
        query = select(TABLE).where(COLUMNS.tenant_id == tenant_id, COLUMNS.mode == mode)
        for name, value in (filters or {}).items():
            query = query.where(COLUMNS[name] == value)
        if after_seq is not None:
            query = query.where(
                COLUMNS.seq > after_seq if oldest_first else COLUMNS.seq < after_seq
            )
        order = COLUMNS.seq.asc() if oldest_first else COLUMNS.seq.desc()
        return self._many(query.order_by(order).limit(limit))

    def of_subject(self, ref: SubjectRef, *, for_update: bool = False) -> Sequence[Verification]:
        """Return every verification of one subject, oldest first."""
        query = (
            select(TABLE)
            .where(
                COLUMNS.tenant_id == ref.tenant_id,
                COLUMNS.mode == ref.mode,
                COLUMNS.reference == ref.reference,
            )
            .order_by(COLUMNS.seq)
        )
        return self._many(query.with_for_update() if for_update else query)

    def due_for_retry(self, now: datetime, limit: int) -> Sequence[tuple[str, datetime]]:
        """Return (id, next attempt) of processing verifications whose next attempt is due."""
        rows = self.session.execute(
            select(COLUMNS.id, COLUMNS.next_attempt_at)
            .where(COLUMNS.status == Status.PROCESSING.value, COLUMNS.next_attempt_at <= now)
            .order_by(COLUMNS.next_attempt_at)
            .limit(limit)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def expired_deposits(self, now: datetime, limit: int) -> Sequence[str]:
        """Ids of verifications awaiting a micro-deposit past its time."""
        rows = self.session.execute(
            select(COLUMNS.id)
            .where(
                COLUMNS.status == Status.AWAITING_CONFIRMATION.value,
                COLUMNS.next_attempt_at <= now,
            )
            .order_by(COLUMNS.next_attempt_at)
            .limit(limit)
        ).all()
        return [row[0] for row in rows]

    def claim_run(
        self, verification_id: str, seen: datetime, lease_until: datetime, *, below: int
    ) -> Verification | None:
        """Claim a run of the checks in one statement: move the lease from ``seen`` to
        ``lease_until`` and count one more unfinished run, only if the verification is
        processing, its lease is still ``seen`` and fewer than ``below`` runs stopped
        unfinished; the verification as claimed, or None when any of that is not so (nothing
        is written: the caller reads it and finds out why)."""
        params = {"if_id": verification_id, "if_lease": seen, "until": lease_until, "below": below}
        row = self.session.execute(_CLAIM_RUN, params).first()
        return to_entity(row) if row is not None else None

    def hold_run(
        self, verification_id: str, lease_until: datetime, *, below: int
    ) -> Verification | None:
        """``claim_run`` for a run without a lease token: whatever the lease, only if the
        verification is processing and fewer than ``below`` runs stopped unfinished."""
        params = {"if_id": verification_id, "until": lease_until, "below": below}
        row = self.session.execute(_HOLD_RUN, params).first()
        return to_entity(row) if row is not None else None

    def claim_attempt(self, verification_id: str, seen: datetime, lease_until: datetime) -> bool:
        """Move a due attempt to ``lease_until`` unless another worker already did."""
        result = self.session.execute(
            _CLAIM, {"if_id": verification_id, "if_lease": seen, "until": lease_until}
        )
        return (result.rowcount or 0) == 1
