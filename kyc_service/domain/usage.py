"""The call ledger's record of one upstream verifier call: what was asked of whom, what it
answered and whether it was billed. It holds no personal data (no name, number or image)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kyc_service.domain.encoding import encode_bytes
from kyc_service.domain.results import CheckOutcome, Match, NotFound, Payment

UNAVAILABLE = "unavailable"
"""The outcome of a call that got no usable answer (timeout, 5xx, busy, circuit open)."""


@dataclass(frozen=True)
class UpstreamCall:
    """One call of a verifier port, as the ledger keeps it."""

    role: str
    provider: str
    check: str
    request_id: str
    outcome: str
    billable: bool
    latency_ms: int


def request_id_for(verification_id: str, check: str) -> str:
    """The idempotency id of one check of one verification: the same for every repeat of it
    (after a timeout, after a crash), so the upstream answers and bills it once. Digit-free,
    like every id the database keeps."""
    digest = hashlib.sha256(f"{verification_id}\n{check}".encode()).digest()
    return "vr_" + encode_bytes(digest[:16])


def outcome_name(role: str, answer: CheckOutcome | Payment) -> str:
    """The ledger's word for an answer: match, mismatch, no_record, paid, sent."""
    if isinstance(answer, Payment):
        return "paid"
    if isinstance(answer, Match):
        return "sent" if role == "sms" else "match"
    if isinstance(answer, NotFound):
        return "no_record"
    return "mismatch"
