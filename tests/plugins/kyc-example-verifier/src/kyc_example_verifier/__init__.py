"""An example identity-authority plugin, installed as its own distribution.

It answers without any network, by a fixed rule that differs from the sandbox's, so a test
can tell which adapter answered: a name starting with ``示例`` (or the ``mismatch_prefix``
setting, ``KYC_IDENTITY_MISMATCH_PREFIX``) is a ``name_id_mismatch``; any other name is a
billable :class:`Match` with score :data:`SCORE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from kyc_service.domain.results import CheckOutcome, Match, Mismatch
from kyc_service.ports import IdentityAuthority

DEFAULT_MISMATCH_PREFIX = "示例"
SCORE = 0.97


class ExampleIdentityAuthority(IdentityAuthority):
    """Mismatches names with the configured prefix; matches every other name."""

    def __init__(self, mismatch_prefix: str = DEFAULT_MISMATCH_PREFIX) -> None:
        self.mismatch_prefix = mismatch_prefix
        self.request_ids: list[str] = []

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from ``mismatch_prefix`` (``KYC_IDENTITY_MISMATCH_PREFIX``), if set."""
        return cls(str(settings.get("mismatch_prefix") or DEFAULT_MISMATCH_PREFIX))

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> CheckOutcome:
        """Answer by the prefix rule; remember ``request_id`` so a test can see it came."""
        self.request_ids.append(request_id)
        if name.startswith(self.mismatch_prefix):
            return Mismatch("name_id_mismatch")
        return Match(score=SCORE)
