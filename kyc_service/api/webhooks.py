"""``/v1/webhook-endpoints`` (register, list) and ``/v1/events`` (poll)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.domain.access import Scope
from kyc_service.services import webhooks
from schemas.common import ErrorSchema, ListArgsSchema
from schemas.webhooks import (
    CreatedWebhookEndpointSchema,
    EventListArgsSchema,
    EventListSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointListSchema,
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


@blueprint.post("")
@blueprint.arguments(WebhookEndpointCreateSchema)
@blueprint.response(201, CreatedWebhookEndpointSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="No or bad API key")
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@blueprint.alt_response(422, schema=ErrorSchema, description="Bad events, or url_invalid")
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
    )
    return created


@blueprint.get("")
@blueprint.arguments(ListArgsSchema, location="query")
@blueprint.response(200, WebhookEndpointListSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="No or bad API key")
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@requires(Scope.WEBHOOKS_WRITE)
def list_endpoints(args: dict[str, Any]) -> dict[str, Any]:
    """List the webhook endpoints, newest first (secrets are never shown again)."""
    page = webhooks.list_endpoints(services().unit_of_work(), current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}


@events_blueprint.get("")
@events_blueprint.arguments(EventListArgsSchema, location="query")
@events_blueprint.response(200, EventListSchema)
@events_blueprint.alt_response(401, schema=ErrorSchema, description="No or bad API key")
@events_blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@events_blueprint.alt_response(404, schema=ErrorSchema, description="Unknown starting_after")
@requires(Scope.VERIFICATIONS_READ)
def list_events(args: dict[str, Any]) -> dict[str, Any]:
    """List events, newest first; filter by ``type``. Each is what a webhook delivers."""
    page = webhooks.list_events(services().unit_of_work(), current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}
