"""Housekeeping: the retention sweep and the key-encryption-key rotation."""

from __future__ import annotations

from dataclasses import dataclass

from kyc_service.persistence.unit_of_work import UnitOfWork
from kyc_service.services.subjects import cancel_erased
from kyc_service.vault import SweepReport, Vault


def sweep_retention(uow: UnitOfWork, vault: Vault) -> SweepReport:
    """Delete documents and erase subjects past retention; redact their verifications.

    Safe to run repeatedly and from several processes at once.
    """
    total = SweepReport()
    while True:
        with uow:
            report = vault.sweep(uow.session)
            for ref in report.subjects_erased:
                uow.verifications.redact_subject(
                    ref.tenant_id, ref.mode, ref.reference, vault.clock()
                )
                cancel_erased(uow, ref, vault.clock())
            uow.commit()
        total.documents_deleted += report.documents_deleted
        total.subjects_erased.extend(report.subjects_erased)
        if not report.subjects_erased:
            return total


@dataclass(frozen=True)
class RotationReport:
    """What a KEK rotation did."""

    new_kek_id: str
    rewrapped: int
    retired: tuple[str, ...]


def rotate_kek(vault: Vault, retire_old: bool = False) -> RotationReport:
    """Add a new primary KEK, re-wrap every data key under it, and optionally retire the rest.

    No field is decrypted: only the data keys are unwrapped and wrapped again.
    """
    wrapper = vault.keystore.wrapper
    new_id = wrapper.rotate()
    rewrapped = vault.keystore.rewrap_all()
    retired: list[str] = []
    if retire_old:
        in_use = vault.keystore.kek_ids_in_use()
        for kek_id in wrapper.key_ids():
            if kek_id != new_id and kek_id not in in_use:
                wrapper.retire(kek_id)
                retired.append(kek_id)
    return RotationReport(new_id, rewrapped, tuple(retired))
