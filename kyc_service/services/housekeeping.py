"""Housekeeping: the retention sweep (the KEK rotation is in :mod:`.key_rotation`)."""

from __future__ import annotations

from kyc_service.domain.sealing import SweepReport
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.key_rotation import RotationReport, rotate_kek
from kyc_service.services.subjects import redact_erased


def sweep_retention(uow: UnitOfWork, vault: SealedStore) -> SweepReport:
    """Delete documents and erase subjects past retention; redact their verifications.

    Safe to run repeatedly and from several processes at once.
    """
    total = SweepReport()
    while True:
        with uow:
            report = vault.sweep(uow)
            for ref in report.subjects_erased:
                redact_erased(uow, ref, vault.clock())
            uow.commit()
        total.documents_deleted += report.documents_deleted
        total.subjects_erased.extend(report.subjects_erased)
        if not report.subjects_erased:
            return total


__all__ = ["RotationReport", "rotate_kek", "sweep_retention"]
