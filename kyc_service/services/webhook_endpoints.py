"""Webhook endpoints and events: register an endpoint (its secret shown once), list and read
them, queue an event's deliveries, and the shapes the API shows.

Changing an endpoint (update, disable, delete, rotate its secret) is in
``services.webhook_changes``; its secrets in ``services.webhook_secrets``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import Conflict, ResourceMissing
from kyc_service.domain.events import Event
from kyc_service.domain.ids import new_id
from kyc_service.domain.timestamps import utc_text
from kyc_service.ports import KeyWrapper, WebhookTransport
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.pagination import Page, page_after
from kyc_service.services.webhook_secrets import endpoint_secret as endpoint_secret
from kyc_service.services.webhook_secrets import new_secret, wrap_secrets
from kyc_service.services.webhook_secrets import secret_context as secret_context

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
"""The most endpoints, enabled or disabled, of a tenant in one mode
(``KYC_WEBHOOKS_ENDPOINTS_PER_MODE``)."""

SHOWN_ATTRIBUTES = frozenset(
    {"id", "url", "events", "created_at", "disabled_at", "previous_secret_expires_at"}
)
"""What the API shows of an endpoint record (never its wrapped secret)."""


@dataclass(frozen=True)
class CreatedEndpoint:
    """An endpoint and its new signing secret (on creation or rotation), shown this once."""

    endpoint: Any
    secret: str

    def __getattr__(self, name: str) -> Any:
        """The endpoint's shown attributes (``id``, ``url``, ``events``, ``created_at`` …)."""
        if name in SHOWN_ATTRIBUTES:
            return getattr(self.endpoint, name)
        raise AttributeError(name)


def _time(value: datetime) -> str:
    """Return an ISO 8601 UTC timestamp, as the verification object writes them."""
    return utc_text(value)


def endpoint_status(row: Any) -> str:
    """``enabled``, or ``disabled`` (no deliveries are queued for it)."""
    return "disabled" if row.disabled_at is not None else "enabled"


def endpoint_object(row: Any, secret: str | None = None) -> dict[str, Any]:
    """Return the endpoint as the API shows it; the secret only when given (on creation or
    rotation)."""
    expires = row.previous_secret_expires_at
    shown = {
        "id": row.id,
        "object": "webhook_endpoint",
        "url": row.url,
        "events": list(row.events),
        "status": endpoint_status(row),
        "created_at": _time(row.created_at),
        "previous_secret_expires_at": _time(expires) if expires is not None else None,
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


def normalise_events(events: Sequence[str]) -> list[str]:
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
    audit: SealedStore | None = None,
) -> CreatedEndpoint:
    """Register an endpoint after checking its URL for the caller's mode; make its secret.

    Audited (``webhook_endpoint.created``) when ``audit`` is given."""
    transport.resolve_target(url, principal.mode)
    endpoint_id = new_id("we")
    secret = new_secret()
    kek_id, wrapped = wrap_secrets(wrapper, endpoint_id, secret)
    with uow:
        _check_room(uow, principal, url, limit)
        endpoint = uow.webhooks.add_endpoint(
            id=endpoint_id,
            tenant_id=principal.tenant_id,
            mode=principal.mode.value,
            url=url,
            events=normalise_events(events),
            secret_kek_id=kek_id,
            secret_wrapped=wrapped,
            created_at=now,
        )
        if audit is not None:
            record_change(audit, uow, principal, "webhook_endpoint.created", endpoint, url=url)
        uow.commit()
    return CreatedEndpoint(endpoint, secret)


def _check_room(uow: UnitOfWork, principal: Principal, url: str, limit: int) -> None:
    """Refuse a URL already registered (409 ``webhook_endpoint_exists``), and an endpoint
    past ``limit`` per tenant and mode, disabled ones counted (409 ``webhook_endpoint_limit``)."""
    uow.webhooks.lock_tenant_endpoints(principal.tenant_id, principal.mode.value)
    registered = uow.webhooks.endpoints(principal.tenant_id, principal.mode.value)
    refuse_duplicate(registered, url)
    if len(registered) >= limit:
        raise Conflict(
            f"at most {limit} webhook endpoints per mode; delete one first",
            code="webhook_endpoint_limit",
        )


def refuse_duplicate(registered: Sequence[Any], url: str, excluding: str = "") -> None:
    """Refuse (409 ``webhook_endpoint_exists``) a URL one of ``registered`` already has
    (enabled or disabled), other than the endpoint ``excluding``."""
    if any(endpoint.url == url and endpoint.id != excluding for endpoint in registered):
        raise Conflict(
            "an endpoint with this url is already registered", code="webhook_endpoint_exists"
        )


def record_change(
    audit: SealedStore,
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    endpoint: Any,
    **details: Any,
) -> None:
    """Append an audit event about one endpoint: its id and what changed, never a secret
    (a ``url`` is reduced to its host, as a URL may carry a token)."""
    if "url" in details:
        details["url_host"] = urlsplit(details.pop("url")).hostname
    audit.record_access(
        uow,
        principal.tenant_id,
        principal.mode.value,
        actor=principal.key_id,
        action=action,
        details={"endpoint": endpoint.id} | details,
    )


def owned_endpoint(uow: UnitOfWork, principal: Principal, endpoint_id: str) -> Any:
    """Return the caller's endpoint; 404 ``resource_missing`` for an unknown, foreign or
    other-mode id alike."""
    found = uow.webhooks.endpoint(principal.tenant_id, principal.mode.value, endpoint_id)
    if found is None:
        raise ResourceMissing("no such webhook endpoint", field="id")
    return found


def get_endpoint(uow: UnitOfWork, principal: Principal, endpoint_id: str) -> Any:
    """Return one of the caller's endpoints (its secret is never shown again)."""
    with uow:
        return owned_endpoint(uow, principal, endpoint_id)


def list_endpoints(
    uow: UnitOfWork, principal: Principal, *, limit: int, starting_after: str | None = None
) -> Page:
    """Return the caller's endpoints, enabled and disabled, newest first, after
    ``starting_after``."""
    tenant, mode = principal.tenant_id, principal.mode.value
    with uow:
        repository = uow.webhooks
        return page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: getattr(repository.endpoint(tenant, mode, id_), "seq", None),
            fetch=lambda after, count: repository.endpoints(
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


def enqueue_deliveries(uow: UnitOfWork, event: Event, endpoints: Sequence[Any]) -> int:
    """Queue the event for each of ``endpoints`` (the enabled ones of its tenant and mode,
    read as the event was written) that wants its type.

    Staged in the caller's unit of work (committed with the status change); returns how many
    were queued.
    """
    queued = 0
    for endpoint in endpoints:
        if event.type not in endpoint.events and ALL_EVENTS not in endpoint.events:
            continue
        uow.webhooks.add_delivery(event.id, endpoint.id, event.created_at)
        queued += 1
    return queued
