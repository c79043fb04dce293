"""Text for binary values (hashes, salts, ciphertexts, wrapped keys) kept in the database.

Bytes are written as base 16 over the letters ``a``–``p`` instead of ``0``–``f``: as fast
as hex, and free of digits, so that a dump of the database can be searched for leaked ID,
card or phone numbers (any run of 7 digits) without random ciphertext ever matching.
"""

from __future__ import annotations

_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_FROM_LETTERS = str.maketrans("abcdefghijklmnop", "0123456789abcdef")


def encode_bytes(data: bytes) -> str:
    """Return ``data`` as digit-free text (two letters per byte)."""
    return data.hex().translate(_TO_LETTERS)


def decode_bytes(text: str) -> bytes:
    """Return the bytes of text made by ``encode_bytes``."""
    return bytes.fromhex(text.translate(_FROM_LETTERS))
