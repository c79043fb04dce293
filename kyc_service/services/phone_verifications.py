"""Signup phone verification: send a one-time code by SMS, then check it (API.md § Phone).

The phone is kept only as a tenant-scoped blind index (for the send limits) and a masked
copy; the code only as a salted hash. Test mode sends nothing and its code is ``000000``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kyc_service.domain.access import Mode, Principal
from kyc_service.domain.encoding import encode_bytes
from kyc_service.domain.errors import Conflict, Gone, InvalidRequest, RateLimited, ResourceMissing
from kyc_service.domain.identifiers import validate_mobile
from kyc_service.domain.ids import new_id
from kyc_service.domain.masking import mask_phone
from kyc_service.domain.phone import PENDING, VERIFIED
from kyc_service.domain.usage import UpstreamCall
from kyc_service.ports import SmsSender
from kyc_service.ports.storage import UnitOfWork
from kyc_service.services.upstream_calls import metered

Clock = Callable[[], datetime]

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
SEND_LIMITS: tuple[tuple[timedelta, int], ...] = (
    (timedelta(seconds=60), 1),
    (timedelta(hours=1), 5),
)
"""At most ``count`` codes to one phone within each ``window`` (per tenant and mode)."""
TEST_CODE = "000000"
SMS_TEXT = "Your verification code is {code}. It expires in 10 minutes."


def phone_index(key: bytes, tenant_id: str, phone: str) -> str:
    """Return the tenant-scoped blind index of a normalised phone (HMAC-SHA256, as text)."""
    message = "\x1f".join((tenant_id, "phone", phone)).encode()
    return encode_bytes(hmac.new(key, message, hashlib.sha256).digest())


def code_digest(salt: str, code: str) -> str:
    """Return the salted SHA-256 of a code, as text."""
    return encode_bytes(hashlib.sha256(salt.encode() + code.encode()).digest())


def new_code(mode: Mode) -> str:
    """Return a random 6-digit code, or the sandbox's fixed ``000000`` in test mode."""
    return TEST_CODE if mode is Mode.TEST else f"{secrets.randbelow(10**6):06d}"


def seconds_until_send(sent: Sequence[datetime], now: datetime) -> int:
    """Return the whole seconds until another code may be sent (0: now), given past sends."""
    newest_first = sorted(sent, reverse=True)
    wait = 0.0
    for window, limit in SEND_LIMITS:
        recent = [at for at in newest_first if at > now - window]
        if len(recent) >= limit:
            wait = max(wait, (recent[limit - 1] + window - now).total_seconds())
    return math.ceil(wait)


def start(
    uow: UnitOfWork,
    principal: Principal,
    phone: str,
    *,
    sms_sender: SmsSender,
    index_key: bytes,
    clock: Clock,
    provider: str = "",
) -> Any:
    """Send a code to ``phone`` (live mode) and return the pending phone verification. The
    send is noted in the call ledger (role ``sms``, ``provider``; no number, no text).

    Raises ``phone_invalid`` (422) and ``too_many_requests`` (429, with ``Retry-After``).
    """
    number = validate_mobile(phone, "phone")
    code = new_code(principal.mode)
    row = _record_send(
        uow, principal, number, phone_index(index_key, principal.tenant_id, number), code, clock
    )
    if principal.mode is Mode.LIVE:
        sender = Sender(sms_sender, provider, principal, clock)
        _send_or_withdraw(uow, row.id, sender, number, code)
    return row


