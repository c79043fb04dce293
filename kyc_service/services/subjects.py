"""The data subject's rights: erasure (crypto-shredding) of everything held about a subject."""

from __future__ import annotations

from datetime import datetime

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import ResourceMissing
from kyc_service.domain.verification import Status
from kyc_service.persistence.tables import VerificationRow
from kyc_service.persistence.unit_of_work import UnitOfWork
from kyc_service.services.events import change_status
from kyc_service.vault import SubjectRef, Vault

DATA_EXPIRED = {
    "code": "data_expired",
    "message": "the personal data of this verification is past its retention: it can never "
    "be decided",
}
SUBJECT_ERASED = {
    "code": "subject_erased",
    "message": "the subject's personal data was erased: this verification can never be decided",
}


def erase_subject(
    uow: UnitOfWork, vault: Vault, principal: Principal, reference: str, reason: str | None = None
) -> datetime:
    """Destroy the subject's data key and data; keep its verifications as redacted shells."""
    ref = SubjectRef(principal.tenant_id, principal.mode.value, reference)
    with uow:
        erased_at = vault.erase(uow.session, ref, actor=principal.key_id, reason=reason)
        redacted = uow.verifications.redact_subject(
            ref.tenant_id, ref.mode, reference, vault.clock()
        )
        cancel_erased(uow, ref, vault.clock())
        if erased_at is None and not redacted:
            raise ResourceMissing("no such subject", field="reference")
        uow.commit()
    return erased_at or vault.clock()


def cancel_erased(uow: UnitOfWork, ref: SubjectRef, now: datetime) -> int:
    """Cancel every verification of an erased subject that is not final yet.

    Each becomes ``canceled`` with ``last_error.code = "subject_erased"`` (and its event):
    it can never be decided on data that is gone. Runs inside the caller's transaction,
    after the verifications were redacted, so the events carry no personal data.
    """
    rows = uow.verifications.in_flight_of_subject(ref.tenant_id, ref.mode, ref.reference)
    for row in rows:
        cancel_as_erased(uow.session, row, now)
    return len(rows)


def cancel_as_erased(
    session: object, row: VerificationRow, now: datetime, error: dict | None = None
) -> None:
    """Cancel one verification whose subject's data is gone; its display copy goes too.

    The masked copy is dropped before the event is recorded, so neither the event nor a
    webhook carries it, whichever of erasure and a check run gets here first.
    """
    row.masked = {}
    row.redacted = True
    row.last_error = dict(error or SUBJECT_ERASED)
    row.next_attempt_at = None
    row.decided_at = now
    change_status(session, row, Status.CANCELED, now)
