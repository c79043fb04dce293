"""Webhooks and events: endpoints, the event list, signed deliveries retried with backoff.

Every status change is recorded as an event (``services.events``); ``enqueue_deliveries``
queues one delivery per subscribed endpoint, and ``deliver_due`` (``kyc-service webhooks
deliver``) sends the due ones. A receiver checks ``KYC-Signature`` with ``verify_signature``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kyc_service.domain.access import Mode, Principal
from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.domain.errors import DeliveryFailed, KycError
from kyc_service.domain.ids import new_id
from kyc_service.domain.results import WebhookTarget
from kyc_service.persistence.tables import EventRow, WebhookDeliveryRow, WebhookEndpointRow
from kyc_service.persistence.unit_of_work import UnitOfWork
from kyc_service.persistence.webhook_repository import WebhookRepository
from kyc_service.ports import KeyWrapper, WebhookTransport
from kyc_service.services.pagination import Page, page_after
from kyc_service.vault.envelope import associated_data

EVENT_TYPES = (
    "verification.processing",
    "verification.requires_input",
    "verification.awaiting_confirmation",
    "verification.in_review",
    "verification.verified",
    "verification.rejected",
    "verification.canceled",
)
ALL_EVENTS = "*"
SIGNATURE_HEADER = "KYC-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
RETRY_FOR = timedelta(days=3)
LEASE = timedelta(minutes=2)
"""How long a claimed delivery is hidden from other runners (well over one send's timeout)."""

HttpPost = Callable[[WebhookTarget, bytes, Mapping[str, str]], int]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret, which is shown this once."""

    endpoint: WebhookEndpointRow
    secret: str


def _time(value: datetime) -> str:
    """Return an ISO 8601 UTC timestamp, as the verification object writes them."""
    return value.isoformat().replace("+00:00", "Z")


def secret_context(endpoint_id: str) -> bytes:
    """Bind a wrapped secret to its endpoint, so wrapped secrets cannot be swapped."""
    return associated_data("webhook-secret", endpoint_id)


def endpoint_object(row: WebhookEndpointRow, secret: str | None = None) -> dict[str, Any]:
    """Return the endpoint as the API shows it; the secret only when given (on creation)."""
    shown = {
        "id": row.id,
        "object": "webhook_endpoint",
        "url": row.url,
        "events": list(row.events),
        "created_at": _time(row.created_at),
    }
    return shown | ({"secret": secret} if secret is not None else {})


def event_object(row: EventRow) -> dict[str, Any]:
    """Return the event as ``GET /v1/events`` lists it and a webhook delivers it."""
    return {
        "id": row.id,
        "object": "event",
        "type": row.type,
        "created_at": _time(row.created_at),
        "data": {"object": row.payload},
    }


def _normalise_events(events: Sequence[str]) -> list[str]:
    """Drop repeats (keeping order); ``*`` alone stands for every event."""
    unique = list(dict.fromkeys(events))
    return [ALL_EVENTS] if ALL_EVENTS in unique else unique


def create_endpoint(
    uow: UnitOfWork,
    wrapper: KeyWrapper,
    principal: Principal,
    *,
    url: str,
    events: Sequence[str],
    now: datetime,
    transport: WebhookTransport,
) -> CreatedEndpoint:
    """Register an endpoint after checking its URL for the caller's mode; make its secret."""
    transport.resolve_target(url, principal.mode)
    endpoint_id = new_id("we")
    secret = "whsec_" + secrets.token_urlsafe(32)
    kek_id, wrapped = wrapper.wrap(secret.encode(), secret_context(endpoint_id))
    row = WebhookEndpointRow(
        id=endpoint_id,
        tenant_id=principal.tenant_id,
        mode=principal.mode.value,
        url=url,
        events=_normalise_events(events),
        secret_kek_id=kek_id,
        secret_wrapped=encode_bytes(wrapped),
        created_at=now,
    )
    with uow:
        WebhookRepository(uow.session).add(row)
        uow.commit()
    return CreatedEndpoint(row, secret)


def endpoint_secret(wrapper: KeyWrapper, row: WebhookEndpointRow) -> str:
    """Unwrap an endpoint's signing secret."""
    context = secret_context(row.id)
    return wrapper.unwrap(row.secret_kek_id, decode_bytes(row.secret_wrapped), context).decode()


def list_endpoints(
    uow: UnitOfWork, principal: Principal, *, limit: int, starting_after: str | None = None
) -> Page:
    """Return the caller's enabled endpoints, newest first, after ``starting_after``."""
    tenant, mode = principal.tenant_id, principal.mode.value
    with uow:
        repository = WebhookRepository(uow.session)
        return page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: getattr(repository.endpoint(tenant, mode, id_), "seq", None),
            fetch=lambda after, count: repository.enabled_endpoints(
                tenant, mode, limit=count, after_seq=after
            ),
            noun="webhook endpoint",
        )


