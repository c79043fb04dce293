"""The ``http`` adapter of each verifier port, speaking the verifier protocol.

Settings per role (``KYC_<PORT>_URL``, ``KYC_<PORT>_SECRET``, ``KYC_<PORT>_TIMEOUT``):
``IDENTITY``, ``PORTRAIT``, ``BANK``, ``ACCOUNT``, ``REGISTRY``, ``SMS``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Self

from adapters.http_verifiers import protocol
from adapters.http_verifiers.client import DEFAULT_TIMEOUT, VerifierClient
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import CheckOutcome, Match, Payment
from kyc_service.ports import (
    AccountVerifier,
    BankVerifier,
    BusinessRegistry,
    IdentityAuthority,
    PortraitAuthority,
    SmsSender,
)


class _HttpVerifier:
    """What every ``http`` verifier adapter shares: its client of one role."""

    role = ""
    no_record = "id_not_found"

    def __init__(self, url: str, secret: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not url or not secret:
            raise RuntimeError(f"the {self.role} verifier needs a URL and a secret")
        self.client = VerifierClient(url, secret, self.role, timeout)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """``url``, ``secret`` and ``timeout`` (seconds) of ``KYC_<PORT>_*``."""
        return cls(
            str(settings.get("url") or ""),
            str(settings.get("secret") or ""),
            float(settings.get("timeout") or DEFAULT_TIMEOUT),
        )

    def ask(self, request_id: str, **fields: str) -> CheckOutcome:
        """Send the role's fields; the domain result, or ``UpstreamUnavailable``."""
        answer = self.client.call(fields, request_id)
        try:
            outcome = protocol.outcome_of(answer, self.no_record)
        except ValueError:
            raise UpstreamUnavailable(f"the {self.role} verifier answered badly") from None
        if outcome is None:
            raise UpstreamUnavailable(f"the {self.role} verifier is busy or at its limit")
        return outcome

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()


class HttpIdentityAuthority(_HttpVerifier, IdentityAuthority):
    """Name and ID number (2 elements)."""

    role = "identity"

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> CheckOutcome:
        """Ask the identity verifier."""
        return self.ask(request_id, name=name, id_number=id_number)


class HttpPortraitAuthority(_HttpVerifier, PortraitAuthority):
    """A selfie against the authority's photo."""

    role = "portrait"

    def compare(
        self, name: str, id_number: str, selfie_jpeg: bytes, *, request_id: str = ""
    ) -> CheckOutcome:
        """Ask the portrait verifier."""
        photo = base64.b64encode(selfie_jpeg).decode()
        return self.ask(request_id, name=name, id_number=id_number, photo=photo)


class HttpBankVerifier(_HttpVerifier, BankVerifier):
    """Card, name, ID number and reserved phone (4 elements)."""

    role = "bank"

    def verify(
        self,
        card_number: str,
        name: str,
        id_number: str,
        reserved_phone: str,
        *,
        request_id: str = "",
    ) -> CheckOutcome:
        """Ask the bank verifier."""
        return self.ask(
            request_id,
            card_number=card_number,
            name=name,
            id_number=id_number,
            phone=reserved_phone,
        )


class HttpBusinessRegistry(_HttpVerifier, BusinessRegistry):
    """Entity name, USCC and legal representative."""

    role = "registry"
    no_record = "entity_not_found"

    def verify(
        self, entity_name: str, uscc: str, legal_representative: str, *, request_id: str = ""
    ) -> CheckOutcome:
        """Ask the registry."""
        return self.ask(
            request_id,
            entity_name=entity_name,
            uscc=uscc,
            legal_representative=legal_representative,
        )


class HttpAccountVerifier(_HttpVerifier, AccountVerifier):
    """Pays the micro-deposit."""

    role = "account"

    def pay_micro_deposit(
        self, bank_name: str, account_number: str, account_name: str, *, request_id: str = ""
    ) -> Payment:
        """Ask for a payment; return it (its amount, whether it was charged)."""
        fields = {"bank_name": bank_name, "account_number": account_number}
        answer = self.client.call(fields | {"account_name": account_name}, request_id)
        amount, billable = answer.get("amount"), answer.get("billable")
        if not isinstance(billable, bool) or answer.get("result") not in protocol.RESULTS:
            raise UpstreamUnavailable("the account verifier answered badly")
        if answer["result"] != "match":
            raise UpstreamUnavailable("the account verifier did not pay", billable=billable)
        if not (isinstance(amount, str) and protocol.AMOUNT.fullmatch(amount)):
            raise UpstreamUnavailable("the account verifier paid no amount", billable=billable)
        return Payment(amount, billable=billable)


class HttpSmsSender(_HttpVerifier, SmsSender):
    """Sends a text message."""

    role = "sms"

    def send(self, phone: str, text: str, *, request_id: str = "") -> Match:
        """Ask the gateway to send it."""
        outcome = self.ask(request_id, phone=phone, text=text)
        if not isinstance(outcome, Match):
            refused = "the SMS gateway refused the message"
            raise UpstreamUnavailable(refused, billable=outcome.billable)
        return outcome
