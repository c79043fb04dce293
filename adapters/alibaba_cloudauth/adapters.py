"""The ``alibaba`` adapter of the identity, bank and registry ports (Alibaba Cloudauth).

Each sends only the fields its operation needs (``*_FIELDS``), maps the answer through the
tables of ``codes``, and keeps its own SDK client and circuit breaker.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Self

from adapters.alibaba_cloudauth import codes
from adapters.alibaba_cloudauth.client import CloudauthClient, load_sdk, settings_of
from adapters.http_verifiers.client import CircuitBreaker
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import CheckOutcome
from kyc_service.ports import BankVerifier, BusinessRegistry, IdentityAuthority

ID_2META_FIELDS = ("ParamType", "UserName", "IdentifyNum")
BANK_4META_FIELDS = (
    "ParamType",
    "ProductType",
    "VerifyMode",
    "BankCard",
    "UserName",
    "IdentifyNum",
    "Mobile",
)
ENT_3META_FIELDS = (
    "SceneCode",
    "MerchantBizId",
    "MerchantUserId",
    "UserAuthorization",
    "InfoVerifyType",
    "EntName",
    "LicenseNo",
    "LegalPersonName",
)
"""The exact parameters each operation sends (its required ones, for its 2/4/3-element
variant; nothing optional)."""

MAX_MERCHANT_ID = 32


class _AlibabaVerifier:
    """What the three adapters share: their client, their breaker, how they ask."""

    port = ""
    role = ""

    def __init__(self, client: CloudauthClient, breaker: CircuitBreaker | None = None) -> None:
        self.client = client
        self.breaker = breaker or CircuitBreaker()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from ``KYC_ALIBABA_*`` (under ``KYC_<PORT>_*``); ``RuntimeError`` naming the
        missing SDK's install command or a missing setting."""
        sdk = load_sdk()
        return cls(CloudauthClient(settings_of(settings, cls.port), cls.role, sdk))

    def ask(
        self, send: Callable[[], Any], interpret: Callable[[Any], CheckOutcome]
    ) -> CheckOutcome:
        """Send once (unless the breaker is open) and map the answer; an outage counts
        against the breaker, any result closes it."""
        if not self.breaker.allow():
            raise UpstreamUnavailable(f"the Alibaba {self.role} check is failing: circuit open")
        try:
            outcome = interpret(self.client.call(send))
        except UpstreamUnavailable:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return outcome

    def close(self) -> None:
        """Nothing to release: the SDK pools its connections process-wide."""


class AlibabaIdentityAuthority(_AlibabaVerifier, IdentityAuthority):
    """``Id2MetaVerify``: name and resident ID number (2 elements)."""

    port = "identity"
    role = "identity"

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> CheckOutcome:
        """Ask Alibaba; ``request_id`` is not sent (the operation takes no business id)."""
        fields = {"ParamType": "normal", "UserName": name, "IdentifyNum": id_number}
        return self.ask(lambda: self.client.id_2meta_verify(fields), codes.id_2meta_outcome)


class AlibabaBankVerifier(_AlibabaVerifier, BankVerifier):
    """``BankMetaVerify``, ``BANK_CARD_4_META``: card, name, ID number, reserved phone."""

    port = "bank"
    role = "bank card"

    def verify(
        self,
        card_number: str,
        name: str,
        id_number: str,
        reserved_phone: str,
        *,
        request_id: str = "",
    ) -> CheckOutcome:
        """Ask Alibaba; ``request_id`` is not sent (the operation takes no business id)."""
        fields = {
            "ParamType": "normal",
            "ProductType": "BANK_CARD_4_META",
            "VerifyMode": "VERIFY_BANK_CARD",
            "BankCard": card_number,
            "UserName": name,
            "IdentifyNum": id_number,
            "Mobile": national_mobile(reserved_phone),
        }
        return self.ask(lambda: self.client.bank_meta_verify(fields), codes.bank_4meta_outcome)


class AlibabaBusinessRegistry(_AlibabaVerifier, BusinessRegistry):
    """``EntElementVerify``, ``ENT_3META``: entity name, USCC, legal representative."""

    port = "registry"
    role = "business registry"

    def verify(
        self, entity_name: str, uscc: str, legal_representative: str, *, request_id: str = ""
    ) -> CheckOutcome:
        """Ask Alibaba under ``request_id`` (as its MerchantBizId and MerchantUserId)."""
        merchant_id = merchant_id_of(request_id)
        fields = {
            "SceneCode": self.client.scene_code,
            "MerchantBizId": merchant_id,
            "MerchantUserId": merchant_id,
            "UserAuthorization": "1",  # the subject's consent is required at creation
            "InfoVerifyType": "ENT_3META",
            "EntName": entity_name,
            "LicenseNo": uscc,
            "LegalPersonName": legal_representative,
        }
        return self.ask(lambda: self.client.ent_element_verify(fields), codes.ent_3meta_outcome)


def national_mobile(phone: str) -> str:
    """The 11-digit mainland number of ``phone`` (``+86 138-0013-8000`` → ``13800138000``)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def merchant_id_of(request_id: str) -> str:
    """Alibaba's MerchantBizId (at most 32 letters and digits) of a request id: its last 32
    letters and digits — all 32 of the pipeline's ``vr_`` digest — or a fresh one."""
    kept = re.sub(r"[^A-Za-z0-9]", "", request_id)
    return kept[-MAX_MERCHANT_ID:] if kept else uuid.uuid4().hex