def _record_send(
    uow: UnitOfWork, principal: Principal, number: str, index: str, code: str, clock: Clock
) -> Any:
    """Store the new phone verification, unless a send limit of the phone refuses it."""
    with uow:
        repo = uow.phones
        repo.lock_phone(principal.tenant_id, principal.mode.value, index)
        now = clock()
        salt = secrets.token_urlsafe(16)
        row = repo.create(
            id=new_id("pv"),
            tenant_id=principal.tenant_id,
            mode=principal.mode.value,
            phone_index=index,
            phone_masked=mask_phone(number),
            code_salt=salt,
            code_hash=code_digest(salt, code),
            status=PENDING,
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        wait = _send_wait(repo, row, now, excluding=row.id)
        if wait:
            raise RateLimited(
                "too many codes sent to this phone; try again later",
                headers={"Retry-After": str(wait)},
            )
        uow.commit()
    return row


def _send_wait(repo: Any, row: Any, now: datetime, excluding: str = "") -> int:
    """Return the seconds until another code may be sent to the phone of ``row``."""
    longest = max(window for window, _ in SEND_LIMITS)
    sent = repo.sent_since(
        row.tenant_id, row.mode, row.phone_index, now - longest, excluding=excluding
    )
    return seconds_until_send(sent, now)


@dataclass(frozen=True)
class Sender:
    """The SMS port of a send, and what the ledger needs to note it."""

    port: SmsSender
    provider: str
    principal: Principal
    clock: Clock


def _send_or_withdraw(uow: UnitOfWork, pv_id: str, sender: Sender, number: str, code: str) -> None:
    """Send the code; if that fails, delete the phone verification (it does not count).
    Either way the send is written to the call ledger."""
    calls: list[UpstreamCall] = []
    text = SMS_TEXT.format(code=code)
    try:
        metered(
            sender.port,
            sender.provider,
            "sms",
            pv_id,
            "phone_verification",
            lambda port, rid: port.send(number, text, request_id=rid),
            calls.append,
        )
    except Exception:
        with uow:
            uow.phones.delete(pv_id)
            uow.commit()
        raise
    finally:
        _write(uow, sender, calls)


def _write(uow: UnitOfWork, sender: Sender, calls: list[UpstreamCall]) -> None:
    """Write the send to the call ledger."""
    principal = sender.principal
    with uow:
        uow.upstream_calls.add(
            principal.tenant_id, principal.mode.value, None, calls, sender.clock()
        )
        uow.commit()


def check(uow: UnitOfWork, principal: Principal, pv_id: str, code: str, *, clock: Clock) -> Any:
    """Check ``code``; return the phone verification, verified (again, if it already was).

    Raises ``resource_missing`` (404), ``code_incorrect`` (422, with ``attempts_remaining``),
    ``code_expired`` (410) or ``too_many_attempts`` (429, with ``Retry-After``).
    """
    with uow:
        repo = uow.phones
        row = repo.get(principal.tenant_id, principal.mode.value, pv_id)
        if row is None:
            raise ResourceMissing("no such phone verification")
        if row.status != VERIFIED:
            _attempt(uow, repo, row, code, clock())
        return row


def _attempt(
    uow: UnitOfWork,
    repo: Any,
    row: Any,
    code: str,
    now: datetime,
) -> None:
    """Verify ``row`` with ``code`` or raise; concurrent checks cannot lose an attempt."""
    _refuse_unusable(repo, row, now)
    if not hmac.compare_digest(row.code_hash.encode(), code_digest(row.code_salt, code).encode()):
        attempts = repo.count_wrong_code(row.id, MAX_ATTEMPTS)
        uow.commit()
        if attempts is not None:
            raise InvalidRequest(
                "the code is not correct",
                code="code_incorrect",
                field="code",
                extra={"attempts_remaining": MAX_ATTEMPTS - attempts},
            )
    elif repo.mark_verified(row.id, MAX_ATTEMPTS, now):
        uow.commit()
    repo.refresh(row)
    if row.status != VERIFIED:
        _refuse_unusable(repo, row, now)
        raise Conflict("the phone verification changed meanwhile; check again")


def _refuse_unusable(repo: Any, row: Any, now: datetime) -> None:
    """Raise ``code_expired`` or ``too_many_attempts`` when the code may no longer be tried."""
    if row.expires_at <= now:
        raise Gone("the code has expired; request a new one", code="code_expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise RateLimited(
            "too many wrong codes; request a new one",
            code="too_many_attempts",
            headers={"Retry-After": str(max(1, _send_wait(repo, row, now)))},
        )
