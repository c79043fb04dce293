"""Tenants and API keys: create a key (shown once), authenticate a presented one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
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


class RecentPrincipals:
    """The principals of keys that authenticated in this process within the last ``ttl``
    seconds, so a client's next requests skip the key lookup.

    Entries are found by the SHA-256 of the presented key (the key itself is never kept).
    Only successes are kept: a wrong key is looked up every time. A key revoked or changed
    in the database takes effect within ``ttl`` seconds; ``ttl`` 0 keeps nothing.
    """

    def __init__(
        self, ttl: float, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _slot(presented: str) -> bytes:
        """Where a key's principal is kept: the key's SHA-256."""
        return hashlib.sha256(presented.encode()).digest()

    def get(self, presented: str) -> Principal | None:
        """Return the principal of ``presented`` if it authenticated less than ``ttl`` ago."""
        entry = self._entries.get(self._slot(presented)) if self.ttl > 0 else None
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, presented: str, principal: Principal) -> None:
        """Keep the principal of a key that has just authenticated (the oldest goes first
        once ``size`` keys are kept)."""
        if self.ttl <= 0:
            return
        slot = self._slot(presented)
        with self._lock:
            while self._entries and len(self._entries) >= self.size:
                del self._entries[next(iter(self._entries))]
            self._entries[slot] = (self.clock() + self.ttl, principal)


def authenticate(
    uow: UnitOfWork, presented: str, recent: RecentPrincipals | None = None
) -> Principal:
    """Return the principal of a presented key, or raise ``api_key_invalid``.

    With ``recent``, a key that authenticated within its last few seconds is not looked
    up again.
    """
    known = recent.get(presented) if recent is not None else None
    if known is not None:
        return known
    principal = _look_up(uow, presented)
    if recent is not None:
        recent.put(presented, principal)
    return principal


def _look_up(uow: UnitOfWork, presented: str) -> Principal:
    """Check a presented key against its stored salted hash; return its principal."""
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
