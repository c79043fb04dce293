"""The data subject's rights: erasure (crypto-shredding) of everything held about a subject."""

from __future__ import annotations

from datetime import datetime

from kyc_service.domain.access import Principal
from kyc_service.domain.checks import DATA_EXPIRED, SUBJECT_ERASED, ErrorInfo
from kyc_service.domain.errors import Conflict, ResourceMissing
from kyc_service.domain.sealing import SubjectRef
from kyc_service.domain.verification import Verification
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.events import save

__all__ = ["DATA_EXPIRED", "SUBJECT_ERASED", "erase_subject", "redact_erased"]


def erase_subject(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    reference: str,
    reason: str | None = None,
) -> datetime:
    """Destroy the subject's data key and data; keep its verifications as redacted shells.

    The verifications are redacted (and canceled if not final) before the vault's rows are
    touched — the lock order of every writer (a check run records its verification, then
    the decision in the vault) — and once more after, for one created meanwhile.
    """
    ref = SubjectRef(principal.tenant_id, principal.mode.value, reference)
    with uow:
        redacted = redact_erased(uow, ref, vault.clock())
        erased_at = vault.erase(uow, ref, actor=principal.key_id, reason=reason)
        if erased_at is None and not redacted:
            raise ResourceMissing("no such subject", field="reference")
        redact_erased(uow, ref, vault.clock())
        uow.commit()
    return erased_at or vault.clock()


def redact_erased(
    uow: UnitOfWork, ref: SubjectRef, now: datetime, error: ErrorInfo = SUBJECT_ERASED
) -> int:
    """Turn every verification of an erased subject into a redacted shell; return how many.

    One that is not final yet becomes ``canceled`` with ``last_error.code =
    "subject_erased"`` (and its event, which carries no personal data): it can never be
    decided on data that is gone. Runs inside the caller's transaction. Erasure always
    wins: a verification that moved meanwhile (a cancel, a check run) is read again and
    erased in its new state.
    """
    verifications = uow.verifications.of_subject(ref, for_update=True)
    for verification in verifications:
        if verification.redacted and not verification.individual and verification.is_final:
            continue
        _erase_one(uow, verification, now, error)
    return len(verifications)


def _erase_one(
    uow: UnitOfWork, verification: Verification, now: datetime, error: ErrorInfo
) -> None:
    """Erase one verification, reading it again if a concurrent writer moved it first."""
    current: Verification | None = verification
    for _ in range(ERASE_ATTEMPTS):
        if current is None:
            return
        current.erase(now, error)
        try:
            save(uow, current)
            return
        except Conflict:
            current = uow.verifications.by_id(verification.id, for_update=True)
    raise Conflict("the subject's verifications keep changing; erase it again")


ERASE_ATTEMPTS = 5
