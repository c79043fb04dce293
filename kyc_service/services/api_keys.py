"""Tenants and API keys: create a key (shown once), authenticate a presented one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from kyc_service.domain.access import Mode, Principal, Scope
from kyc_service.domain.encoding import encode_bytes
from kyc_service.domain.errors import AuthenticationFailed
from kyc_service.domain.ids import new_id
from kyc_service.ports.storage import UnitOfWork

LOOKUP_LENGTH = 12


def _digest(salt: str, key: str) -> str:
    """Return the salted SHA-256 of a key, as text (keys carry 256 random bits: no slow KDF)."""
    return encode_bytes(hashlib.sha256(salt.encode() + key.encode()).digest())


def _split(key: str) -> tuple[Mode, str] | None:
    """Return the mode and lookup prefix of a well-formed key, else None."""
    if not key.isascii() or not key.isprintable():
        return None
    for mode in Mode:
        prefix = f"kyc_{mode.value}_"
        if key.startswith(prefix) and len(key) > len(prefix) + LOOKUP_LENGTH:
            return mode, key[len(prefix) : len(prefix) + LOOKUP_LENGTH]
    return None


def create_key(uow: UnitOfWork, tenant_name: str, mode: Mode, scopes: frozenset[Scope]) -> str:
    """Create the tenant if new and a key for it; return the key, which is never stored."""
    with uow:
        now = datetime.now(UTC)
        tenant = uow.tenants.by_name(tenant_name)
        if tenant is None:
            tenant = uow.tenants.create(id=new_id("ten"), name=tenant_name, created_at=now)
        key = f"kyc_{mode.value}_{secrets.token_urlsafe(32)}"
        salt = secrets.token_urlsafe(16)
        uow.api_keys.create(
            id=new_id("key"),
            tenant_id=tenant.id,
            mode=mode.value,
            scopes=",".join(sorted(s.value for s in scopes)),
            lookup=_split(key)[1],
            salt=salt,
            secret_hash=_digest(salt, key),
            created_at=now,
        )
        uow.commit()
    return key


def authenticate(uow: UnitOfWork, presented: str) -> Principal:
    """Return the principal of a presented key, or raise ``api_key_invalid``."""
    parts = _split(presented)
    if parts is None:
        raise AuthenticationFailed("the API key is not valid")
    mode, lookup = parts
    with uow:
        row = uow.api_keys.by_lookup(lookup)
        if (
            row is None
            or row.mode != mode.value
            or not hmac.compare_digest(
                row.secret_hash.encode(), _digest(row.salt, presented).encode()
            )
        ):
            raise AuthenticationFailed("the API key is not valid")
        scopes = frozenset(Scope(s) for s in row.scopes.split(",") if s)
        return Principal(tenant_id=row.tenant_id, key_id=row.id, mode=mode, scopes=scopes)
