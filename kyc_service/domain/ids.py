"""Opaque prefixed identifiers (`ver_…`, `doc_…`, `req_…`)."""

from __future__ import annotations

import secrets

PREFIXES = frozenset({"ver", "doc", "pv", "evt", "we", "req", "ten", "key", "aud", "sub"})


def new_id(prefix: str) -> str:
    """Return a new random id such as ``ver_3kq9…`` for a known prefix."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{secrets.token_hex(12)}"


def has_prefix(value: str, prefix: str) -> bool:
    """Tell whether ``value`` looks like an id of the given prefix."""
    return value.startswith(prefix + "_") and len(value) > len(prefix) + 1
