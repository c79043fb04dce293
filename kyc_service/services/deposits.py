"""The micro-deposit (对公打款): confirming its amount, and expiring what waits too long."""

from __future__ import annotations

import hmac
from decimal import Decimal, InvalidOperation

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import Conflict, Gone, InvalidRequest, ResourceMissing
from kyc_service.domain.sealing import SubjectRef
from kyc_service.domain.verification import Status, Verification
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.events import save

CENT = Decimal("0.01")


def normalised_amount(raw: object) -> str:
    """Return an amount of 0.01 to 0.99 as ``"0.37"``; refuse anything else (422)."""
    refused = InvalidRequest("amount must be between 0.01 and 0.99, in yuan", field="amount")
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise refused from None
    if not amount.is_finite() or not CENT <= amount < 1:
        raise refused
    cents = amount.quantize(CENT)
    if cents != amount:
        raise refused
    return str(cents)


def deposit_digest(vault: SealedStore, verification: Verification, amount: str) -> str:
    """The keyed hash of a deposit's amount, bound to its verification."""
    purpose = f"deposit:{verification.id}"
    return vault.keyed_digest(verification.tenant_id, purpose, normalised_amount(amount))


def confirm_deposit(
    uow: UnitOfWork, vault: SealedStore, principal: Principal, verification_id: str, amount: str
) -> Verification:
    """Check the amount the organization saw on its statement.

    Right: the verification is verified. Wrong: 422 ``deposit_amount_mismatch`` with
    ``attempts_remaining`` (the last wrong one rejects it, ``deposit_attempts_exhausted``).
    Past its time: 410 ``deposit_expired`` and the verification is rejected.
    """
    given = normalised_amount(amount)
    with uow:
        found = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
        if found is None:
            raise ResourceMissing("no such verification", field="id")
        verification = uow.verifications.by_id(found.id, for_update=True) or found
        if verification.last_error and verification.last_error.code == "deposit_expired":
            raise Gone("the micro-deposit is past its time", code="deposit_expired")
        if verification.status != Status.AWAITING_CONFIRMATION or verification.deposit is None:
            raise Conflict(f"no deposit is awaited by a verification in {verification.status}")
        now = vault.clock()
        if verification.deposit_expired(now):
            _decided(uow, vault, verification, now, verification.expire_deposit)
            uow.commit()
            raise Gone("the micro-deposit is past its time", code="deposit_expired")
        expected = verification.deposit.digest
        matches = hmac.compare_digest(deposit_digest(vault, verification, given), expected)
        left = verification.confirm_deposit(matches, now)
        save(uow, verification, strict=True)  # two guesses at once cannot share an attempt
        if verification.is_final:
            vault.record_decision(uow, _ref(verification), verification.id, now)
        uow.commit()
    if not matches:
        raise InvalidRequest(
            "the amount is not the one paid into the account",
            code="deposit_amount_mismatch",
            field="amount",
            extra={"attempts_remaining": left},
        )
    return verification


def expire_deposits(uow_factory, vault: SealedStore, limit: int = 100) -> int:  # noqa: ANN001
    """Reject every verification whose micro-deposit waited past its time; return how many."""
    now = vault.clock()
    with uow_factory() as uow:
        due = uow.verifications.expired_deposits(now, limit)
    done = 0
    for verification_id in due:
        with uow_factory() as uow:
            verification = uow.verifications.by_id(verification_id, for_update=True)
            if verification is None or not verification.deposit_expired(now):
                continue
            try:
                _decided(uow, vault, verification, now, verification.expire_deposit)
            except Conflict:  # confirmed or canceled meanwhile: its new state stands
                continue
            uow.commit()
            done += 1
    return done


def _decided(uow: UnitOfWork, vault: SealedStore, verification: Verification, now, move) -> None:  # noqa: ANN001
    """Apply ``move`` (a decision), save it and start the retention clocks."""
    move(now)
    save(uow, verification)
    vault.record_decision(uow, _ref(verification), verification.id, now)


def _ref(verification: Verification) -> SubjectRef:
    """The data subject a verification belongs to."""
    return SubjectRef(verification.tenant_id, verification.mode, verification.reference)
