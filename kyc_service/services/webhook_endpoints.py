"""Webhook endpoints and events: register an endpoint (its secret shown once), list them,
queue an event's deliveries, and the shapes the API shows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kyc_service.domain.access import Principal
from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.domain.errors import Conflict
from kyc_service.domain.events import Event
from kyc_service.domain.ids import new_id
from kyc_service.domain.sealing import associated_data
from kyc_service.ports import KeyWrapper, WebhookTransport
from kyc_service.ports.storage import UnitOfWork
from kyc_service.services.pagination import Page, page_after

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
ENDPOINTS_PER_MODE = 16
"""The most enabled endpoints of a tenant in one mode (``KYC_WEBHOOKS_ENDPOINTS_PER_MODE``)."""


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret, which is shown this once."""

    endpoint: Any
    secret: str

    def __getattr__(self, name: str) -> Any:
        """The endpoint's own attributes (``id``, ``url``, ``events``, ``created_at``)."""
        if name in {"id", "url", "events", "created_at"}:
            return getattr(self.endpoint, name)
        raise AttributeError(name)


def _time(value: datetime) -> str:
    """Return an ISO 8601 UTC timestamp, as the verification object writes them."""
    return value.isoformat().replace("+00:00", "Z")


def secret_context(endpoint_id: str) -> bytes:
    """Bind a wrapped secret to its endpoint, so wrapped secrets cannot be swapped."""
    return associated_data("webhook-secret", endpoint_id)


def endpoint_object(row: Any, secret: str | None = None) -> dict[str, Any]:
    """Return the endpoint as the API shows it; the secret only when given (on creation)."""
    shown = {
        "id": row.id,
        "object": "webhook_endpoint",
        "url": row.url,
        "events": list(row.events),
        "created_at": _time(row.created_at),
    }
    return shown | ({"secret": secret} if secret is not None else {})


def event_object(row: Any) -> dict[str, Any]:
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
    limit: int = ENDPOINTS_PER_MODE,
) -> CreatedEndpoint:
    """Register an endpoint after checking its URL for the caller's mode; make its secret."""
    transport.resolve_target(url, principal.mode)
    endpoint_id = new_id("we")
    secret = "whsec_" + secrets.token_urlsafe(32)
    kek_id, wrapped = wrapper.wrap(secret.encode(), secret_context(endpoint_id))
    with uow:
        _check_room(uow, principal, url, limit)
        endpoint = uow.webhooks.add_endpoint(
            id=endpoint_id,
            tenant_id=principal.tenant_id,
            mode=principal.mode.value,
            url=url,
            events=_normalise_events(events),
            secret_kek_id=kek_id,
            secret_wrapped=encode_bytes(wrapped),
            created_at=now,
        )
        uow.commit()
    return CreatedEndpoint(endpoint, secret)


def _check_room(uow: UnitOfWork, principal: Principal, url: str, limit: int) -> None:
    """Refuse a URL already registered (409 ``webhook_endpoint_exists``), and an endpoint
    past ``limit`` per tenant and mode (409 ``webhook_endpoint_limit``)."""
    uow.webhooks.lock_tenant_endpoints(principal.tenant_id, principal.mode.value)
    enabled = uow.webhooks.enabled_endpoints(principal.tenant_id, principal.mode.value)
    if any(endpoint.url == url for endpoint in enabled):
        raise Conflict(
            "an endpoint with this url is already registered", code="webhook_endpoint_exists"
        )
    if len(enabled) >= limit:
        raise Conflict(
            f"at most {limit} webhook endpoints per mode; delete one first",
            code="webhook_endpoint_limit",
        )


def endpoint_secret(wrapper: KeyWrapper, row: Any) -> str:
    """Unwrap an endpoint's signing secret."""
    context = secret_context(row.id)
    return wrapper.unwrap(row.secret_kek_id, decode_bytes(row.secret_wrapped), context).decode()


def list_endpoints(
    uow: UnitOfWork, principal: Principal, *, limit: int, starting_after: str | None = None
) -> Page:
    """Return the caller's enabled endpoints, newest first, after ``starting_after``."""
    tenant, mode = principal.tenant_id, principal.mode.value
    with uow:
        repository = uow.webhooks
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
        repository = uow.events
        return page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: getattr(repository.get(tenant, mode, id_), "seq", None),
            fetch=lambda after, count: repository.page(
                tenant, mode, limit=count, after_seq=after, type_=type
            ),
            noun="event",
        )


def enqueue_deliveries(uow: UnitOfWork, event: Event) -> int:
    """Queue the event for every enabled endpoint of its tenant and mode that wants its type.

    Staged in the caller's unit of work (committed with the status change); returns how many
    were queued.
    """
    queued = 0
    for endpoint in uow.webhooks.enabled_endpoints(event.tenant_id, event.mode):
        if event.type not in endpoint.events and ALL_EVENTS not in endpoint.events:
            continue
        uow.webhooks.add_delivery(event.id, endpoint.id, event.created_at)
        queued += 1
    return queued
