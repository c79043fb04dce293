"""Sandbox bank verifier: the reserved phone picks the outcome."""

from __future__ import annotations

from adapters.sandbox.magic import RESERVED_PHONES, UNAVAILABLE_RESERVED_PHONE, national_number
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import CheckOutcome, Match, Mismatch
from kyc_service.ports import BankVerifier


class SandboxBankVerifier(BankVerifier):
    """Answers the ``bank_card`` magic values of API.md; 13900000009 is an outage."""

    def verify(
        self,
        card_number: str,
        name: str,
        id_number: str,
        reserved_phone: str,
        *,
        request_id: str = "",
    ) -> CheckOutcome:
        """Look the reserved phone up in the magic table."""
        phone = national_number(reserved_phone)
        if phone == UNAVAILABLE_RESERVED_PHONE:
            raise UpstreamUnavailable("the sandbox bank verifier is unavailable")
        code = RESERVED_PHONES.get(phone)
        return Mismatch(code, billable=False) if code else Match(billable=False)
