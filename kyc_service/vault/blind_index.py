"""Blind indexes: keyed HMAC-SHA256 of normalised identifiers, for lookups without plaintext."""

from __future__ import annotations

import hashlib
import hmac
import re

from stdnum.cn import ric, uscc

from kyc_service.domain.encoding import encode_bytes

INDEXED_KINDS = ("id_number", "uscc", "bank_card")
_SEPARATORS = re.compile(r"[\s-]")


def normalise(kind: str, value: str) -> str:
    """Return the canonical form of an identifier of ``kind`` (upper case, no separators)."""
    if kind == "id_number":
        return ric.compact(_SEPARATORS.sub("", value))
    if kind == "uscc":
        return uscc.compact(value)
    if kind == "bank_card":
        return "".join(ch for ch in value if ch.isdigit())
    raise ValueError(f"no blind index for {kind!r}")


def blind_index(key: bytes, tenant_id: str, kind: str, value: str) -> str:
    """Return the tenant-scoped blind index of ``value`` (HMAC-SHA256, as text)."""
    message = "\x1f".join((tenant_id, kind, normalise(kind, value))).encode()
    return encode_bytes(hmac.new(key, message, hashlib.sha256).digest())
