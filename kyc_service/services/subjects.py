"""The data subject's rights: erasure (crypto-shredding) of everything held about a subject."""

from __future__ import annotations

from datetime import datetime

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import ResourceMissing
from kyc_service.persistence.unit_of_work import UnitOfWork
from kyc_service.vault import SubjectRef, Vault


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
        if erased_at is None and not redacted:
            raise ResourceMissing("no such subject", field="reference")
        uow.commit()
    return erased_at or vault.clock()
