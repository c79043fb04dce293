"""Opaque prefixed identifiers (`ver_…`, `doc_…`, `req_…`)."""

from __future__ import annotations

import secrets

PREFIXES = frozenset({"ver", "doc", "pv", "evt", "we", "req", "ten", "key", "aud", "sub"})


ALPHABET = "abcdefghijkmnopqrstuvwxyz23456789"
"""Lower-case letters and few digits (no l, 0, 1): ids never hold long runs of digits, so a
scan of dumps and logs for leaked ID, card or phone numbers is not tripped by them."""
LENGTH = 24


def new_id(prefix: str) -> str:
    """Return a new random id such as ``ver_kq9xw…`` (about 121 random bits)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return prefix + "_" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def has_prefix(value: str, prefix: str) -> bool:
    """Tell whether ``value`` looks like an id of the given prefix."""
    return value.startswith(prefix + "_") and len(value) > len(prefix) + 1
