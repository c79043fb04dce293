"""``GET /v1/ops/usage``: the call ledger summed per role and provider."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields

from schemas.common import UtcTimestamp


class UsageBound(fields.String):
    """A date (``2026-12-01``, midnight UTC) or an ISO 8601 timestamp with a zone, in the
    years 2000–9000."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = "a date (2026-12-01) or an ISO 8601 timestamp with its zone"
        try:
            if len(value) == 10:
                moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(problem) from None
        if moment.tzinfo is None or not 2000 <= moment.year <= 9000:
            raise ValidationError(problem)
        return moment.astimezone(UTC)


class UsageArgsSchema(Schema):
    """``?from=&to=``: the half-open period ``[from, to)``; by default the last 30 days
    (the period's rules are the use case's: ``services.upstream_calls.usage_period``)."""

    start = UsageBound(data_key="from", load_default=None, metadata={"example": "2026-12-01"})
    end = UsageBound(data_key="to", load_default=None, metadata={"example": "2027-01-01"})


class RoleUsageSchema(Schema):
    """The calls of one role to one provider."""

    role = fields.String(required=True, metadata={"example": "identity"})
    provider = fields.String(required=True, metadata={"example": "http"})
    calls = fields.Integer(required=True)
    billable = fields.Integer(required=True, metadata={"description": "calls charged"})
    outcomes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={
            "description": "calls per outcome: match, mismatch, no_record, paid, unavailable"
        },
    )


class UsageSchema(Schema):
    """``{"object": "usage", "from", "to", "mode", "data": [...]}``."""

    object = fields.Constant("usage")
    start = UtcTimestamp(data_key="from", required=True)
    end = UtcTimestamp(data_key="to", required=True)
    mode = fields.String(required=True)
    data = fields.List(fields.Nested(RoleUsageSchema), required=True)
