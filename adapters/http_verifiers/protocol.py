"""The verifier protocol (``docs/verifier-protocol.md``): roles, signatures, result codes.

Every request is ``POST /v1/<role>`` with a JSON body that carries a ``request_id`` and
only the fields the role needs. Requests and responses are signed with HMAC-SHA256 under
a secret shared with the verifier::

    X-Verifier-Timestamp: <unix seconds>
    X-Verifier-Signature: v1=<hex HMAC of "<line>\\n<timestamp>\\n<hex SHA-256 of the body>">

where ``<line>`` is ``POST /v1/<role>`` for a request and ``<status> <request_id>`` for a
response. A signature older or newer than :data:`TOLERANCE_SECONDS` is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Mapping
from typing import Any

from kyc_service.domain.results import CheckOutcome, Match, Mismatch, NotFound

VERSION = "v1"
TIMESTAMP_HEADER = "X-Verifier-Timestamp"
SIGNATURE_HEADER = "X-Verifier-Signature"
TOLERANCE_SECONDS = 300

ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "identity": ("name", "id_number"),
    "portrait": ("name", "id_number", "photo"),
    "bank": ("card_number", "name", "id_number", "phone"),
    "account": ("bank_name", "account_number", "account_name"),
    "registry": ("entity_name", "uscc", "legal_representative"),
    "sms": ("phone", "text"),
}
"""Each role's request fields, and nothing more (the minimum a verifier needs)."""

RESULTS = ("match", "mismatch", "no_record", "invalid_input", "daily_limit", "busy")
"""``match``; ``mismatch`` with its ``reason``; ``no_record``; ``invalid_input``;
``daily_limit`` and ``busy`` (the verifier cannot answer now: retry later)."""
UNAVAILABLE = frozenset({"daily_limit", "busy"})


REASON = re.compile(r"[a-z_]{1,64}")
"""A reason is a failure code (``name_id_mismatch``): nothing else reaches a client."""
AMOUNT = re.compile(r"0\.(0[1-9]|[1-9][0-9])")
"""A micro-deposit: 0.01–0.99 CNY, two decimals."""
MAX_REQUEST_ID = 64


def new_request_id() -> str:
    """A fresh request id, for a call the caller gave none (its repeats still share it)."""
    return "vr_" + secrets.token_hex(16)


def body_digest(body: bytes) -> str:
    """The hex SHA-256 of a body."""
    return hashlib.sha256(body).hexdigest()


def signature(secret: str, line: str, timestamp: int, body: bytes) -> str:
    """The ``v1=`` value signing ``line``, ``timestamp`` and ``body``."""
    message = f"{line}\n{timestamp}\n{body_digest(body)}".encode()
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, line: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers of a signed request or response."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, line, timestamp, body),
    }


def signature_valid(
    secret: str, line: str, headers: Mapping[str, str], body: bytes, now: float
) -> bool:
    """Tell whether ``headers`` sign ``line`` and ``body`` with ``secret``, in time."""
    raw = headers.get(TIMESTAMP_HEADER, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):  # "²" is a digit too
        return False
    if abs(now - int(raw)) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, line, int(raw), body)
    return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))


def request_line(role: str) -> str:
    """What a request's signature covers besides the body."""
    return f"POST /{VERSION}/{role}"


def response_line(status: int, request_id: str) -> str:
    """What a response's signature covers besides the body."""
    return f"{status} {request_id}"


def answer_of(outcome: CheckOutcome) -> dict[str, Any]:
    """A domain result as the protocol's answer (the sandbox server's side)."""
    if isinstance(outcome, Match):
        return {"result": "match", "billable": outcome.billable, "score": outcome.score}
    if isinstance(outcome, NotFound):
        return {"result": "no_record", "reason": outcome.code, "billable": outcome.billable}
    answer = {"result": "mismatch", "reason": outcome.code, "billable": outcome.billable}
    return answer | ({"score": outcome.score} if outcome.score is not None else {})


def outcome_of(answer: Mapping[str, Any], no_record: str) -> CheckOutcome | None:
    """The domain result of an answer; None when the verifier cannot answer now.

    Anything malformed raises ``ValueError`` (an outage, never a pass).
    """
    result = answer.get("result")
    billable = answer.get("billable")
    if result not in RESULTS or not isinstance(billable, bool):
        raise ValueError("malformed answer")
    if result in UNAVAILABLE:
        return None
    score = answer.get("score")
    if score is not None and not _is_score(score):
        raise ValueError("malformed score")
    reason = answer.get("reason")
    if reason is not None and not (isinstance(reason, str) and REASON.fullmatch(reason)):
        raise ValueError("a reason that is not a failure code")
    if result == "match":
        return Match(billable=billable, score=score)
    if result == "no_record":
        return NotFound(str(answer.get("reason") or no_record), billable=billable)
    if result == "invalid_input":
        return Mismatch(str(answer.get("reason") or "invalid_input"), billable=billable)
    if reason is None:
        raise ValueError("a mismatch without its reason")
    return Mismatch(reason, billable=billable, score=score)


def _is_score(value: Any) -> bool:
    """A number in 0–1 (not a boolean, not NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value <= 1
