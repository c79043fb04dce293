"""Sealed documents: a subject's document images, one of each kind per verification.

An image is sealed under its subject's data key and bound to its tenant, subject, id and
kind; its kind, id and quality measures can be listed without opening it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from kyc_service.domain.ids import new_id
from kyc_service.domain.sealing import DataUnavailable, SubjectRef
from kyc_service.persistence.tables import SubjectRow, VaultDocumentRow
from kyc_service.vault.envelope import open_sealed, seal
from kyc_service.vault.subjects import SubjectKeys
from kyc_service.vault.transaction import on_session

_HELD_DOCUMENTS = (
    select(VaultDocumentRow.kind, VaultDocumentRow.id, VaultDocumentRow.quality)
    .join(SubjectRow, SubjectRow.id == VaultDocumentRow.subject_id)
    .where(
        SubjectRow.tenant_id == bindparam("tenant_id"),
        SubjectRow.mode == bindparam("mode"),
        SubjectRow.reference == bindparam("reference"),
        VaultDocumentRow.verification_id == bindparam("verification_id"),
    )
)
"""Built once: a verification's documents (kind, id, measures) by its subject's reference."""


class SealedDocuments(SubjectKeys):
    """Seal, list and open a subject's document images."""

    @on_session
    def put_document(
        self,
        session: Session,
        ref: SubjectRef,
        verification_id: str,
        kind: str,
        image: bytes,
        media_type: str,
        purposes: Sequence[str],
        quality: Mapping[str, object] | None = None,
    ) -> str:
        """Seal a (re-encoded) document image; a second one of the same kind replaces the first."""
        subject, data_key = self._subject_for_writing(session, ref)
        session.execute(
            delete(VaultDocumentRow).where(
                VaultDocumentRow.subject_id == subject.id,
                VaultDocumentRow.verification_id == verification_id,
                VaultDocumentRow.kind == kind,
            )
        )
        document_id = new_id("doc")
        session.add(
            VaultDocumentRow(
                id=document_id,
                subject_id=subject.id,
                verification_id=verification_id,
                kind=kind,
                media_type=media_type,
                ciphertext=seal(
                    data_key, image, self._document_context(subject, document_id, kind)
                ),
                purposes=list(purposes),
                quality=dict(quality or {}),
                created_at=self.clock(),
            )
        )
        session.flush()
        return document_id

    @on_session
    def document_kinds(
        self, session: Session, ref: SubjectRef, verification_id: str
    ) -> dict[str, str]:
        """Return ``kind → document id`` of the documents held for a verification."""
        return {
            kind: document_id
            for kind, (document_id, _) in self.documents(session, ref, verification_id).items()
        }

    @on_session
    def documents(
        self, session: Session, ref: SubjectRef, verification_id: str
    ) -> dict[str, tuple[str, dict]]:
        """Return ``kind → (document id, quality measures)`` for a verification (no decryption;
        one statement: the subject's row is joined, not read first)."""
        params = self._subject_params(ref, verification_id)
        rows = session.execute(_HELD_DOCUMENTS, params).all()
        return {kind: (document_id, dict(quality or {})) for kind, document_id, quality in rows}

    @on_session
    def get_document(
        self,
        session: Session,
        ref: SubjectRef,
        document_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> tuple[bytes, str]:
        """Open a document image (bytes, media type); the opening is an audit event."""
        subject, data_key = self._readable_subject(session, ref)
        row = session.get(VaultDocumentRow, document_id)
        if row is None or row.subject_id != subject.id:
            raise DataUnavailable("not_held")
        if row.delete_after is not None and row.delete_after <= self.clock():
            raise DataUnavailable("past_retention")
        image = open_sealed(
            data_key, row.ciphertext, self._document_context(subject, row.id, row.kind)
        )
        self.audit.append(
            session,
            actor=actor,
            action=action,
            tenant_id=ref.tenant_id,
            mode=ref.mode,
            reference=ref.reference,
            verification_id=row.verification_id,
            reason=reason,
            details={"document": row.id, "kind": row.kind},
        )
        return image, row.media_type
