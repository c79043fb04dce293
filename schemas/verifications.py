"""Schemas of the verification object and its list."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kyc_service.domain.verification import Status, SubjectType
from schemas.common import ListArgsSchema, ListSchema


class CheckSchema(Schema):
    """One check's result: ``pending``, ``passed``, ``failed``, ``skipped`` or ``error``."""

    name = fields.String(required=True)
    status = fields.String(required=True)
    code = fields.String(allow_none=True)
    score = fields.Float(allow_none=True)


class LastErrorSchema(Schema):
    """The error that holds the verification up, if any."""

    code = fields.String(required=True)
    message = fields.String()


class VerificationSchema(Schema):
    """A verification, with personal data masked (see API.md § Verifications)."""

    id = fields.String(required=True)
    object = fields.Constant("verification")
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in SubjectType]))
    mode = fields.String(required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    requirements = fields.List(fields.String())
    checks = fields.List(fields.Nested(CheckSchema))
    last_error = fields.Nested(LastErrorSchema, allow_none=True)
    individual = fields.Method("_individual", allow_none=True)
    organization = fields.Method("_organization", allow_none=True)
    options = fields.Dict()
    attempt = fields.Integer()
    parent_id = fields.String(allow_none=True)
    redacted = fields.Boolean()
    created_at = fields.DateTime(format="iso")
    updated_at = fields.DateTime(format="iso")
    decided_at = fields.DateTime(format="iso", allow_none=True)

    def _individual(self, row: object) -> dict | None:
        """The masked individual, for an individual verification."""
        return getattr(row, "masked", None) if getattr(row, "type", None) == "individual" else None

    def _organization(self, row: object) -> dict | None:
        """The masked organization, for an organization verification."""
        if getattr(row, "type", None) != "organization":
            return None
        return getattr(row, "masked", None)


class VerificationListArgsSchema(ListArgsSchema):
    """Filters of ``GET /v1/verifications``."""

    reference = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))


class VerificationListSchema(ListSchema):
    """A page of verifications."""

    data = fields.List(fields.Nested(VerificationSchema), required=True)
