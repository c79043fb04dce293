"""Ops review: the queue of verifications waiting for a person, and their decisions.

An approval resumes the verification where it stopped: an organization whose bank account
is not yet proven goes on to the micro-deposit (``awaiting_confirmation``); anything else
becomes ``verified``. A rejection is final. Every decision is written to the audit log
with the key that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Principal
from kyc_service.domain.checks import CheckResult, CheckStatus, ErrorInfo
from kyc_service.domain.errors import Conflict, ResourceMissing
from kyc_service.domain.sealing import DataUnavailable, SubjectRef
from kyc_service.domain.usage import UpstreamCall
from kyc_service.domain.verification import BANK_ACCOUNT_CHECK, Status, SubjectType, Verification
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.dependencies import CheckDependencies
from kyc_service.services.events import save
from kyc_service.services.pagination import Page, page_after
from kyc_service.services.upstream_calls import metered_port, record_calls_after

REJECTED_BY_REVIEW = ErrorInfo("rejected_in_review", "a reviewer rejected this verification")


def review_verification(
    deps: CheckDependencies,
    principal: Principal,
    verification_id: str,
    decision: str,
    note: str | None = None,
) -> Verification:
    """Approve or reject a verification in review (scope ``ops``)."""
    calls: list[UpstreamCall] = []
    try:
        return _decide(deps, principal, verification_id, decision, note, calls)
    finally:  # a deposit paid is in the ledger, whatever became of the decision
        record_calls_after(deps, principal.tenant_id, principal.mode, verification_id, calls)


def _decide(
    deps: CheckDependencies,
    principal: Principal,
    verification_id: str,
    decision: str,
    note: str | None,
    calls: list[UpstreamCall],
) -> Verification:
    """Decide in one transaction; the micro-deposit's call is noted in ``calls``."""
    with deps.unit_of_work() as uow:
        found = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
        if found is None:
            raise ResourceMissing("no such verification", field="id")
        verification = uow.verifications.by_id(found.id, for_update=True) or found
        if verification.status != Status.IN_REVIEW:
            raise Conflict(f"a verification in {verification.status} is not in review")
        now = deps.clock()
        ref = SubjectRef(verification.tenant_id, verification.mode, verification.reference)
        if decision == "reject":
            verification.review(Status.REJECTED, now, REJECTED_BY_REVIEW)
        elif _needs_deposit(verification):
            amount = _pay(deps, uow, principal, verification, ref, calls)
            from kyc_service.services.pipeline import _deposit

            verification.approve(now, _deposit(deps, verification, amount))
        else:
            verification.approve(now)
        save(uow, verification)
        deps.vault.record_action(
            uow,
            ref,
            verification.id,
            actor=principal.key_id,
            action=f"ops.review.{decision}",
            reason=note,
            details={"status": verification.status.value},
        )
        if verification.is_final:
            deps.vault.record_decision(uow, ref, verification.id, now)
        uow.commit()
    return verification


def _needs_deposit(verification: Verification) -> bool:
    """An organization whose bank account is not proven yet."""
    if verification.type != SubjectType.ORGANIZATION:
        return False
    return not any(
        c.name == BANK_ACCOUNT_CHECK and c.status == "passed" for c in verification.checks
    )


def _pay(
    deps: CheckDependencies,
    uow: object,
    principal: Principal,
    verification: Verification,
    ref: SubjectRef,
    calls: list[UpstreamCall],
) -> str:
    """Open the account's fields (audited, as the reviewer) and pay the micro-deposit."""
    try:
        fields = deps.vault.get_fields(
            uow, ref, verification.id, actor=principal.key_id, action="ops.review"
        )
    except DataUnavailable:
        raise Conflict("the organization's data is gone: it cannot be approved") from None
    account = (fields[sealed.BANK_NAME], fields[sealed.ACCOUNT_NUMBER], fields[sealed.ORG_NAME])
    payment = metered_port(
        deps.adapters,
        principal.mode,
        verification.id,
        "account",
        BANK_ACCOUNT_CHECK,
        lambda port, rid: port.pay_micro_deposit(*account, request_id=rid),
        calls.append,
    )
    return payment.amount


@dataclass(frozen=True)
class QueueEntry:
    """A verification in the review queue: why it is there, and since when."""

    verification: Verification
    reasons: list[CheckResult]
    since: datetime
    waiting_seconds: int

    def __getattr__(self, name: str) -> Any:
        """The verification's own attributes (the queue shows it as it is, plus ``review``)."""
        if name == "verification" or name.startswith("__"):
            raise AttributeError(name)  # not set yet (copy, pickle): no recursion
        return getattr(self.verification, name)


def review_queue(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    now: datetime,
    *,
    limit: int,
    starting_after: str | None = None,
    status: str = Status.IN_REVIEW.value,
) -> Page:
    """The tenant's verifications in ``status`` (the review queue), oldest first, each with
    the checks that sent it there (soft failures, outages) and how long it has waited."""
    tenant, mode = principal.tenant_id, principal.mode.value
    with uow:
        found = page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: getattr(uow.verifications.get(tenant, mode, id_), "seq", None),
            fetch=lambda after, count: uow.verifications.page(
                tenant,
                mode,
                limit=count,
                after_seq=after,
                filters={"status": status},
                oldest_first=True,
            ),
            noun="verification",
        )
        vault.record_access(
            uow,
            tenant,
            mode,
            actor=principal.key_id,
            action="ops.queue.read",
            details={"status": status, "shown": len(found.data)},
        )
        uow.commit()
    return Page([_entry(v, now) for v in found.data], found.has_more)


def _entry(verification: Verification, now: datetime) -> QueueEntry:
    """A queue entry: the failed or errored checks, and the time since the last change."""
    reasons = [
        c for c in verification.checks if c.status in (CheckStatus.FAILED, CheckStatus.ERROR)
    ]
    since = verification.updated_at
    return QueueEntry(verification, reasons, since, max(0, int((now - since).total_seconds())))
