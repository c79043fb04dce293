"""Webhook signatures: ``KYC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]``.

For 24 h after a secret rotation a delivery carries one ``v1`` per secret, the new one
first; a receiver accepts the delivery when any of them verifies under its secret.
"""

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


def signature_header(secret: str, timestamp: int, body: bytes, *older: str) -> str:
    """Return the ``KYC-Signature`` value: ``t=<unix seconds>,v1=<hex signature>``, and one
    more ``v1=`` per ``older`` secret (still valid during a rotation's overlap), in order."""
    signatures = ",".join(f"v1={sign(key, timestamp, body)}" for key in (secret, *older))
    return f"t={timestamp},{signatures}"


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
    captured delivery cannot be replayed later. The header may carry several ``v1`` values
    (after a secret rotation); any one made with ``secret`` passes.
    """
    timestamp, signatures = _parse_signature(header)
    if timestamp is None or not signatures:
        return False
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(seconds - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
