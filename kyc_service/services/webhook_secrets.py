"""Webhook signing secrets: made, kept wrapped by the KEK, rotated with a 24 h overlap.

An endpoint's ``secret_wrapped`` wraps its current secret. For 24 h after a rotation it
wraps the new secret and the one the rotation replaced together, as one value
(``<new>\\n<old>``), so a KEK rotation re-wraps both at once and no other column holds a
wrapped secret. ``previous_secret_expires_at`` says until when the replaced secret still
signs deliveries; past it the secret is no longer used, and the next delivery run drops it
from the wrapped value (:func:`forget_expired`). A second rotation within the 24 h keeps
only the secret it replaces (the one the first rotation made) beside the new one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.domain.sealing import associated_data
from kyc_service.ports import KeyWrapper
from kyc_service.ports.storage import UnitOfWork

SECRET_OVERLAP = timedelta(hours=24)
"""How long the secret a rotation replaced still signs deliveries, beside the new one."""

FORGET_BATCH = 500
"""The most replaced secrets one delivery run forgets."""

_SEPARATOR = "\n"
"""Between the secrets of one wrapped value (never part of a secret: ``whsec_`` + base64url)."""


@dataclass(frozen=True)
class Rotation:
    """A new secret, and the wrapped value that holds it beside the one it replaces."""

    secret: str
    kek_id: str
    wrapped: str
    previous_expires_at: datetime


def new_secret() -> str:
    """Return a fresh signing secret (``whsec_`` and 256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def secret_context(endpoint_id: str) -> bytes:
    """Bind a wrapped secret to its endpoint, so wrapped secrets cannot be swapped."""
    return associated_data("webhook-secret", endpoint_id)


def wrap_secrets(wrapper: KeyWrapper, endpoint_id: str, *held: str) -> tuple[str, str]:
    """Wrap the endpoint's secrets (current first) as one value: (KEK id, stored text)."""
    kek_id, wrapped = wrapper.wrap(_SEPARATOR.join(held).encode(), secret_context(endpoint_id))
    return kek_id, encode_bytes(wrapped)


def stored_secrets(wrapper: KeyWrapper, row: Any) -> list[str]:
    """Unwrap the endpoint's secrets: the current one, then the replaced one if kept."""
    context = secret_context(row.id)
    plain = wrapper.unwrap(row.secret_kek_id, decode_bytes(row.secret_wrapped), context)
    return plain.decode().split(_SEPARATOR)


def endpoint_secret(wrapper: KeyWrapper, row: Any) -> str:
    """Unwrap an endpoint's current signing secret."""
    return stored_secrets(wrapper, row)[0]


def in_overlap(row: Any, now: datetime) -> bool:
    """Tell whether the secret the last rotation replaced still signs at ``now``."""
    expires = row.previous_secret_expires_at
    return expires is not None and now < expires


def signing_secrets(wrapper: KeyWrapper, row: Any, now: datetime) -> list[str]:
    """The secrets a delivery at ``now`` is signed with: the current one, and the replaced
    one while the rotation's overlap lasts."""
    held = stored_secrets(wrapper, row)
    return held[:2] if in_overlap(row, now) else held[:1]


def rotation(wrapper: KeyWrapper, row: Any, now: datetime) -> Rotation:
    """Make a new secret and wrap it with the current one, which signs until ``now`` + 24 h
    (a secret an earlier rotation replaced is dropped)."""
    secret = new_secret()
    kek_id, wrapped = wrap_secrets(wrapper, row.id, secret, endpoint_secret(wrapper, row))
    return Rotation(secret, kek_id, wrapped, now + SECRET_OVERLAP)


def forget_expired(
    unit_of_work: Callable[[], UnitOfWork], wrapper: KeyWrapper, now: datetime
) -> int:
    """Re-wrap each endpoint whose replaced secret stopped signing by ``now`` with its
    current secret alone; return how many were forgotten (compare-and-set: an endpoint
    rotated or re-wrapped meanwhile is left to the next run)."""
    forgotten = 0
    with unit_of_work() as uow:
        for row in uow.webhooks.expired_previous_secrets(now, FORGET_BATCH):
            kek_id, wrapped = wrap_secrets(wrapper, row.id, endpoint_secret(wrapper, row))
            forgotten += uow.webhooks.replace_secret(
                row.id, row.secret_wrapped, kek_id=kek_id, wrapped=wrapped, previous_expires_at=None
            )
        uow.commit()
    return forgotten
