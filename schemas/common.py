"""Schemas shared by every endpoint: errors and list pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate

from kyc_service.domain.errors import ERROR_CODES
from kyc_service.domain.timestamps import utc_text_or_none

CODE = {"enum": list(ERROR_CODES), "description": "What went wrong (API.md § Errors)."}


class UtcTimestamp(fields.DateTime):
    """An ISO 8601 timestamp in UTC, written to the second with ``Z`` (``2026-12-06T10:00:00Z``)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return utc_text_or_none(value)


class ProblemSchema(Schema):
    """One problem of a request: the field, its code and a message."""

    field = fields.String(
        allow_none=True, metadata={"description": "The field at fault, dotted: `individual.phone`."}
    )
    code = fields.String(required=True, metadata=CODE)
    message = fields.String(required=True, metadata={"description": "Never echoes the value."})


class ErrorBodySchema(Schema):
    """The one error shape of API.md § Errors (an error may add fields of its own)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"example": "invalid_request"})
    code = fields.String(required=True, metadata={**CODE, "example": "id_number_invalid"})
    message = fields.String(required=True, metadata={"example": "id_number fails the checksum"})
    field = fields.String(allow_none=True, metadata={"example": "individual.id_number"})
    request_id = fields.String(required=True, metadata={"example": "req_…"})
    errors = fields.List(
        fields.Nested(ProblemSchema),
        metadata={"description": "every problem of the request (422 validation answers)"},
    )
    attempts_remaining = fields.Integer(
        metadata={"description": "`code_incorrect`, `deposit_amount_mismatch`: tries left."}
    )
    requirements = fields.List(
        fields.String(),
        metadata={"description": "`requirements_missing`: the documents still missing."},
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
