"""Schemas of signup phone verification: start, check, and the phone verification object."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class PhoneVerificationRequestSchema(Schema):
    """``POST /v1/phone-verifications``: the mainland mobile number to send a code to."""

    phone = fields.String(required=True, metadata={"example": "13800138000"})


class PhoneVerificationCheckSchema(Schema):
    """``POST /v1/phone-verifications/{id}/check``: the 6-digit code the person received."""

    code = fields.String(
        required=True,
        validate=validate.Regexp(r"[0-9]{6}\Z", error="the code has 6 digits"),
        metadata={"example": "123456"},
    )


class PhoneVerificationSchema(Schema):
    """A phone verification; the phone masked (``138****8000``)."""

    id = fields.String(required=True)
    object = fields.Constant("phone_verification")
    status = fields.String(required=True, validate=validate.OneOf(["pending", "verified"]))
    phone = fields.String(attribute="phone_masked", required=True)
    expires_at = fields.DateTime(format="iso", required=True)
    created_at = fields.DateTime(format="iso", required=True)
