"""Webhook delivery: claim each due delivery, sign and POST it, retry with backoff; then
forget the secrets whose rotation overlap has ended."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import DeliveryFailed, KycError
from kyc_service.domain.results import WebhookTarget
from kyc_service.ports import KeyWrapper, WebhookTransport
from kyc_service.ports.storage import Clock, UnitOfWork
from kyc_service.services.webhook_endpoints import event_object
from kyc_service.services.webhook_secrets import forget_expired, signing_secrets
from kyc_service.services.webhook_signing import SIGNATURE_HEADER, signature_header

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
RETRY_FOR = timedelta(days=3)
LEASE = timedelta(minutes=2)
"""How long a claimed delivery is hidden from other runners (well over one send's timeout)."""

CONCURRENCY = 8
"""Deliveries sent at once by one run (``KYC_WEBHOOKS_CONCURRENCY``)."""

HttpPost = Callable[[WebhookTarget, bytes, Mapping[str, str]], int]


@dataclass
class DeliveryReport:
    """What one run of ``deliver_due`` did."""

    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    secrets_forgotten: int = 0

    @property
    def attempted(self) -> int:
        """Deliveries this run took and tried (or gave up on)."""
        return self.succeeded + self.retrying + self.failed


@dataclass(frozen=True)
class _Outcome:
    """One attempt's result: the HTTP status if an answer came, else a short error."""

    status: int | None = None
    error: str | None = None
    give_up: bool = False

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


def deliver_due(
    unit_of_work: Callable[[], UnitOfWork],
    wrapper: KeyWrapper,
    clock: Clock,
    transport: WebhookTransport,
    http_post: HttpPost | None = None,
    batch: int = 100,
    concurrency: int = CONCURRENCY,
) -> DeliveryReport:
    """Send up to ``batch`` due deliveries; safe to run from several processes at once.

    Each delivery is claimed before it is sent (so two runners never send it together),
    POSTed signed, and marked succeeded on a 2xx; otherwise retried with exponential backoff
    (30 s doubling, at most 6 h apart) until its event is 3 days old, then failed. Up to
    ``concurrency`` deliveries are sent at once, each within the transport's deadline, so
    one slow receiver cannot hold the run up. Last, the secrets replaced by a rotation more
    than 24 h ago are dropped from their endpoints' wrapped value.
    """
    send = http_post or transport.post
    with unit_of_work() as uow:
        due = uow.webhooks.due_deliveries(clock(), batch)

    def one(delivery: tuple[int, datetime]) -> str | None:
        delivery_id, seen = delivery
        lease_until = _claim(unit_of_work(), delivery_id, seen, clock() + LEASE)
        if lease_until is None:
            return None
        return _deliver_one(
            unit_of_work(), wrapper, clock, (transport, send), delivery_id, lease_until
        )

    report = DeliveryReport()
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for state in pool.map(one, due):
            if state is not None:
                setattr(report, state, getattr(report, state) + 1)
    report.secrets_forgotten = forget_expired(unit_of_work, wrapper, clock())
    return report


def _claim(
    uow: UnitOfWork, delivery_id: int, seen: datetime, lease_until: datetime
) -> datetime | None:
    """Take the delivery for this runner; return the lease's end, or None if another took it."""
    with uow:
        taken = uow.webhooks.claim(delivery_id, seen, lease_until)
        uow.commit()
    return lease_until if taken else None


def _deliver_one(
    uow: UnitOfWork,
    wrapper: KeyWrapper,
    clock: Clock,
    transport: tuple[WebhookTransport, HttpPost],
    delivery_id: int,
    lease_until: datetime,
) -> str | None:
    """Attempt one claimed delivery and record the outcome; return the report's bucket
    (None when the delivery went with its endpoint's deletion meanwhile)."""
    with uow:
        found = uow.webhooks.delivery(delivery_id)
    if found is None:
        return None
    _, event, endpoint = found
    outcome = _attempt(wrapper, clock, transport, event, endpoint)
    return _record(uow, found[0], event, lease_until, outcome, clock())


def _attempt(
    wrapper: KeyWrapper,
    clock: Clock,
    transport: tuple[WebhookTransport, HttpPost],
    event: Any,
    endpoint: Any,
) -> _Outcome:
    """Check the URL again, sign the event and POST it."""
    checker, send = transport
    if endpoint.disabled_at is not None:
        return _Outcome(error="endpoint disabled", give_up=True)
    try:
        target = checker.resolve_target(endpoint.url, Mode(endpoint.mode))
    except KycError as exc:
        return _Outcome(error=f"url refused: {exc.message}")
    body = json.dumps(event_object(event), separators=(",", ":"), ensure_ascii=False).encode()
    now = clock()
    current, *older = signing_secrets(wrapper, endpoint, now)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: signature_header(current, int(now.timestamp()), body, *older),
        "User-Agent": "kyc-service-webhooks/1",
    }
    try:
        return _Outcome(status=send(target, body, headers))
    except DeliveryFailed as exc:
        return _Outcome(error=str(exc))


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after ``attempts`` failed attempts: 30 s doubling, at most 6 h, + jitter."""
    base = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), MAX_RETRY)
    return base + base * random.uniform(0, 0.1)


def _error_text(outcome: _Outcome) -> str | None:
    """Return the short error of a failed attempt (never the receiver's body)."""
    if outcome.ok:
        return None
    if outcome.status is not None and 300 <= outcome.status < 400:
        return f"HTTP {outcome.status}: redirects are not followed"
    if outcome.status is not None:
        return f"HTTP {outcome.status}"
    return (outcome.error or "failed")[:200]


def _record(
    uow: UnitOfWork,
    delivery: Any,
    event: Any,
    lease_until: datetime,
    outcome: _Outcome,
    now: datetime,
) -> str:
    """Store the attempt: succeeded, rescheduled, or failed once the event is 3 days old."""
    deadline = event.created_at + RETRY_FOR
    values: dict[str, Any] = {
        "attempts": delivery.attempts + 1,
        "last_status": outcome.status,
        "last_error": _error_text(outcome),
    }
    if outcome.ok:
        state = "succeeded"
        values.update(state=state, delivered_at=now)
    elif outcome.give_up or now >= deadline:
        state = "failed"
        values.update(state=state)
    else:
        state = "retrying"
        values.update(next_attempt_at=min(now + retry_delay(delivery.attempts + 1), deadline))
    with uow:
        uow.webhooks.finish_attempt(delivery.id, lease_until, **values)
        uow.commit()
    return state
