"""Schemas of webhook endpoints and events (API.md § Webhooks and events)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_dump, validate

from kyc_service.services.webhooks import ALL_EVENTS, EVENT_TYPES, endpoint_status
from schemas.common import ListArgsSchema, ListSchema, UtcTimestamp


def _known_events(events: list[str]) -> None:
    """Refuse an event type that does not exist (the whole list is the field at fault).

    A plain function rather than ``ContainsOnly``, which the OpenAPI document would render
    as an ``enum`` of the array itself (a schema no array can satisfy); the item's ``enum``
    documents the choices instead.
    """
    known = {*EVENT_TYPES, ALL_EVENTS}
    if any(event not in known for event in events):
        raise ValidationError(
            f"One or more of the choices you made was not in: {', '.join(sorted(known))}."
        )


def _url(required: bool) -> fields.String:
    """The endpoint's URL (checked for the caller's mode by the use case)."""
    return fields.String(required=required, validate=validate.Length(min=1, max=2048))


def _events(required: bool) -> fields.List:
    """The event types an endpoint receives."""
    return fields.List(
        fields.String(metadata={"enum": [*EVENT_TYPES, ALL_EVENTS]}),
        required=required,
        validate=[validate.Length(min=1, max=len(EVENT_TYPES) + 1), _known_events],
        metadata={"description": "Event types to receive, or `*` for every one."},
    )


class WebhookEndpointCreateSchema(Schema):
    """``POST /v1/webhook-endpoints``: where to send which events."""

    url = _url(required=True)
    events = _events(required=True)


class WebhookEndpointUpdateSchema(Schema):
    """``POST /v1/webhook-endpoints/{id}``: any of a new URL, new events, ``disabled``."""

    url = _url(required=False)
    events = _events(required=False)
    disabled = fields.Boolean(
        truthy={True},
        falsy={False},
        metadata={
            "description": "`true` stops deliveries (pending ones are canceled); `false` "
            "enables the endpoint again."
        },
    )


class WebhookEndpointSchema(Schema):
    """A webhook endpoint, as listed (its secret is never shown again)."""

    id = fields.String(required=True)
    object = fields.Constant("webhook_endpoint")
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["enabled", "disabled"]),
        metadata={"description": "`disabled`: no deliveries are made to it."},
    )
    created_at = UtcTimestamp(required=True)
    previous_secret_expires_at = UtcTimestamp(
        allow_none=True,
        metadata={
            "description": "After a secret rotation: until when deliveries are also signed "
            "with the replaced secret (a second `v1`); null otherwise."
        },
    )

    @pre_dump
    def _shown(self, endpoint: Any, **_: Any) -> dict[str, Any]:
        """An endpoint record (or one with its new secret) as the API shows it."""
        return {
            "id": endpoint.id,
            "url": endpoint.url,
            "events": list(endpoint.events),
            "status": endpoint_status(endpoint),
            "created_at": endpoint.created_at,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at,
            "secret": getattr(endpoint, "secret", None),
        }


class CreatedWebhookEndpointSchema(WebhookEndpointSchema):
    """A webhook endpoint with its new signing secret (on creation or rotation), shown only
    in this response."""

    secret = fields.String(
        required=True, metadata={"description": "The signing secret (`whsec_…`), shown once."}
    )


class WebhookEndpointListSchema(ListSchema):
    """A page of webhook endpoints (without their secrets)."""

    data = fields.List(fields.Nested(WebhookEndpointSchema), required=True)


class EventDataSchema(Schema):
    """The event's subject."""

    object = fields.Dict(
        required=True, attribute="payload", metadata={"description": "The masked verification."}
    )


class EventSchema(Schema):
    """An event: a verification's status change, as polled and as delivered to webhooks."""

    id = fields.String(required=True)
    object = fields.Constant("event")
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    created_at = UtcTimestamp(required=True)
    data = fields.Nested(EventDataSchema, required=True)

    @pre_dump
    def _with_data(self, event: Any, **_: Any) -> dict[str, Any]:
        """An event record carries its payload; the event object nests it under ``data``."""
        return {"id": event.id, "type": event.type, "created_at": event.created_at, "data": event}


class EventListArgsSchema(ListArgsSchema):
    """Filters of ``GET /v1/events``."""

    type = fields.String(load_default=None, validate=validate.OneOf(EVENT_TYPES))


class EventListSchema(ListSchema):
    """A page of events."""

    data = fields.List(fields.Nested(EventSchema), required=True)
