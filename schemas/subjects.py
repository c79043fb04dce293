"""``/v1/subjects/{reference}``: the subject's copy of their data, and consent withdrawal."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.verifications import StrictSchema
from schemas.vocabulary import DOCUMENT_KINDS, PURPOSES


class ExportArgsSchema(Schema):
    """``?include=documents`` adds the document images (base64)."""

    include = fields.String(load_default=None, validate=validate.OneOf(["documents"]))


class HeldFieldSchema(Schema):
    """One personal field, unmasked, with its purposes and deletion time."""

    verification_id = fields.String(required=True)
    name = fields.String(required=True, metadata={"example": "individual.name"})
    value = fields.String(required=True)
    purposes = fields.List(fields.String(metadata={"enum": list(PURPOSES)}), required=True)
    delete_after = fields.String(allow_none=True)


class HeldDocumentSchema(Schema):
    """One document held: kind, size, purposes, deletion time; ``image`` on request."""

    id = fields.String(required=True)
    verification_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(DOCUMENT_KINDS)})
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    purposes = fields.List(fields.String(), required=True)
    created_at = fields.String(required=True)
    delete_after = fields.String(allow_none=True)
    image = fields.String(metadata={"description": "base64, with ?include=documents"})


class SubjectExportSchema(Schema):
    """Everything held about one subject."""

    object = fields.Constant("subject_export")
    reference = fields.String(required=True)
    mode = fields.String(required=True)
    created_at = fields.String(required=True)
    erased_at = fields.String(allow_none=True)
    retain_until = fields.String(allow_none=True)
    withdrawn_purposes = fields.List(fields.String(), required=True)
    fields_ = fields.List(fields.Nested(HeldFieldSchema), data_key="fields", attribute="fields")
    documents = fields.List(fields.Nested(HeldDocumentSchema), required=True)
    verifications = fields.List(fields.Dict(), required=True)


class ConsentWithdrawalSchema(StrictSchema):
    """``{"purposes": ["facial_recognition"]}``."""

    purposes = fields.List(
        fields.String(validate=validate.OneOf(PURPOSES)),
        required=True,
        validate=validate.Length(min=1, max=len(PURPOSES)),
        metadata={
            "description": "The purposes withdrawn; `real_name_authentication` erases the subject."
        },
    )


class ConsentWithdrawalResultSchema(Schema):
    """What a withdrawal did."""

    object = fields.Constant("consent_withdrawal")
    reference = fields.String(required=True)
    purposes = fields.List(fields.String(), required=True)
    items_deleted = fields.Integer(required=True)
    verifications_canceled = fields.List(fields.String(), required=True)
    erased = fields.Boolean(
        required=True,
        metadata={"description": "withdrawing real_name_authentication erases the subject"},
    )
