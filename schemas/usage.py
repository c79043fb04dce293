"""``GET /v1/ops/usage``: the call ledger summed per role and provider."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.common import UtcTimestamp

MAX_SPAN = timedelta(days=366)


class UsageBound(fields.String):
    """A date (``2026-12-01``, midnight UTC) or an ISO 8601 timestamp with a zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > 40:
            raise ValidationError("a date (2026-12-01) or an ISO 8601 timestamp")
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("a date (2026-12-01) or an ISO 8601 timestamp") from None
        if moment.tzinfo is None:
            raise ValidationError("a timestamp needs its zone (Z or +08:00)")
        return moment.astimezone(UTC)


class UsageArgsSchema(Schema):
    """``?from=&to=``: the half-open period ``[from, to)``; by default the last 30 days."""

    start = UsageBound(data_key="from", load_default=None, metadata={"example": "2026-12-01"})
    end = UsageBound(data_key="to", load_default=None, metadata={"example": "2027-01-01"})

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        """``from`` before ``to``, at most 366 days apart."""
        end = data.get("end") or datetime.now(UTC)
        start = data.get("start") or end - timedelta(days=30)
        if start >= end:
            raise ValidationError("from must be before to", field_name="from")
        if end - start > MAX_SPAN:
            raise ValidationError("at most 366 days at once", field_name="to")
        data["start"], data["end"] = start, end


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
