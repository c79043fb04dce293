"""Sandbox account verifier: every micro-deposit is the test-mode amount of API.md."""

from __future__ import annotations

from adapters.sandbox.magic import DEPOSIT_AMOUNT
from kyc_service.domain.results import Payment
from kyc_service.ports import AccountVerifier


class SandboxAccountVerifier(AccountVerifier):
    """Pays nothing: answers ``0.32``, the amount API.md promises in test mode."""

    def pay_micro_deposit(
        self, bank_name: str, account_number: str, account_name: str, *, request_id: str = ""
    ) -> Payment:
        """Return the test-mode amount."""
        return Payment(DEPOSIT_AMOUNT, billable=False)
