"""Sandbox portrait authority: every selfie matches but for the magic name."""

from __future__ import annotations

from adapters.sandbox.magic import PORTRAIT_NAMES
from kyc_service.domain.results import CheckOutcome, Match, Mismatch
from kyc_service.ports import PortraitAuthority


class SandboxPortraitAuthority(PortraitAuthority):
    """Answers ``portrait_mismatch`` for 测试人像不符."""

    def compare(
        self, name: str, id_number: str, selfie_jpeg: bytes, *, request_id: str = ""
    ) -> CheckOutcome:
        """Look the name up in the magic table."""
        code = PORTRAIT_NAMES.get(name)
        if code is not None:
            return Mismatch(code, billable=False, score=0.12)
        return Match(billable=False, score=0.93)
