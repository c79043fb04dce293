"""Reading verifications: one by id, or a page of them, within the caller's tenant and mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import ResourceMissing
from kyc_service.persistence.tables import VerificationRow
from kyc_service.persistence.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Page:
    """One page of a list and whether more follow."""

    data: Sequence[VerificationRow]
    has_more: bool


def get_verification(
    uow: UnitOfWork, principal: Principal, verification_id: str
) -> VerificationRow:
    """Return the caller's verification; a foreign or unknown id is 404 alike."""
    with uow:
        row = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
    if row is None:
        raise ResourceMissing("no such verification", field="id")
    return row


def list_verifications(
    uow: UnitOfWork,
    principal: Principal,
    *,
    limit: int,
    starting_after: str | None = None,
    reference: str | None = None,
    status: str | None = None,
) -> Page:
    """Return the caller's verifications, newest first, after ``starting_after``."""
    filters = {
        name: value for name, value in (("reference", reference), ("status", status)) if value
    }
    with uow:
        after_seq = None
        if starting_after:
            cursor = uow.verifications.get(
                principal.tenant_id, principal.mode.value, starting_after
            )
            if cursor is None:
                raise ResourceMissing(
                    "starting_after names no such verification", field="starting_after"
                )
            after_seq = cursor.seq
        rows = uow.verifications.page(
            principal.tenant_id,
            principal.mode.value,
            limit=limit + 1,
            after_seq=after_seq,
            filters=filters,
        )
    return Page(data=rows[:limit], has_more=len(rows) > limit)
