"""``GET /v1/ops/audit-events``: the audit chain as ops read it (masked when written)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import ListArgsSchema, ListSchema, UtcTimestamp


class AuditEventArgsSchema(ListArgsSchema):
    """Filters: ``verification`` (an id) and ``reference`` (the tenant's subject reference)."""

    verification = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    reference = fields.String(load_default=None, validate=validate.Length(min=1, max=255))


class AuditEventSchema(Schema):
    """One audit event: who (the key id, or ``system:…``) did what, to which subject, why."""

    id = fields.String(required=True)
    object = fields.Constant("audit_event")
    actor = fields.String(required=True, metadata={"example": "key_…"})
    action = fields.String(required=True, metadata={"example": "ops.review.approve"})
    reference = fields.String(allow_none=True)
    verification_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "masked"})
    details = fields.Dict(metadata={"description": "masked"})
    created_at = UtcTimestamp(required=True)


class AuditEventListSchema(ListSchema):
    """A page of audit events, newest first."""

    data = fields.List(fields.Nested(AuditEventSchema), required=True)
