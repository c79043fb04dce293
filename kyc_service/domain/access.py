"""Tenants, modes and scopes: who may do what, in which mode."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """Objects made with a test key are invisible to live keys, and the reverse."""

    TEST = "test"
    LIVE = "live"


class Scope(StrEnum):
    """What an API key may do."""

    VERIFICATIONS_WRITE = "verifications:write"
    VERIFICATIONS_READ = "verifications:read"
    PHONE_WRITE = "phone:write"
    SUBJECTS_EXPORT = "subjects:export"
    SUBJECTS_ERASE = "subjects:erase"
    OPS = "ops"
    WEBHOOKS_WRITE = "webhooks:write"


ALL_SCOPES: tuple[Scope, ...] = tuple(Scope)


def parse_scopes(text: str) -> frozenset[Scope]:
    """Parse ``a,b,c`` into scopes; ``*`` or ``all`` means every scope.

    Raises ValueError naming the unknown scope.
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ValueError("at least one scope is required")
    if names in (["*"], ["all"]):
        return frozenset(ALL_SCOPES)
    try:
        return frozenset(Scope(name) for name in names)
    except ValueError as exc:
        known = ", ".join(s.value for s in ALL_SCOPES)
        raise ValueError(f"{exc}; known scopes: {known}") from None


@dataclass(frozen=True)
class Principal:
    """The caller behind a request: a tenant, in one mode, with scopes."""

    tenant_id: str
    key_id: str
    mode: Mode
    scopes: frozenset[Scope]

    def can(self, scope: Scope) -> bool:
        """Tell whether the key carries ``scope``."""
        return scope in self.scopes
