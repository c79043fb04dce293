"""Schemas of verifications: the create body, the document upload, the object and its list.

The schemas check shape and types (422 ``validation_failed``); the service layer then
checks each identifier with its library and answers its own code (``id_number_invalid`` …).
"""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import RAISE, Schema, ValidationError, fields, post_dump, validate

from kyc_service.domain.checks import CheckStatus
from kyc_service.domain.subject import CERTIFICATE_TYPES, ENTITY_KINDS
from kyc_service.domain.verification import Status, SubjectType
from schemas.common import ListArgsSchema, ListSchema, UtcTimestamp
from schemas.vocabulary import CHECK_NAMES, DOCUMENT_KINDS, PURPOSES

TEXT = validate.Length(min=1, max=200)


class StrictSchema(Schema):
    """Refuses unknown fields."""

    class Meta:
        unknown = RAISE


class JsonBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` only (no ``"true"``, ``1`` or ``"yes"``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class ConsentSchema(StrictSchema):
    """The subject's separate consent, with the purposes it covers."""

    granted = JsonBoolean(
        required=True,
        metadata={"description": "JSON `true` only: no string or number stands for consent."},
    )
    policy_version = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The version of the privacy policy consented to."},
    )
    purposes = fields.List(
        fields.String(validate=TEXT, metadata={"enum": list(PURPOSES)}),
        required=True,
        metadata={
            "description": "What the consent covers: `real_name_authentication` always, "
            "`bank_card_verification` with a bank card, `bank_account_verification` for an "
            "organization, `facial_recognition` with `options.face_match` (else 422 "
            "`consent_required`)."
        },
    )


class BankCardInputSchema(StrictSchema):
    """A UnionPay card and the phone number reserved at the bank."""

    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reserved_phone = fields.String(required=True, validate=validate.Length(min=1, max=20))


class IndividualInputSchema(StrictSchema):
    """A person's data, as submitted (returned masked only)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    phone = fields.String(validate=validate.Length(min=1, max=20))
    bank_card = fields.Nested(BankCardInputSchema)


class OrganizationPersonSchema(StrictSchema):
    """The legal representative, or the agent who acts for the organization."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    phone = fields.String(validate=validate.Length(min=1, max=20))


class BankAccountInputSchema(StrictSchema):
    """The organization's corporate account (proven by a micro-deposit)."""

    bank_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    account_number = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ContactInputSchema(StrictSchema):
    """Who to reach at the organization."""

    name = fields.String(validate=validate.Length(min=1, max=100))
    phone = fields.String(validate=validate.Length(min=1, max=20))
    email = fields.String(validate=validate.Length(min=1, max=254))


class OrganizationInputSchema(StrictSchema):
    """An organization's data (API.md § Organization body)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=40))
    entity_kind = fields.String(required=True, validate=validate.OneOf(ENTITY_KINDS))
    certificate_type = fields.String(required=True, validate=validate.OneOf(CERTIFICATE_TYPES))
    legal_representative = fields.Nested(OrganizationPersonSchema, required=True)
    agent = fields.Nested(OrganizationPersonSchema)
    bank_account = fields.Nested(BankAccountInputSchema, required=True)
    contact = fields.Nested(ContactInputSchema)


class OptionsSchema(StrictSchema):
    """Options of a verification."""

    face_match = fields.Boolean(load_default=False)


class CreateVerificationSchema(StrictSchema):
    """``POST /v1/verifications``."""

    type = fields.String(required=True, validate=validate.OneOf([t.value for t in SubjectType]))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=255))
    consent = fields.Nested(ConsentSchema)
    individual = fields.Nested(IndividualInputSchema)
    organization = fields.Nested(OrganizationInputSchema)
    options = fields.Nested(OptionsSchema, load_default=dict)


class DocumentUploadSchema(Schema):
    """``POST /v1/verifications/{id}/documents``: one ``multipart/form-data`` body.

    Its text field ``kind`` and its file part ``file`` are read together (location
    ``form_and_files`` of :mod:`kyc_service.api.uploads`), so both are documented, and
    refused, at once.
    """

    kind = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={
            "enum": list(DOCUMENT_KINDS),
            "description": "The document's kind. An individual takes `id_card_front`, "
            "`id_card_back`, and `selfie` when created with `options.face_match: true`; an "
            "organization `certificate`, `legal_rep_id_card_front`, `legal_rep_id_card_back`, "
            "`legal_rep_photo` (face match), and with an agent `power_of_attorney`, "
            "`agent_id_card_front`, `agent_id_card_back`. Another kind answers 422 "
            "`document_kind_invalid`.",
            "example": "id_card_front",
        },
    )
    file = Upload(
        required=True,
        metadata={"description": "The image: JPEG, PNG or WebP (10 MB, 40 megapixels by default)."},
    )


class DocumentQualitySchema(Schema):
    """What the service measured of an accepted image, where it matters.

    On an ID card: where the card was found and how (``method``: ``scan`` edge to edge,
    ``scan_margin``, ``photo``; ``corners`` top-left, top-right, bottom-right, bottom-left
    in the image's pixels), the sharpness of its printed fields and the glare on it, and
    ``faces`` in its portrait's place. On a selfie: the face box's width, sharpness and
    glare. ``sharpness`` is 0–1 (higher is sharper); ``glare`` the share of the region
    under its largest blown-out patch.
    """

    width = fields.Integer()
    height = fields.Integer()
    sharpness = fields.Float(allow_none=True)
    glare = fields.Float(allow_none=True)
    card_found = fields.Boolean(allow_none=True)
    method = fields.String(allow_none=True)
    corners = fields.List(fields.List(fields.Float()), allow_none=True)
    faces = fields.Integer(allow_none=True)
    face_width = fields.Integer(allow_none=True)


class DocumentSchema(Schema):
    """An accepted document (the image itself is never returned)."""

    id = fields.String(metadata={"example": "doc_…"})
    object = fields.Constant("document")
    kind = fields.String(metadata={"enum": list(DOCUMENT_KINDS)})
    status = fields.String(metadata={"enum": ["accepted"]})
    quality = fields.Nested(DocumentQualitySchema)


class CheckSchema(Schema):
    """One check's result: ``pending``, ``passed``, ``failed``, ``skipped`` or ``error``."""

    name = fields.String(required=True, metadata={"enum": list(CHECK_NAMES)})
    status = fields.Enum(CheckStatus, by_value=True, required=True)
    code = fields.String(
        allow_none=True, metadata={"description": "Why it failed (API.md § Check names)."}
    )
    score = fields.Float(allow_none=True, metadata={"description": "Face match: 0–1."})
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        attribute="fields",
        metadata={
            "description": "Addition: the submitted fields the document did not match "
            "(`id_card_ocr`, `agent_id_card_ocr`: `name`, `id_number`), by name only."
        },
    )

    @post_dump
    def _fields_when_named(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Show ``fields`` only on a check that names some."""
        if not data.get("fields"):
            data.pop("fields", None)
        return data


class LastErrorSchema(Schema):
    """The error that holds the verification up or explains its decision."""

    code = fields.String(required=True)
    message = fields.String()


class MaskedCardSchema(Schema):
    """A bank card as shown: its last four digits and type."""

    last4 = fields.String(required=True)
    type = fields.String(required=True)


class MaskedIndividualSchema(Schema):
    """A person, masked: ``张*``, ``1101**********1234``, ``138****5678``."""

    name = fields.String(required=True)
    id_number = fields.String(required=True)
    phone = fields.String(allow_none=True)
    bank_card = fields.Nested(MaskedCardSchema, allow_none=True)


class MaskedPersonSchema(Schema):
    """A representative or agent, masked."""

    name = fields.String(required=True)
    id_number = fields.String(required=True)
    phone = fields.String(allow_none=True)


class MaskedBankAccountSchema(Schema):
    """The corporate account: the bank's name and the account number's last 4 digits."""

    bank_name = fields.String(required=True)
    last4 = fields.String(required=True)


class MaskedContactSchema(Schema):
    """The contact, masked."""

    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class MaskedOrganizationSchema(Schema):
    """An organization: its name in full, the USCC's middle and the people masked."""

    name = fields.String(required=True)
    uscc = fields.String(required=True)
    entity_kind = fields.String(required=True)
    certificate_type = fields.String(required=True)
    legal_representative = fields.Nested(MaskedPersonSchema, required=True)
    agent = fields.Nested(MaskedPersonSchema, allow_none=True)
    bank_account = fields.Nested(MaskedBankAccountSchema, required=True)
    contact = fields.Nested(MaskedContactSchema)


class VerificationOptionsSchema(Schema):
    """The options the verification was created with."""

    face_match = fields.Boolean(required=True)


class VerificationSchema(Schema):
    """A verification, with personal data masked (see API.md § Verifications).

    Dumps the domain's ``Verification`` entity: the views return the entity, and this
    schema alone decides the JSON (the webhook payload is held to the same shape by a test).
    """

    id = fields.String(required=True)
    object = fields.Constant("verification")
    type = fields.Enum(SubjectType, by_value=True, required=True)
    mode = fields.String(required=True)
    reference = fields.String(required=True)
    status = fields.Enum(Status, by_value=True, required=True)
    requirements = fields.List(
        fields.String(metadata={"example": "document.id_card_front"}),
        metadata={"description": "What is still missing: `document.<kind>` for each document."},
    )
    checks = fields.List(fields.Nested(CheckSchema))
    last_error = fields.Nested(LastErrorSchema, allow_none=True)
    individual = fields.Nested(MaskedIndividualSchema, allow_none=True)
    organization = fields.Nested(MaskedOrganizationSchema, allow_none=True)
    options = fields.Nested(VerificationOptionsSchema)
    attempt = fields.Integer()
    parent_id = fields.String(allow_none=True)
    redacted = fields.Boolean()
    created_at = UtcTimestamp()
    updated_at = UtcTimestamp()
    decided_at = UtcTimestamp(allow_none=True)


class VerificationListArgsSchema(ListArgsSchema):
    """Filters of ``GET /v1/verifications``."""

    reference = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))


class VerificationListSchema(ListSchema):
    """A page of verifications."""

    data = fields.List(fields.Nested(VerificationSchema), required=True)


class DepositConfirmationSchema(StrictSchema):
    """``POST /v1/verifications/{id}/deposit-confirmation``: the amount seen on the statement."""

    amount = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "Yuan, two decimals: `0.37`.", "example": "0.37"},
    )


class ReviewSchema(StrictSchema):
    """``POST /v1/ops/verifications/{id}/review``."""

    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = fields.String(validate=validate.Length(max=1000))


class ReviewQueueArgsSchema(ListArgsSchema):
    """``GET /v1/ops/verifications``: by default the review queue (``status=in_review``)."""

    status = fields.String(
        load_default=Status.IN_REVIEW.value, validate=validate.OneOf([s.value for s in Status])
    )


class ReviewReasonsSchema(Schema):
    """Why a verification waits for a person, and since when."""

    reasons = fields.List(
        fields.Nested(CheckSchema),
        required=True,
        metadata={"description": "the checks that failed softly or could not run"},
    )
    since = UtcTimestamp(required=True)
    waiting_seconds = fields.Integer(required=True)


class ReviewQueueItemSchema(VerificationSchema):
    """A verification in the queue, with ``review``: its reasons and its wait."""

    review = fields.Function(lambda entry: ReviewReasonsSchema().dump(entry), required=True)


class ReviewQueueSchema(ListSchema):
    """A page of the review queue, oldest first."""

    data = fields.List(fields.Nested(ReviewQueueItemSchema), required=True)


class ReverifySchema(StrictSchema):
    """``POST /v1/ops/verifications/{id}/reverify``: why the subject is verified again."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
