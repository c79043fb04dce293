"""``Idempotency-Key``: one piece of work per key, its response replayed for 24 h.

The first request claims the key by inserting a row (a unique constraint settles races
between processes); the others wait for its response and replay it. A request with the
same key and a different body is refused with ``idempotency_key_reused``.

A key belongs to the API key that sent it (another key of the same tenant has its own),
and is looked up only after the request is authenticated and its scope checked. Only a
success or a validation answer (400, 422) is kept for replay. A claim whose request died
(its lease ran out: no worker holds a request that long) is taken over by the retry.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kyc_service.domain.access import Principal
from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.domain.errors import Conflict, InvalidRequest
from kyc_service.ports import KeyWrapper
from kyc_service.ports.storage import UnitOfWork

MAX_KEY_LENGTH = 255
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Claim:
    """This request holds the key and must do the work."""

    row_id: int


@dataclass(frozen=True)
class StoredResponse:
    """The first request's response, to replay."""

    status: int
    body: str
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Return what makes two requests 'the same': method, path and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return encode_bytes(digest.digest())


SEALED_PREFIX = "sealed:"


KEPT_ERRORS = frozenset({400, 422})
"""Error answers worth replaying: the same body will fail validation the same way."""


def worth_keeping(status: int) -> bool:
    """Tell whether an answer of ``status`` is stored for replay."""
    return 200 <= status < 300 or status in KEPT_ERRORS


def scoped_key(principal: Principal, key: str) -> str:
    """The stored form of a client's key: its API key's id and a digest of the key."""
    digest = encode_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest())
    return f"{principal.key_id}:{digest}"


def row_context(tenant_id: str, mode: str, key: str) -> bytes:
    """Bind a stored response to its tenant, mode and key."""
    return "\x1f".join(("idempotency", tenant_id, mode, key)).encode()


def _context(principal: Principal, key: str) -> bytes:
    """The binding of a response stored for ``principal``'s request."""
    return row_context(principal.tenant_id, principal.mode.value, scoped_key(principal, key))


def seal_sealed(wrapper: KeyWrapper, context: bytes, body: str) -> str:
    """Encrypt ``body`` under the primary KEK: ``sealed:<kek id>:<ciphertext>``."""
    kek_id, sealed = wrapper.wrap(body.encode(), context)
    return f"{SEALED_PREFIX}{kek_id}:{encode_bytes(sealed)}"


def sealed_kek_id(stored: str) -> str:
    """The id of the KEK a stored response is sealed under."""
    return stored[len(SEALED_PREFIX) :].rpartition(":")[0]


def open_sealed(wrapper: KeyWrapper, context: bytes, stored: str) -> str:
    """Decrypt a value sealed by :func:`seal_sealed`."""
    kek_id, _, sealed = stored[len(SEALED_PREFIX) :].rpartition(":")
    return wrapper.unwrap(kek_id, decode_bytes(sealed), context).decode()


def seal_body(wrapper: KeyWrapper, principal: Principal, key: str, body: str) -> str:
    """Encrypt a response kept for replay (it may hold a secret shown once, like a webhook's)."""
    return seal_sealed(wrapper, _context(principal, key), body)


def open_body(wrapper: KeyWrapper, principal: Principal, key: str, stored: str) -> str:
    """Decrypt a response sealed by ``seal_body``."""
    return open_sealed(wrapper, _context(principal, key), stored)


def validate_key(key: str) -> None:
    """Refuse an empty or over-long key."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidRequest("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")


def claim(
    uow: UnitOfWork,
    principal: Principal,
    key: str,
    request_fingerprint: str,
    *,
    ttl: timedelta,
    wait_seconds: float,
    lease: timedelta = timedelta(seconds=150),
    sleep: Callable[[float], None] = time.sleep,
) -> Claim | StoredResponse:
    """Claim ``key`` for this request, or return the stored response of the first one."""
    validate_key(key)
    deadline = time.monotonic() + wait_seconds
    while True:
        outcome = _try_claim(uow, principal, key, request_fingerprint, (ttl, lease))
        if outcome is not None:
            return outcome
        if time.monotonic() >= deadline:
            raise Conflict(
                "another request with this Idempotency-Key is still in progress",
                code="idempotency_key_in_use",
            )
        sleep(POLL_SECONDS)


def _try_claim(
    uow: UnitOfWork,
    principal: Principal,
    key: str,
    request_fingerprint: str,
    times: tuple[timedelta, timedelta],
) -> Claim | StoredResponse | None:
    """Make one attempt; None means another request is still working on the key."""
    ttl, lease = times
    now = datetime.now(UTC)
    stored_key = scoped_key(principal, key)
    with uow:
        existing = uow.idempotency.get(principal.tenant_id, principal.mode.value, stored_key)
        if existing is not None and _abandoned(existing, now, lease):
            uow.idempotency.delete(existing.id)
            uow.commit()
            existing = None
        if existing is None:
            row = uow.idempotency.claim(
                tenant_id=principal.tenant_id,
                mode=principal.mode.value,
                key=stored_key,
                fingerprint=request_fingerprint,
                state="in_progress",
                created_at=now,
                expires_at=now + ttl,
            )
            return Claim(row.id) if row is not None else None
        if existing.fingerprint != request_fingerprint:
            raise Conflict(
                "this Idempotency-Key was used with a different request",
                code="idempotency_key_reused",
            )
        if existing.state != "completed":
            return None
        return StoredResponse(
            status=existing.response_status or 200,
            body=existing.response_body or "",
            headers=dict(existing.response_headers or {}),
        )


def _abandoned(existing: Any, now: datetime, lease: timedelta) -> bool:
    """A claim past its time, or one still in progress long after any request could be."""
    if existing.expires_at <= now:
        return True
    return existing.state != "completed" and existing.created_at <= now - lease


def complete(uow: UnitOfWork, held: Claim, response: StoredResponse) -> None:
    """Store the response of the request that held the key."""
    with uow:
        uow.idempotency.complete(held.row_id, response.status, response.body, response.headers)
        uow.commit()


def release(uow: UnitOfWork, held: Claim) -> None:
    """Give the key up after a failure that did no work, so a retry may run."""
    with uow:
        uow.idempotency.delete(held.row_id)
        uow.commit()
