"""Sandbox business registry: every entity exists but the magic ones."""

from __future__ import annotations

from adapters.sandbox.magic import ENTITY_NAMES, LEGAL_REPRESENTATIVE_NAMES
from kyc_service.domain.results import CheckOutcome, Match, Mismatch, NotFound
from kyc_service.ports import BusinessRegistry


class SandboxBusinessRegistry(BusinessRegistry):
    """Answers the ``business_registry`` magic values of API.md."""

    def verify(
        self, entity_name: str, uscc: str, legal_representative: str, *, request_id: str = ""
    ) -> CheckOutcome:
        """Look the entity and representative names up in the magic tables."""
        code = ENTITY_NAMES.get(entity_name)
        if code == "entity_not_found":
            return NotFound(code, billable=False)
        if code is not None:
            return Mismatch(code, billable=False)
        code = LEGAL_REPRESENTATIVE_NAMES.get(legal_representative)
        return Mismatch(code, billable=False) if code else Match(billable=False)
