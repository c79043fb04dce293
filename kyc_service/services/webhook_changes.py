"""Changing a webhook endpoint: its URL, events or ``disabled`` state; deleting it; rotating
its signing secret. Each change is one transaction, audited, and serialised with the other
changes to the tenant's endpoints in that mode.

- Disabling stops the endpoint at once: no delivery is queued for it, and its pending ones
  are canceled (not sent later, not even when it is enabled again; ``GET /v1/events``
  still lists every event). A delivery being sent at that moment may still arrive.
- Deleting drops the endpoint and every delivery to it: pending ones are never sent.
- Rotating makes a new secret (shown once); for 24 h deliveries are signed with the new
  and the replaced secret (``services.webhook_secrets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import Conflict
from kyc_service.domain.timestamps import utc_text
from kyc_service.ports import KeyWrapper, WebhookTransport
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.webhook_endpoints import (
    CreatedEndpoint,
    endpoint_status,
    normalise_events,
    owned_endpoint,
    record_change,
    refuse_duplicate,
)
from kyc_service.services.webhook_secrets import rotation

DISABLED_REASON = "endpoint disabled"
"""Why the pending deliveries of a disabled endpoint were canceled (their ``last_error``)."""


def update_endpoint(
    uow: UnitOfWork,
    audit: SealedStore,
    principal: Principal,
    endpoint_id: str,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    transport: WebhookTransport,
) -> Any:
    """Change the endpoint's ``url``, ``events`` or ``disabled`` state; return it as stored.

    A new URL is checked as on creation (422 ``url_invalid``, 409
    ``webhook_endpoint_exists``) before anything is written; a refused update changes
    nothing. An update that changes nothing writes nothing.
    """
    if changes.get("url") is not None:
        transport.resolve_target(changes["url"], principal.mode)
    with uow:
        uow.webhooks.lock_tenant_endpoints(principal.tenant_id, principal.mode.value)
        endpoint = owned_endpoint(uow, principal, endpoint_id)
        values = _changed_values(endpoint, changes, now)
        if "url" in values:
            registered = uow.webhooks.endpoints(principal.tenant_id, principal.mode.value)
            refuse_duplicate(registered, values["url"], excluding=endpoint.id)
        if not values:
            return endpoint
        uow.webhooks.update_endpoint(endpoint.id, **values)
        canceled = 0
        if values.get("disabled_at") is not None:
            canceled = uow.webhooks.cancel_pending_deliveries(endpoint.id, DISABLED_REASON)
        updated = owned_endpoint(uow, principal, endpoint_id)
        _audit_update(audit, uow, principal, updated, values, canceled)
        uow.commit()
    return updated


def _changed_values(endpoint: Any, changes: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The columns to write: only what differs from the endpoint as stored."""
    values: dict[str, Any] = {}
    if changes.get("url") is not None and changes["url"] != endpoint.url:
        values["url"] = changes["url"]
    if changes.get("events") is not None:
        events = normalise_events(changes["events"])
        if events != list(endpoint.events):
            values["events"] = events
    disabled = changes.get("disabled")
    if disabled is True and endpoint.disabled_at is None:
        values["disabled_at"] = now
    elif disabled is False and endpoint.disabled_at is not None:
        values["disabled_at"] = None
    return values


def _audit_update(
    audit: SealedStore,
    uow: UnitOfWork,
    principal: Principal,
    endpoint: Any,
    values: Mapping[str, Any],
    canceled: int,
) -> None:
    """Record ``webhook_endpoint.updated``: the fields changed and the resulting state."""
    changed = sorted("disabled" if name == "disabled_at" else name for name in values)
    details: dict[str, Any] = {"changed": changed, "status": endpoint_status(endpoint)}
    if "events" in values:
        details["events"] = list(values["events"])
    if "url" in values:
        details["url"] = values["url"]
    if canceled:
        details["deliveries_canceled"] = canceled
    record_change(audit, uow, principal, "webhook_endpoint.updated", endpoint, **details)


def delete_endpoint(
    uow: UnitOfWork, audit: SealedStore, principal: Principal, endpoint_id: str
) -> None:
    """Delete the endpoint and its deliveries (pending ones are never sent); afterwards
    its id answers 404 like an unknown one."""
    with uow:
        uow.webhooks.lock_tenant_endpoints(principal.tenant_id, principal.mode.value)
        endpoint = owned_endpoint(uow, principal, endpoint_id)
        dropped = uow.webhooks.delete_endpoint(endpoint.id)
        record_change(
            audit,
            uow,
            principal,
            "webhook_endpoint.deleted",
            endpoint,
            deliveries_dropped=dropped,
        )
        uow.commit()


def rotate_secret(
    uow: UnitOfWork,
    wrapper: KeyWrapper,
    audit: SealedStore,
    principal: Principal,
    endpoint_id: str,
    *,
    now: datetime,
) -> CreatedEndpoint:
    """Give the endpoint a new signing secret, shown this once; the one it replaces keeps
    signing (a second ``v1``) for 24 h. Within 24 h of an earlier rotation, the secret kept
    beside the new one is the one just replaced, and the oldest is forgotten at once."""
    with uow:
        uow.webhooks.lock_tenant_endpoints(principal.tenant_id, principal.mode.value)
        endpoint = owned_endpoint(uow, principal, endpoint_id)
        made = rotation(wrapper, endpoint, now)
        stored = uow.webhooks.replace_secret(
            endpoint.id,
            endpoint.secret_wrapped,
            kek_id=made.kek_id,
            wrapped=made.wrapped,
            previous_expires_at=made.previous_expires_at,
        )
        if not stored:
            raise Conflict("the endpoint changed meanwhile; try again", code="invalid_state")
        rotated = owned_endpoint(uow, principal, endpoint_id)
        record_change(
            audit,
            uow,
            principal,
            "webhook_endpoint.secret_rotated",
            rotated,
            previous_secret_expires_at=utc_text(made.previous_expires_at),
        )
        uow.commit()
    return CreatedEndpoint(rotated, made.secret)
