"""The ``tencent`` adapters of the identity, bank and portrait ports, over Tencent Cloud FaceID.

Each sends exactly its operation's fields and nothing else (no encryption block, no custom
``Extra``), through its own SDK client and circuit breaker:

- identity: ``IdCardVerification`` with ``Name`` and ``IdCard``;
- bank: ``BankCard4EVerification`` with ``Name``, ``BankCard``, ``Phone`` and ``IdCard``;
- portrait: ``ImageRecognitionV2`` with ``IdCard``, ``Name`` and ``ImageBase64`` (the selfie).

What each answer means, and whether Tencent bills it, is in ``codes``. FaceID takes no
idempotency key: ``request_id`` is not sent, and a repeat of the same check is a new call.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Self

from adapters.tencent_faceid.client import (
    ClientSettings,
    FaceIdCaller,
    build_client,
    load_sdk,
)
from adapters.tencent_faceid.codes import (
    BANK_RESULTS,
    IDENTITY_RESULTS,
    PORTRAIT_RESULTS,
    PORTRAIT_SCORED,
)
from kyc_service.domain.results import CheckOutcome
from kyc_service.ports import BankVerifier, IdentityAuthority, PortraitAuthority


class _TencentVerifier:
    """What the three adapters share: one FaceID client behind one breaker."""

    role = ""

    def __init__(self, caller: FaceIdCaller) -> None:
        self.caller = caller

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from ``secret_id``, ``secret_key``, ``region``, ``endpoint`` and ``timeout``
        (``KYC_TENCENT_*``, under the port's own ``KYC_<PORT>_*``); ``RuntimeError`` when the
        SDK is missing or a setting is."""
        sdk = load_sdk()
        client = build_client(sdk, ClientSettings.parse(settings))
        return cls(FaceIdCaller(client, sdk, cls.role))

    def close(self) -> None:
        """Close the client's pooled connections."""
        self.caller.close()


class TencentIdentityAuthority(_TencentVerifier, IdentityAuthority):
    """Name and ID number at the identity authority (IdCardVerification)."""

    role = "identity"

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> CheckOutcome:
        """Ask FaceID whether the name and ID number belong together."""
        fields = {"Name": name, "IdCard": id_number}
        return self.caller.ask("IdCardVerification", fields, IDENTITY_RESULTS)


class TencentBankVerifier(_TencentVerifier, BankVerifier):
    """Card, name, ID number and reserved phone at the bank (BankCard4EVerification)."""

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
        """Ask FaceID whether the four elements belong together."""
        fields = {
            "Name": name,
            "BankCard": card_number,
            "Phone": reserved_phone,
            "IdCard": id_number,
        }
        return self.caller.ask("BankCard4EVerification", fields, BANK_RESULTS)


class TencentPortraitAuthority(_TencentVerifier, PortraitAuthority):
    """A selfie against the authority's photo of the person (ImageRecognitionV2)."""

    role = "portrait"

    def compare(
        self, name: str, id_number: str, selfie_jpeg: bytes, *, request_id: str = ""
    ) -> CheckOutcome:
        """Ask FaceID whether the selfie shows the person; the score is ``Sim / 100``."""
        fields = {
            "IdCard": id_number,
            "Name": name,
            "ImageBase64": base64.b64encode(selfie_jpeg).decode("ascii"),
        }
        return self.caller.ask(
            "ImageRecognitionV2", fields, PORTRAIT_RESULTS, scored=PORTRAIT_SCORED
        )
