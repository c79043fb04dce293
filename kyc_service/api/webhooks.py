"""``/v1/webhook-endpoints`` (register, list, read, update, delete, rotate the secret) and
``/v1/events`` (poll)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.api.documentation import READ, WRITE, documented_errors
from kyc_service.domain.access import Scope
from kyc_service.services import webhooks
from schemas.common import ListArgsSchema
from schemas.webhooks import (
    CreatedWebhookEndpointSchema,
    EventListArgsSchema,
    EventListSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointListSchema,
    WebhookEndpointSchema,
    WebhookEndpointUpdateSchema,
)

blueprint = Blueprint(
    "webhook_endpoints",
    __name__,
    url_prefix="/v1/webhook-endpoints",
    description="Where the service POSTs signed events.",
)

events_blueprint = Blueprint(
    "events",
    __name__,
    url_prefix="/v1/events",
    description="Status changes of verifications, for polling.",
)

ERRORS = {
    413: "The body is too large.",
    404: "No such endpoint (or `starting_after`), or another tenant's or mode's "
    "(`resource_missing`).",
    409: "`webhook_endpoint_exists`, `webhook_endpoint_limit`, `idempotency_key_reused`, or "
    "`invalid_state` (changed meanwhile: try again).",
    422: "Invalid `url` (`url_invalid`) or `events`, or another invalid field: `errors` "
    "lists every problem.",
}
"""These operations' own words for some of their error answers."""


def documented(
    blueprint: Blueprint, statuses: tuple[int, ...]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document each of ``statuses`` with the error schema, in these operations' words."""
    return documented_errors(blueprint, *statuses, descriptions=ERRORS)


WRITE_ONE = (*WRITE, 404)
"""What a ``POST`` on one endpoint may answer."""


@blueprint.post("")
@documented(blueprint, WRITE)
@blueprint.arguments(WebhookEndpointCreateSchema)
@blueprint.response(201, CreatedWebhookEndpointSchema)
@requires(Scope.WEBHOOKS_WRITE)
def create_endpoint(body: dict[str, Any]) -> Any:
    """Register a webhook endpoint; the answer carries its signing ``secret``, shown only here.

    Live-mode URLs must be ``https`` and resolve to public addresses only; test-mode URLs
    may be ``http`` and loopback.
    """
    kyc = services()
    principal = current_principal()
    created = webhooks.create_endpoint(
        kyc.unit_of_work(),
        kyc.vault.keystore.wrapper,
        principal,
        url=body["url"],
        events=body["events"],
        now=kyc.clock(),
        transport=kyc.adapters.get("webhooks", principal.mode),
        limit=int(kyc.settings["WEBHOOKS_ENDPOINTS_PER_MODE"]),
        audit=kyc.vault,
    )
    return created


@blueprint.get("")
@documented(blueprint, READ)
@blueprint.arguments(ListArgsSchema, location="query")
@blueprint.response(200, WebhookEndpointListSchema)
@requires(Scope.WEBHOOKS_WRITE)
def list_endpoints(args: dict[str, Any]) -> dict[str, Any]:
    """List the webhook endpoints, enabled and disabled, newest first (secrets are never
    shown again)."""
    page = webhooks.list_endpoints(services().unit_of_work(), current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}


@blueprint.get("/<endpoint_id>")
@documented(blueprint, READ)
@blueprint.response(200, WebhookEndpointSchema)
@requires(Scope.WEBHOOKS_WRITE)
def get_endpoint(endpoint_id: str) -> Any:
    """Read one webhook endpoint (its secret is never shown again)."""
    return webhooks.get_endpoint(services().unit_of_work(), current_principal(), endpoint_id)


@blueprint.post("/<endpoint_id>")
@documented(blueprint, WRITE_ONE)
@blueprint.arguments(WebhookEndpointUpdateSchema)
@blueprint.response(200, WebhookEndpointSchema)
@requires(Scope.WEBHOOKS_WRITE)
def update_endpoint(body: dict[str, Any], endpoint_id: str) -> Any:
    """Change the endpoint's ``url`` (checked as on creation), its ``events``, or
    ``disabled``: a disabled endpoint gets no deliveries, and its pending ones are canceled
    (``GET /v1/events`` still lists every event). Fields left out are kept."""
    kyc = services()
    principal = current_principal()
    return webhooks.update_endpoint(
        kyc.unit_of_work(),
        kyc.vault,
        principal,
        endpoint_id,
        body,
        now=kyc.clock(),
        transport=kyc.adapters.get("webhooks", principal.mode),
    )


@blueprint.delete("/<endpoint_id>")
@documented(blueprint, READ)
@blueprint.response(204)
@requires(Scope.WEBHOOKS_WRITE)
def delete_endpoint(endpoint_id: str) -> None:
    """Delete the endpoint: its pending deliveries are never sent, and its id answers 404."""
    webhooks.delete_endpoint(
        services().unit_of_work(), services().vault, current_principal(), endpoint_id
    )


@blueprint.post("/<endpoint_id>/rotate-secret")
@documented(blueprint, WRITE_ONE)
@blueprint.response(200, CreatedWebhookEndpointSchema)
@requires(Scope.WEBHOOKS_WRITE)
def rotate_secret(endpoint_id: str) -> Any:
    """Give the endpoint a new signing ``secret``, shown only here. For 24 h (until
    ``previous_secret_expires_at``) each delivery carries two ``v1`` signatures, by the new
    secret and by the one replaced, so a receiver can switch over; then only the new one.
    Rotating again within 24 h keeps only the secret just replaced beside the new one."""
    kyc = services()
    return webhooks.rotate_secret(
        kyc.unit_of_work(),
        kyc.vault.keystore.wrapper,
        kyc.vault,
        current_principal(),
        endpoint_id,
        now=kyc.clock(),
    )


@events_blueprint.get("")
@documented(events_blueprint, READ)
@events_blueprint.arguments(EventListArgsSchema, location="query")
@events_blueprint.response(200, EventListSchema)
@requires(Scope.VERIFICATIONS_READ)
def list_events(args: dict[str, Any]) -> dict[str, Any]:
    """List events, newest first; filter by ``type``. Each is what a webhook delivers."""
    page = webhooks.list_events(services().unit_of_work(), current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}
