"""Base64url text for binary values (hashes, salts, ciphertexts) kept in the database."""

from __future__ import annotations

import base64


def b64encode(data: bytes) -> str:
    """Return ``data`` as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Return the bytes of unpadded (or padded) base64url ``text``."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
