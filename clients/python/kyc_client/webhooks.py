"""Check a webhook delivery's ``KYC-Signature`` header and parse its event."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

from kyc_client.errors import SignatureVerificationError

SIGNATURE_HEADER = "KYC-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """Return the timestamp and every ``v1`` signature of ``t=<unix>,v1=<hex>[,v1=<hex>]``."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureVerificationError(message="the signature header is malformed")
    return timestamp, signatures


def verify_webhook(
    secret: str | Sequence[str],
    header: str | None,
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery and return its event (``{"id", "type", "created_at", "data"}``).

    ``header`` is the ``KYC-Signature`` value and ``body`` the raw request body, exactly as
    received (before any JSON parsing). ``secret`` may be a list of secrets (yours, during a
    rotation). Any ``v1`` signature that matches passes; signatures whose timestamp is more
    than ``tolerance`` seconds away from ``now`` (default: this machine's clock) are refused,
    so a captured delivery cannot be replayed. Raises :class:`SignatureVerificationError`.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    timestamp, signatures = parse_signature_header(header or "")
    current = time.time() if now is None else float(now)
    if abs(current - timestamp) > tolerance:
        raise SignatureVerificationError(message="the signature timestamp is outside the tolerance")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not _any_match(secrets, timestamp, raw, signatures):
        raise SignatureVerificationError(message="no signature matches the body")
    return _event(raw)


def _any_match(secrets: list[str], timestamp: int, raw: bytes, signatures: list[str]) -> bool:
    """Compare every expected signature with every candidate, in constant time each."""
    matched = False
    for secret in secrets:
        expected = compute_signature(secret, timestamp, raw)
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate)
    return matched


def _event(raw: bytes) -> dict[str, Any]:
    """Parse the signed body; it must be a JSON object."""
    try:
        event = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SignatureVerificationError(message="the signed body is not JSON") from None
    if not isinstance(event, dict):
        raise SignatureVerificationError(message="the signed body is not a JSON object")
    return event
