"""``GET /v1/ops/audit-events``: who did what to which subject, when — the tenant's part of
the audit chain, masked when written (``vault.audit``), never plain personal data."""

from __future__ import annotations

from kyc_service.domain.access import Principal
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.pagination import Page, page_after


def list_audit_events(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    *,
    limit: int,
    starting_after: str | None = None,
    verification: str | None = None,
    reference: str | None = None,
) -> Page:
    """The caller's tenant and mode's audit events, newest first, by verification or
    subject reference. The reading is itself an audit event (the reference is not repeated
    in it)."""
    tenant, mode = principal.tenant_id, principal.mode.value
    with uow:
        page = page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: uow.audit_events.seq_of(tenant, mode, id_),
            fetch=lambda after, count: uow.audit_events.page(
                tenant,
                mode,
                limit=count,
                after_seq=after,
                verification_id=verification,
                reference=reference,
            ),
            noun="audit event",
        )
        vault.record_access(
            uow,
            tenant,
            mode,
            actor=principal.key_id,
            action="ops.audit_events.read",
            details={"verification": verification, "shown": len(page.data)},
            reference=reference,
        )
        uow.commit()
    return page