def list_events(
    uow: UnitOfWork,
    principal: Principal,
    *,
    limit: int,
    starting_after: str | None = None,
    type: str | None = None,
) -> Page:
    """Return the caller's events, newest first, after ``starting_after``, of one ``type``."""
    tenant, mode = principal.tenant_id, principal.mode.value
    with uow:
        repository = WebhookRepository(uow.session)
        return page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: getattr(repository.event(tenant, mode, id_), "seq", None),
            fetch=lambda after, count: repository.events_page(
                tenant, mode, limit=count, after_seq=after, type_=type
            ),
            noun="event",
        )


def enqueue_deliveries(session: Session, event_row: EventRow) -> int:
    """Queue the event for every enabled endpoint of its tenant and mode that wants its type.

    Staged in ``session`` (committed with the status change); returns how many were queued.
    """
    session.flush()
    repository = WebhookRepository(session)
    queued = 0
    for endpoint in repository.enabled_endpoints(event_row.tenant_id, event_row.mode):
        if event_row.type not in endpoint.events and ALL_EVENTS not in endpoint.events:
            continue
        repository.add(
            WebhookDeliveryRow(
                event_id=event_row.id,
                endpoint_id=endpoint.id,
                state="pending",
                attempts=0,
                next_attempt_at=event_row.created_at,
                created_at=event_row.created_at,
            )
        )
        queued += 1
    return queued


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``KYC-Signature`` value: ``t=<unix seconds>,v1=<hex signature>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def _parse_signature(header: str) -> tuple[int | None, list[str]]:
    """Return the timestamp and the ``v1`` signatures of a ``KYC-Signature`` value."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    now: float | datetime,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """Tell whether ``header`` signs the raw ``body`` with ``secret`` within ``tolerance`` s.

    What a receiver runs on each webhook, with the raw body as received (before any JSON
    parsing) and its own clock: a signature older (or newer) than 5 minutes is refused, so a
    captured delivery cannot be replayed later.
    """
    timestamp, signatures = _parse_signature(header)
    if timestamp is None or not signatures:
        return False
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(seconds - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


@dataclass
class DeliveryReport:
    """What one run of ``deliver_due`` did."""

    succeeded: int = 0
    retrying: int = 0
    failed: int = 0

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
    uow: UnitOfWork,
    wrapper: KeyWrapper,
    clock: Clock,
    transport: WebhookTransport,
    http_post: HttpPost | None = None,
    batch: int = 100,
) -> DeliveryReport:
    """Send up to ``batch`` due deliveries; safe to run from several processes at once.

    Each delivery is claimed before it is sent (so two runners never send it together),
    POSTed signed, and marked succeeded on a 2xx; otherwise retried with exponential backoff
    (30 s doubling, at most 6 h apart) until its event is 3 days old, then failed.
    """
    send = http_post or transport.post
    report = DeliveryReport()
    with uow:
        due = WebhookRepository(uow.session).due_deliveries(clock(), batch)
    for delivery_id, seen in due:
        lease_until = _claim(uow, delivery_id, seen, clock() + LEASE)
        if lease_until is None:
            continue
        state = _deliver_one(uow, wrapper, clock, (transport, send), delivery_id, lease_until)
        setattr(report, state, getattr(report, state) + 1)
    return report


def _claim(
    uow: UnitOfWork, delivery_id: int, seen: datetime, lease_until: datetime
) -> datetime | None:
    """Take the delivery for this runner; return the lease's end, or None if another took it."""
    with uow:
        taken = WebhookRepository(uow.session).claim(delivery_id, seen, lease_until)
        uow.commit()
    return lease_until if taken else None


def _deliver_one(
    uow: UnitOfWork,
    wrapper: KeyWrapper,
    clock: Clock,
    transport: tuple[WebhookTransport, HttpPost],
    delivery_id: int,
    lease_until: datetime,
) -> str:
    """Attempt one claimed delivery and record the outcome; return the report's bucket."""
    with uow:
        found = WebhookRepository(uow.session).delivery(delivery_id)
    if found is None:
        return "failed"
    _, event, endpoint = found
    outcome = _attempt(wrapper, clock, transport, event, endpoint)
    return _record(uow, found[0], event, lease_until, outcome, clock())


def _attempt(
    wrapper: KeyWrapper,
    clock: Clock,
    transport: tuple[WebhookTransport, HttpPost],
    event: EventRow,
    endpoint: WebhookEndpointRow,
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
    timestamp = int(clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(endpoint_secret(wrapper, endpoint), timestamp, body),
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
    delivery: WebhookDeliveryRow,
    event: EventRow,
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
        WebhookRepository(uow.session).finish_attempt(delivery.id, lease_until, **values)
        uow.commit()
    return state
