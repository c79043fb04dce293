"""Retention and erasure: how long a subject's data is kept, and how it is let go.

A decision starts the retention clocks; erasure crypto-shreds a subject (its data key is
destroyed, its fields and documents deleted); a withdrawn purpose deletes what was held
only for it; the sweep deletes and erases whatever is past its retention.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from kyc_service.domain.sealing import SubjectRef, SweepReport
from kyc_service.persistence.tables import SubjectRow, VaultDocumentRow, VaultFieldRow
from kyc_service.vault.subjects import SubjectKeys
from kyc_service.vault.transaction import on_session

SYSTEM_ACTOR = "system"
SUBJECTS, DOCUMENTS = SubjectRow.__table__, VaultDocumentRow.__table__
_RETAIN_SUBJECT = (
    update(SUBJECTS)
    .where(
        SUBJECTS.c.tenant_id == bindparam("b_tenant_id"),
        SUBJECTS.c.mode == bindparam("b_mode"),
        SUBJECTS.c.reference == bindparam("b_reference"),
    )
    .values(retain_until=bindparam("b_retain_until", type_=SUBJECTS.c.retain_until.type))
    .returning(SUBJECTS.c.id)
)
_RETAIN_DOCUMENTS = (
    update(DOCUMENTS)
    .where(
        DOCUMENTS.c.subject_id == bindparam("b_subject_id"),
        DOCUMENTS.c.verification_id == bindparam("b_verification_id"),
    )
    .values(delete_after=bindparam("b_delete_after", type_=DOCUMENTS.c.delete_after.type))
)
_RETAINED_SUBJECT = _RETAIN_SUBJECT.cte("retained_subject")
_RETAIN_BOTH = (
    update(DOCUMENTS)
    .where(
        DOCUMENTS.c.subject_id == select(_RETAINED_SUBJECT.c.id).scalar_subquery(),
        DOCUMENTS.c.verification_id == bindparam("b_verification_id"),
    )
    .values(delete_after=bindparam("b_delete_after", type_=DOCUMENTS.c.delete_after.type))
)
"""PostgreSQL: both clocks in one statement (the subject's in a data-modifying ``WITH``, its
documents' in the statement that reads the subject's id from it): one round trip."""


class SubjectLifecycle(SubjectKeys):
    """Start retention, erase, withdraw and sweep a subject's data."""

    @on_session
    def record_decision(
        self, session: Session, ref: SubjectRef, verification_id: str, decided_at: datetime
    ) -> None:
        """Start the retention clocks: documents and all personal data count from ``decided_at``
        (statements built once: on PostgreSQL one, elsewhere the subject's clock, then its
        documents')."""
        subject = {
            "b_tenant_id": ref.tenant_id,
            "b_mode": ref.mode,
            "b_reference": ref.reference,
            "b_retain_until": decided_at + timedelta(days=self.retention.data_days),
        }
        documents = {
            "b_verification_id": verification_id,
            "b_delete_after": decided_at + timedelta(days=self.retention.document_days),
        }
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_RETAIN_BOTH, subject | documents)
            return
        subject_id = session.execute(_RETAIN_SUBJECT, subject).scalar()
        if subject_id is not None:
            session.execute(_RETAIN_DOCUMENTS, documents | {"b_subject_id": subject_id})

    @on_session
    def erase(
        self, session: Session, ref: SubjectRef, *, actor: str, reason: str | None = None
    ) -> datetime | None:
        """Crypto-shred a subject: destroy its data key, delete its fields and documents.

        Returns the time of erasure (the earlier one if already erased), or None if the
        subject was never held.
        """
        subject = self._find_subject(session, ref)
        if subject is None:
            return None
        self.keystore.destroy(subject.key_id)
        self._delete_rows(session, subject.id)
        if subject.erased_at is None:
            subject.erased_at = self.clock()
            self.audit.append(
                session,
                actor=actor,
                action="subject.erased",
                tenant_id=ref.tenant_id,
                mode=ref.mode,
                reference=ref.reference,
                reason=reason,
            )
        session.flush()
        return subject.erased_at

    @staticmethod
    def _delete_rows(session: Session, subject_id: str) -> None:
        """Delete every sealed field and document of a subject."""
        session.execute(delete(VaultFieldRow).where(VaultFieldRow.subject_id == subject_id))
        session.execute(delete(VaultDocumentRow).where(VaultDocumentRow.subject_id == subject_id))

    @on_session
    def unreadable(self, session: Session, ref: SubjectRef) -> str | None:
        """Why the subject's data can no longer be opened, or None while it can (the checks
        of an opening, without the key store and without opening anything)."""
        subject = self._find_subject(session, ref)
        if subject is None:
            return "not_held"
        if subject.erased_at is not None:
            return "erased"
        if subject.retain_until <= self.clock():
            return "past_retention"
        return None

    @on_session
    def erased_at(self, session: Session, ref: SubjectRef) -> datetime | None:
        """Return when the subject was erased, or None."""
        subject = self._find_subject(session, ref)
        return subject.erased_at if subject else None

    @on_session
    def withdraw(
        self, session: Session, ref: SubjectRef, purposes: Iterable[str], *, actor: str
    ) -> int:
        """Delete what was held only for the withdrawn purposes; record the withdrawal."""
        subject = self._find_subject(session, ref)
        if subject is None:
            return 0
        withdrawn = set(subject.withdrawn_purposes or []) | set(purposes)
        subject.withdrawn_purposes = sorted(withdrawn)
        deleted = 0
        for model in (VaultFieldRow, VaultDocumentRow):
            for row in session.scalars(select(model).where(model.subject_id == subject.id)).all():
                if row.purposes and set(row.purposes) <= withdrawn:
                    session.delete(row)
                    deleted += 1
        self.audit.append(
            session,
            actor=actor,
            action="consent.withdrawn",
            tenant_id=ref.tenant_id,
            mode=ref.mode,
            reference=ref.reference,
            details={"purposes": sorted(set(purposes))},
        )
        session.flush()
        return deleted

    @on_session
    def withdrawn(self, session: Session, ref: SubjectRef) -> tuple[str, ...]:
        """The purposes the subject has withdrawn (and not granted again since)."""
        subject = self._find_subject(session, ref)
        return tuple(subject.withdrawn_purposes or ()) if subject else ()

    @on_session
    def consent_given(
        self, session: Session, ref: SubjectRef, purposes: Iterable[str], *, actor: str
    ) -> None:
        """A fresh consent (a new verification) grants withdrawn purposes again."""
        subject = self._find_subject(session, ref)
        if subject is None or not subject.withdrawn_purposes:
            return
        still = sorted(set(subject.withdrawn_purposes) - set(purposes))
        if still != sorted(subject.withdrawn_purposes):
            granted = sorted(set(subject.withdrawn_purposes) - set(still))
            subject.withdrawn_purposes = still
            self.audit.append(
                session,
                actor=actor,
                action="consent.granted",
                tenant_id=ref.tenant_id,
                mode=ref.mode,
                reference=ref.reference,
                details={"purposes": granted},
            )
            session.flush()

    @on_session
    def sweep(self, session: Session, batch: int = 500) -> SweepReport:
        """Delete document images and erase subjects past their retention (safe to repeat)."""
        now = self.clock()
        report = SweepReport()
        result = session.execute(
            delete(VaultDocumentRow).where(VaultDocumentRow.delete_after <= now)
        )
        report.documents_deleted = result.rowcount or 0
        expired = session.scalars(
            select(SubjectRow)
            .where(SubjectRow.retain_until <= now, SubjectRow.erased_at.is_(None))
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for subject in expired:
            ref = SubjectRef(subject.tenant_id, subject.mode, subject.reference)
            self.erase(session, ref, actor=SYSTEM_ACTOR, reason="retention period ended")
            report.subjects_erased.append(ref)
        return report
