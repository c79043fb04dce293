"""Webhook signatures: ``KYC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_HEADER = "KYC-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``KYC-Signature`` value: ``t=<unix seconds>,v1=<hex signature>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def _parse_signature(header: str) -> tuple[int | None, list[str]]:
    """Return the timestamp and the ``v1`` signatures of a ``KYC-Signature`` value."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    now: float | datetime,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """Tell whether ``header`` signs the raw ``body`` with ``secret`` within ``tolerance`` s.

    What a receiver runs on each webhook, with the raw body as received (before any JSON
    parsing) and its own clock: a signature older (or newer) than 5 minutes is refused, so a
    captured delivery cannot be replayed later.
    """
    timestamp, signatures = _parse_signature(header)
    if timestamp is None or not signatures:
        return False
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(seconds - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
