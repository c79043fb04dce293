"""The vault's interface: seal, open, find, erase, withdraw and sweep a subject's data.

Every method works inside the caller's SQLAlchemy session (one transaction with the
caller's own writes); the key store commits on its own. Opening personal data is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kyc_service.domain.ids import new_id
from kyc_service.persistence.tables import SubjectRow, VaultDocumentRow, VaultFieldRow
from kyc_service.vault.audit import AuditLog
from kyc_service.vault.blind_index import blind_index
from kyc_service.vault.envelope import associated_data, open_sealed, seal
from kyc_service.vault.keystore import KeyStore

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class SubjectRef:
    """A data subject: the tenant's own ``reference`` for it, in one mode."""

    tenant_id: str
    mode: str
    reference: str


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data and document images are kept after a decision."""

    data_days: int = 365
    document_days: int = 30


@dataclass
class SweepReport:
    """What one retention sweep deleted."""

    documents_deleted: int = 0
    subjects_erased: list[SubjectRef] = field(default_factory=list)


class DataUnavailable(Exception):
    """The data was erased, is past its retention, or was never held."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Vault:
    """The only place personal data is sealed and opened."""

    def __init__(
        self,
        keystore: KeyStore,
        clock: Callable[[], datetime],
        retention: RetentionPolicy | None = None,
    ) -> None:
        self.keystore = keystore
        self.clock = clock
        self.retention = retention or RetentionPolicy()
        self.audit = AuditLog(clock)

    # -- subjects and keys ------------------------------------------------------------

    def _find_subject(self, session: Session, ref: SubjectRef) -> SubjectRow | None:
        """Return the subject row of ``ref``, if any."""
        return session.scalars(
            select(SubjectRow).where(
                SubjectRow.tenant_id == ref.tenant_id,
                SubjectRow.mode == ref.mode,
                SubjectRow.reference == ref.reference,
            )
        ).first()

    def _subject_for_writing(self, session: Session, ref: SubjectRef) -> tuple[SubjectRow, bytes]:
        """Return the subject and its data key, creating either if needed (race-safe)."""
        subject = self._find_subject(session, ref)
        if subject is not None and subject.erased_at is None:
            data_key = self.keystore.get(subject.key_id) or self.keystore.create(subject.key_id)
        else:
            # The data key is made first: the key store commits before the data transaction
            # writes anything, so no lock on the data is held meanwhile.
            key_id = new_id("sub")
            data_key = self.keystore.create(key_id)
            if subject is not None:
                subject = self._revive(subject, key_id)
            else:
                subject = self._insert_subject(session, ref, key_id)
            if subject.key_id != key_id:  # another request created the subject first
                self.keystore.destroy(key_id)
                data_key = self.keystore.get(subject.key_id) or self.keystore.create(subject.key_id)
        if subject.retain_until <= self.clock():
            subject.retain_until = self.clock() + timedelta(days=self.retention.data_days)
        return subject, data_key

    @staticmethod
    def _revive(subject: SubjectRow, key_id: str) -> SubjectRow:
        """Give an erased subject a new data key, for data it is given anew."""
        subject.erased_at = None
        subject.key_id = key_id
        return subject

    def _insert_subject(self, session: Session, ref: SubjectRef, key_id: str) -> SubjectRow:
        """Insert a new subject unless a concurrent request just did; return the row either way."""
        now = self.clock()
        values = {
            "id": new_id("sub"),
            "tenant_id": ref.tenant_id,
            "mode": ref.mode,
            "reference": ref.reference,
            "key_id": key_id,
            "created_at": now,
            "retain_until": now + timedelta(days=self.retention.data_days),
            "withdrawn_purposes": [],
        }
        dialect_insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        inserted = session.scalars(
            dialect_insert(SubjectRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(SubjectRow)
        ).first()
        subject = inserted or self._find_subject(session, ref)
        if subject is None:
            raise RuntimeError("the subject row could not be written")
        return subject

    def _readable_subject(self, session: Session, ref: SubjectRef) -> tuple[SubjectRow, bytes]:
        """Return the subject and its data key, or raise ``DataUnavailable``."""
        subject = self._find_subject(session, ref)
        if subject is None:
            raise DataUnavailable("not_held")
        if subject.erased_at is not None:
            raise DataUnavailable("erased")
        if subject.retain_until <= self.clock():
            raise DataUnavailable("past_retention")
        data_key = self.keystore.get(subject.key_id)
        if data_key is None:
            raise DataUnavailable("erased")
        return subject, data_key

    @staticmethod
    def _field_context(subject: SubjectRow, verification_id: str, name: str) -> bytes:
        """Bind a field's ciphertext to its tenant, subject, verification and name."""
        return associated_data("field", subject.tenant_id, subject.id, verification_id, name)

    @staticmethod
    def _document_context(subject: SubjectRow, document_id: str, kind: str) -> bytes:
        """Bind a document's ciphertext to its tenant, subject, id and kind."""
        return associated_data("document", subject.tenant_id, subject.id, document_id, kind)

    # -- fields -----------------------------------------------------------------------

    def put_fields(
        self,
        session: Session,
        ref: SubjectRef,
        verification_id: str,
        fields: Mapping[str, str],
        purposes: Sequence[str] | Mapping[str, Sequence[str]],
        indexed: Mapping[str, str] | None = None,
        *,
        replace: bool = True,
    ) -> None:
        """Seal ``fields`` (name → value) for a verification.

        ``purposes`` are what the fields are held for (one list for all, or one per field);
        ``indexed`` maps a name to its blind-index kind (``id_number``, ``uscc``,
        ``bank_card``). A field already held is replaced (``replace=False`` skips that look
        for a verification that has just been created).
        """
        subject, data_key = self._subject_for_writing(session, ref)
        index_key = self.keystore.blind_index_key() if indexed else b""
        if replace:
            session.execute(
                delete(VaultFieldRow).where(
                    VaultFieldRow.subject_id == subject.id,
                    VaultFieldRow.verification_id == verification_id,
                    VaultFieldRow.name.in_(list(fields)),
                )
            )
        now = self.clock()
        rows = [
            {
                "subject_id": subject.id,
                "verification_id": verification_id,
                "name": name,
                "ciphertext": seal(
                    data_key, value.encode(), self._field_context(subject, verification_id, name)
                ),
                "blind_index": blind_index(index_key, ref.tenant_id, kind, value) if kind else None,
                "purposes": list(purposes[name] if isinstance(purposes, Mapping) else purposes),
                "created_at": now,
            }
            for name, value in fields.items()
            for kind in [(indexed or {}).get(name)]
        ]
        session.flush()
        session.execute(insert(VaultFieldRow), rows)

    def get_fields(
        self,
        session: Session,
        ref: SubjectRef,
        verification_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> dict[str, str]:
        """Open every field held for a verification; the opening is an audit event."""
        subject, data_key = self._readable_subject(session, ref)
        rows = session.scalars(
            select(VaultFieldRow).where(
                VaultFieldRow.subject_id == subject.id,
                VaultFieldRow.verification_id == verification_id,
            )
        ).all()
        opened = {
            row.name: open_sealed(
                data_key, row.ciphertext, self._field_context(subject, verification_id, row.name)
            ).decode()
            for row in rows
        }
        self.audit.append(
            session,
            actor=actor,
            action=action,
            tenant_id=ref.tenant_id,
            mode=ref.mode,
            reference=ref.reference,
            verification_id=verification_id,
            reason=reason,
            details={"fields": sorted(opened)},
        )
        return opened

    def find_references(
        self, session: Session, tenant_id: str, mode: str, kind: str, value: str
    ) -> list[str]:
        """Return the references of the tenant's subjects holding ``value`` as a ``kind`` field."""
        index = blind_index(self.keystore.blind_index_key(), tenant_id, kind, value)
        return list(
            session.scalars(
                select(SubjectRow.reference)
                .join(VaultFieldRow, VaultFieldRow.subject_id == SubjectRow.id)
                .where(
                    VaultFieldRow.blind_index == index,
                    SubjectRow.tenant_id == tenant_id,
                    SubjectRow.mode == mode,
                    SubjectRow.erased_at.is_(None),
                )
                .distinct()
            ).all()
        )

    # -- documents --------------------------------------------------------------------

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
                created_at=self.clock(),
            )
        )
        session.flush()
        return document_id

    def document_kinds(
        self, session: Session, ref: SubjectRef, verification_id: str
    ) -> dict[str, str]:
        """Return ``kind → document id`` of the documents held for a verification."""
        return {
            kind: document_id
            for kind, (document_id, _) in self.documents(session, ref, verification_id).items()
        }

    def documents(
        self, session: Session, ref: SubjectRef, verification_id: str
    ) -> dict[str, tuple[str, dict]]:
        """Return ``kind → (document id, quality measures)`` for a verification (no decryption)."""
        subject = self._find_subject(session, ref)
        if subject is None:
            return {}
        rows = session.execute(
            select(VaultDocumentRow.kind, VaultDocumentRow.id, VaultDocumentRow.quality).where(
                VaultDocumentRow.subject_id == subject.id,
                VaultDocumentRow.verification_id == verification_id,
            )
        ).all()
        return {kind: (document_id, dict(quality or {})) for kind, document_id, quality in rows}

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

    # -- retention and erasure ----------------------------------------------------------

    def record_decision(
        self, session: Session, ref: SubjectRef, verification_id: str, decided_at: datetime
    ) -> None:
        """Start the retention clocks: documents and all personal data count from ``decided_at``."""
        subject = self._find_subject(session, ref)
        if subject is None:
            return
        subject.retain_until = decided_at + timedelta(days=self.retention.data_days)
        for document in session.scalars(
            select(VaultDocumentRow).where(
                VaultDocumentRow.subject_id == subject.id,
                VaultDocumentRow.verification_id == verification_id,
            )
        ):
            document.delete_after = decided_at + timedelta(days=self.retention.document_days)
        session.flush()

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

    def erased_at(self, session: Session, ref: SubjectRef) -> datetime | None:
        """Return when the subject was erased, or None."""
        subject = self._find_subject(session, ref)
        return subject.erased_at if subject else None

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
