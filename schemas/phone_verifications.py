"""Schemas of signup phone verification: start, check, and the phone verification object."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from kyc_service.domain.phone import PENDING, VERIFIED
from schemas.common import UtcTimestamp


def _six_digits(code: str) -> None:
    """Refuse anything but exactly six ASCII digits (no trailing newline, no other digits)."""
    if len(code) != 6 or not all("0" <= digit <= "9" for digit in code):
        raise ValidationError("the code has 6 digits")


class PhoneVerificationRequestSchema(Schema):
    """``POST /v1/phone-verifications``: the mainland mobile number to send a code to."""

    phone = fields.String(
        required=True,
        metadata={
            "example": "13800138000",
            "description": "A mainland mobile number, with or without `+86`.",
        },
    )


class PhoneVerificationCheckSchema(Schema):
    """``POST /v1/phone-verifications/{id}/check``: the 6-digit code the person received."""

    code = fields.String(
        required=True,
        validate=_six_digits,
        metadata={
            "pattern": "^[0-9]{6}$",
            "example": "000000",
            "description": "The code sent by SMS (always `000000` in test mode).",
        },
    )


class PhoneVerificationSchema(Schema):
    """A phone verification; the phone masked (``138****8000``)."""

    id = fields.String(required=True)
    object = fields.Constant("phone_verification")
    status = fields.String(required=True, validate=validate.OneOf([PENDING, VERIFIED]))
    phone = fields.String(attribute="phone_masked", required=True)
    expires_at = UtcTimestamp(required=True)
    created_at = UtcTimestamp(required=True)
