"""Subjects and their data keys: the base every part of the vault builds on.

A subject row names a tenant's data subject and the id of its data key in the key store;
``SubjectKeys`` finds, creates and revives subjects, hands out their data keys for writing
or reading, and binds each ciphertext to where it belongs (its associated data).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from kyc_service.domain.ids import new_id
from kyc_service.domain.sealing import DataUnavailable, RetentionPolicy, SubjectRef
from kyc_service.persistence.tables import SubjectRow
from kyc_service.vault.audit import AuditLog
from kyc_service.vault.envelope import associated_data
from kyc_service.vault.keystore import KeyStore

_FIND_SUBJECT = select(SubjectRow).where(
    SubjectRow.tenant_id == bindparam("tenant_id"),
    SubjectRow.mode == bindparam("mode"),
    SubjectRow.reference == bindparam("reference"),
)
_SUBJECTS = SubjectRow.__table__
_INSERT_SUBJECT = {
    dialect: insert_of(_SUBJECTS).on_conflict_do_nothing().returning(_SUBJECTS.c.id)
    for dialect, insert_of in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
"""Built once (SQLAlchemy then reuses their compiled form without rebuilding them)."""


class StoredSubject(Protocol):
    """What the vault reads of a stored subject: a ``SubjectRow``, or a row of a join that
    carries the subject's columns (``vault.fields``' one statement for a subject and its
    fields)."""

    @property
    def id(self) -> str:
        """The subject's id."""

    @property
    def tenant_id(self) -> str:
        """Its tenant."""

    @property
    def key_id(self) -> str:
        """Its data key's id in the key store."""

    @property
    def erased_at(self) -> datetime | None:
        """When it was erased, if it was."""

    @property
    def retain_until(self) -> datetime:
        """When its data is past retention."""


class SubjectKeys:
    """Find or create a subject and its data key; the vault's parts share these helpers."""

    keystore: KeyStore
    clock: Callable[[], datetime]
    retention: RetentionPolicy
    audit: AuditLog

    def _find_subject(self, session: Session, ref: SubjectRef) -> SubjectRow | None:
        """Return the subject row of ``ref``, if any."""
        params = {"tenant_id": ref.tenant_id, "mode": ref.mode, "reference": ref.reference}
        return session.scalars(_FIND_SUBJECT, params).first()

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
        dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
        if session.execute(_INSERT_SUBJECT[dialect], values).first() is not None:
            return self._adopt(session, SubjectRow(**values, erased_at=None))
        subject = self._find_subject(session, ref)
        if subject is None:
            raise RuntimeError("the subject row could not be written")
        return subject

    @staticmethod
    def _adopt(session: Session, row: SubjectRow) -> SubjectRow:
        """Make a row this transaction has just inserted (every column given) part of the
        session, as if it had been read back: later changes to it are written on flush."""
        make_transient_to_detached(row)
        session.add(row)
        return row

    def _readable_subject(self, session: Session, ref: SubjectRef) -> tuple[SubjectRow, bytes]:
        """Return the subject and its data key, or raise ``DataUnavailable``."""
        subject = self._find_subject(session, ref)
        if subject is None:
            raise DataUnavailable("not_held")
        return subject, self._key_to_read(subject)

    def _key_to_read(self, subject: StoredSubject) -> bytes:
        """The data key of a subject as read, or ``DataUnavailable``: erased, or past its
        retention."""
        if subject.erased_at is not None:
            raise DataUnavailable("erased")
        if subject.retain_until <= self.clock():
            raise DataUnavailable("past_retention")
        data_key = self.keystore.get(subject.key_id)
        if data_key is None:
            raise DataUnavailable("erased")
        return data_key

    @staticmethod
    def _subject_params(ref: SubjectRef, verification_id: str) -> dict[str, str]:
        """The bound values of a statement on one verification's data of a subject."""
        return {
            "tenant_id": ref.tenant_id,
            "mode": ref.mode,
            "reference": ref.reference,
            "verification_id": verification_id,
        }

    @staticmethod
    def _field_context(subject: StoredSubject, verification_id: str, name: str) -> bytes:
        """Bind a field's ciphertext to its tenant, subject, verification and name."""
        return associated_data("field", subject.tenant_id, subject.id, verification_id, name)

    @staticmethod
    def _document_context(subject: SubjectRow, document_id: str, kind: str) -> bytes:
        """Bind a document's ciphertext to its tenant, subject, id and kind."""
        return associated_data("document", subject.tenant_id, subject.id, document_id, kind)
