"""AES-256-GCM sealing with associated data (pure functions, no I/O)."""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.domain.sealing import associated_data  # noqa: F401  (re-exported)

NONCE_BYTES = 12
VERSION = "v1."


class SealBroken(Exception):
    """A ciphertext that does not open: altered, moved to another row, or under another key."""


def new_data_key() -> bytes:
    """Return a fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, context: bytes) -> str:
    """Encrypt ``plaintext`` bound to ``context``; return versioned, digit-free text."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return VERSION + encode_bytes(nonce + AESGCM(key).encrypt(nonce, plaintext, context))


def open_sealed(key: bytes, sealed: str, context: bytes) -> bytes:
    """Decrypt what ``seal`` made with the same key and context, or raise ``SealBroken``."""
    if not sealed.startswith(VERSION):
        raise SealBroken("unknown ciphertext version")
    try:
        raw = decode_bytes(sealed[len(VERSION) :])
    except ValueError as exc:
        raise SealBroken("the ciphertext is not well formed") from exc
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except InvalidTag as exc:
        raise SealBroken("the ciphertext does not open here") from exc
