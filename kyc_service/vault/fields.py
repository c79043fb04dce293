"""Sealed fields: a subject's personal data as named text values, one set per verification.

Each field is sealed under its subject's data key and bound to its tenant, subject,
verification and name; a field of a searchable kind also carries a blind index, so the
tenant's subjects holding a value can be found without opening anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import and_, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from kyc_service.domain.sealing import DataUnavailable, SubjectRef
from kyc_service.persistence.tables import SubjectRow, VaultFieldRow
from kyc_service.vault.blind_index import blind_index
from kyc_service.vault.envelope import open_sealed, seal
from kyc_service.vault.subjects import SubjectKeys
from kyc_service.vault.transaction import on_session

_INSERT_FIELDS = insert(VaultFieldRow.__table__)
"""A plain (Core) insert, built once: every field of a verification in one executemany."""
_SUBJECTS, _FIELDS = SubjectRow.__table__, VaultFieldRow.__table__
_SUBJECT_AND_FIELDS = (
    select(
        _SUBJECTS.c.id,
        _SUBJECTS.c.tenant_id,
        _SUBJECTS.c.key_id,
        _SUBJECTS.c.erased_at,
        _SUBJECTS.c.retain_until,
        _FIELDS.c.name,
        _FIELDS.c.ciphertext,
    )
    .select_from(
        _SUBJECTS.outerjoin(
            _FIELDS,
            and_(
                _FIELDS.c.subject_id == _SUBJECTS.c.id,
                _FIELDS.c.verification_id == bindparam("verification_id"),
            ),
        )
    )
    .where(
        _SUBJECTS.c.tenant_id == bindparam("tenant_id"),
        _SUBJECTS.c.mode == bindparam("mode"),
        _SUBJECTS.c.reference == bindparam("reference"),
    )
)
"""Built once: the subject and a verification's sealed fields in one statement (a subject
without them comes as one row with no field)."""


class SealedFields(SubjectKeys):
    """Seal, open and search a subject's fields."""

    @on_session
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
        session.execute(_INSERT_FIELDS, rows)

    @on_session
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
        """Open every field held for a verification; the opening is an audit event.

        The subject and its fields are read in one statement (one snapshot: an erasure is
        seen whole or not at all), then its data key."""
        params = self._subject_params(ref, verification_id)
        found = session.execute(_SUBJECT_AND_FIELDS, params).all()
        if not found:
            raise DataUnavailable("not_held")
        subject = found[0]
        data_key = self._key_to_read(subject)
        rows = [row for row in found if row.name is not None]
        if not rows:
            raise DataUnavailable("not_held")
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

    @on_session
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
