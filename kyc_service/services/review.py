"""Ops review: a person decides a verification in ``in_review``.

An approval resumes the verification where it stopped: an organization whose bank account
is not yet proven goes on to the micro-deposit (``awaiting_confirmation``); anything else
becomes ``verified``. A rejection is final. Every decision is written to the audit log
with the key that made it.
"""

from __future__ import annotations

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Principal
from kyc_service.domain.checks import ErrorInfo
from kyc_service.domain.errors import Conflict, ResourceMissing
from kyc_service.domain.sealing import DataUnavailable, SubjectRef
from kyc_service.domain.usage import UpstreamCall
from kyc_service.domain.verification import BANK_ACCOUNT_CHECK, Status, SubjectType, Verification
from kyc_service.services.dependencies import CheckDependencies
from kyc_service.services.events import save
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
