"""The subject's copy of their data: every field and document the vault holds about them,
opened, with what each is held for and when it will be deleted. The copy is an audit event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyc_service.domain.sealing import (
    DataUnavailable,
    HeldDocument,
    HeldField,
    SubjectCopy,
    SubjectRef,
)
from kyc_service.persistence.tables import SubjectRow, VaultDocumentRow, VaultFieldRow
from kyc_service.vault.envelope import open_sealed
from kyc_service.vault.subjects import SubjectKeys
from kyc_service.vault.transaction import on_session


class SubjectExport(SubjectKeys):
    """Opens everything held about one subject, for the subject."""

    @on_session
    def export(
        self, session: Session, ref: SubjectRef, *, actor: str, include_documents: bool = False
    ) -> SubjectCopy | None:
        """Everything held about the subject (None for a reference never used). After
        erasure or past retention: no personal data, only when it ended."""
        subject = self._find_subject(session, ref)
        if subject is None:
            return None
        data_key = None
        if subject.erased_at is None and subject.retain_until > self.clock():
            data_key = self.keystore.get(subject.key_id)
            if data_key is None:  # an erasure is under way: its key is gone already
                raise DataUnavailable("erased")
        copy = SubjectCopy(
            created_at=subject.created_at,
            retain_until=subject.retain_until,
            erased_at=subject.erased_at,
            withdrawn_purposes=tuple(subject.withdrawn_purposes or ()),
            fields=self._held_fields(session, subject, data_key) if data_key else (),
            documents=(
                self._held_documents(session, subject, data_key, include_documents)
                if data_key
                else ()
            ),
        )
        self.audit.append(
            session,
            actor=actor,
            action="subject.exported",
            tenant_id=ref.tenant_id,
            mode=ref.mode,
            reference=ref.reference,
            details={
                "fields": len(copy.fields),
                "documents": len(copy.documents),
                "images": include_documents,
            },
        )
        return copy

    def _held_fields(
        self, session: Session, subject: SubjectRow, data_key: bytes
    ) -> tuple[HeldField, ...]:
        """Every sealed field, opened; kept until the subject's retention ends."""
        rows = session.scalars(
            select(VaultFieldRow)
            .where(VaultFieldRow.subject_id == subject.id)
            .order_by(VaultFieldRow.id)
        )
        return tuple(
            HeldField(
                verification_id=row.verification_id,
                name=row.name,
                value=open_sealed(
                    data_key,
                    row.ciphertext,
                    self._field_context(subject, row.verification_id, row.name),
                ).decode(),
                purposes=tuple(row.purposes or ()),
                delete_after=subject.retain_until,
            )
            for row in rows
        )

    def _held_documents(
        self, session: Session, subject: SubjectRow, data_key: bytes, include: bool
    ) -> tuple[HeldDocument, ...]:
        """Every document still held: its kind, size, purposes and deletion time."""
        now = self.clock()
        rows = session.scalars(
            select(VaultDocumentRow)
            .where(VaultDocumentRow.subject_id == subject.id)
            .order_by(VaultDocumentRow.created_at)
        )
        held = []
        for row in rows:
            if row.delete_after is not None and row.delete_after <= now:
                continue
            image = open_sealed(
                data_key, row.ciphertext, self._document_context(subject, row.id, row.kind)
            )
            held.append(
                HeldDocument(
                    id=row.id,
                    verification_id=row.verification_id,
                    kind=row.kind,
                    media_type=row.media_type,
                    size=len(image),
                    purposes=tuple(row.purposes or ()),
                    created_at=row.created_at,
                    delete_after=row.delete_after or subject.retain_until,
                    image=image if include else None,
                )
            )
        return tuple(held)
