"""Schemas shared by every endpoint: errors and list pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate


class UtcTimestamp(fields.DateTime):
    """An ISO 8601 timestamp in UTC, written with ``Z`` (``2026-12-06T10:00:00.123456Z``)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ProblemSchema(Schema):
    """One problem of a request: the field, its code and a message."""

    field = fields.String(allow_none=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class ErrorBodySchema(Schema):
    """The one error shape of API.md § Errors."""

    type = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    field = fields.String(allow_none=True)
    request_id = fields.String(required=True)
    errors = fields.List(
        fields.Nested(ProblemSchema),
        metadata={"description": "every problem of the request (422 validation answers)"},
    )


class ErrorSchema(Schema):
    """``{"error": {...}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)


class ListArgsSchema(Schema):
    """``?limit=`` (1–100, default 20) and ``?starting_after=<id>``."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    starting_after = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class ListSchema(Schema):
    """``{"object": "list", "data": [...], "has_more": bool}``; subclasses set ``data``."""

    object = fields.Constant("list")
    has_more = fields.Boolean(required=True)
