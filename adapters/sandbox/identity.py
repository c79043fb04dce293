"""Sandbox identity authority: every name passes but the magic ones."""

from __future__ import annotations

from adapters.sandbox.magic import IDENTITY_NAMES
from kyc_service.domain.results import CheckOutcome, Match, Mismatch, NotFound
from kyc_service.ports import IdentityAuthority


class SandboxIdentityAuthority(IdentityAuthority):
    """Answers ``name_id_mismatch`` for 测试不符 and ``id_not_found`` for 测试无此人."""

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> CheckOutcome:
        """Look the name up in the magic table; nothing leaves the process."""
        code = IDENTITY_NAMES.get(name)
        if code == "id_not_found":
            return NotFound(code, billable=False)
        if code is not None:
            return Mismatch(code, billable=False)
        return Match(billable=False)
