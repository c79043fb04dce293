"""Opaque prefixed identifiers (`ver_…`, `doc_…`, `req_…`)."""

from __future__ import annotations

import re
import secrets

PREFIXES = frozenset({"ver", "doc", "pv", "evt", "we", "req", "ten", "key", "aud", "sub"})


ALPHABET = "abcdefghijkmnopqrstuvwxyz23456789"
"""Lower-case letters and few digits (no l, 0, 1): ids never hold long runs of digits, so a
scan of dumps and logs for leaked ID, card or phone numbers is not tripped by them."""
LENGTH = 24
MAX_DIGIT_RUN = 6
"""Ids with a longer run of digits are drawn again: the scans look for 7-digit pieces."""
_TOO_MANY_DIGITS = re.compile(rf"[0-9]{{{MAX_DIGIT_RUN + 1},}}")


def new_id(prefix: str) -> str:
    """Return a new random id such as ``ver_kq9xw…`` (about 121 random bits)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    while True:
        body = "".join(ALPHABET[byte % len(ALPHABET)] for byte in _unbiased_bytes(LENGTH))
        if not _TOO_MANY_DIGITS.search(body):
            return prefix + "_" + body


def _unbiased_bytes(count: int) -> list[int]:
    """Return ``count`` random bytes below the largest multiple of the alphabet's size."""
    limit = 256 - 256 % len(ALPHABET)
    chosen: list[int] = []
    while len(chosen) < count:
        chosen.extend(byte for byte in secrets.token_bytes(count * 2) if byte < limit)
    return chosen[:count]


def has_prefix(value: str, prefix: str) -> bool:
    """Tell whether ``value`` looks like an id of the given prefix."""
    return value.startswith(prefix + "_") and len(value) > len(prefix) + 1
