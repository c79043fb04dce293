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
        body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not _TOO_MANY_DIGITS.search(body):
            return prefix + "_" + body


def has_prefix(value: str, prefix: str) -> bool:
    """Tell whether ``value`` looks like an id of the given prefix."""
    return value.startswith(prefix + "_") and len(value) > len(prefix) + 1
