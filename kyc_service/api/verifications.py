"""``/v1/verifications``: create, read, list, upload documents, submit, cancel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kyc_service.api.context import current_principal, requires, services
from kyc_service.api.documentation import READ, WRITE, documented_errors
from kyc_service.api.problems import also_checks
from kyc_service.api.uploads import FORM_AND_FILES, UploadBlueprint
from kyc_service.domain.access import Scope
from kyc_service.domain.errors import InvalidRequest
from kyc_service.domain.verification import Verification
from kyc_service.services import deposits, documents, verifications
from kyc_service.services.input_problems import creation_problems
from kyc_service.services.pipeline import lease_token
from schemas.common import ErrorSchema
from schemas.examples import CREATE_EXAMPLES
from schemas.verifications import (
    CreateVerificationSchema,
    DepositConfirmationSchema,
    DocumentSchema,
    DocumentUploadSchema,
    VerificationListArgsSchema,
    VerificationListSchema,
    VerificationSchema,
)

blueprint = UploadBlueprint(
    "verifications",
    __name__,
    url_prefix="/v1/verifications",
    description="Verifications of individuals and organizations: create one, upload its "
    "documents, submit it, follow it to its decision.",
)


def _creation_problems(valid: Mapping[str, Any]) -> list[InvalidRequest]:
    """The create use case's checks of what the schema accepted (today in China)."""
    return creation_problems(valid, verifications.today_in_china(services().clock()))


@blueprint.post("")
@documented_errors(blueprint, *WRITE)
@also_checks(_creation_problems)
@blueprint.arguments(CreateVerificationSchema(), examples=CREATE_EXAMPLES)  # one instance
@blueprint.response(201, VerificationSchema)
@blueprint.alt_response(
    422,
    schema=ErrorSchema,
    description="Invalid data, consent or age: every problem under `errors`",
)
@requires(Scope.VERIFICATIONS_WRITE)
def create_verification(body: dict[str, Any]) -> Verification:
    """Create a verification of an individual or an organization.

    Scope `verifications:write`. The personal data is validated (ID number, USCC and bank
    card checksums, mainland phones, names, age of 14 or more, consent covering what the
    request needs), sealed, and returned masked only. A 422 stores nothing and lists every
    problem of the body under `errors`. The answer's `requirements` name the documents to
    upload next.
    """
    return verifications.create_verification(
        services().unit_of_work(), services().vault, current_principal(), body
    )


@blueprint.get("")
@documented_errors(blueprint, *READ)
@blueprint.arguments(VerificationListArgsSchema, location="query")
@blueprint.response(200, VerificationListSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="No or bad API key")
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@requires(Scope.VERIFICATIONS_READ)
def list_verifications(args: dict[str, Any]) -> dict[str, Any]:
    """List verifications, newest first.

    Scope `verifications:read`. Filter by `reference` (the caller's subject) and `status`;
    page with `limit` and `starting_after`.
    """
    page = verifications.list_verifications(services().unit_of_work(), current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}


@blueprint.get("/<verification_id>")
@documented_errors(blueprint, *READ, 404)
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description="Unknown or foreign id")
@requires(Scope.VERIFICATIONS_READ)
def get_verification(verification_id: str) -> Verification:
    """Retrieve one verification, personal data masked.

    Scope `verifications:read`. Its `status`, its `checks` and `last_error` say where it
    stands and why; an unknown or another tenant's id answers 404.
    """
    return verifications.get_verification(
        services().unit_of_work(), current_principal(), verification_id
    )


@blueprint.post("/<verification_id>/documents")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.arguments(DocumentUploadSchema(), location=FORM_AND_FILES)
@blueprint.response(201, DocumentSchema)
@blueprint.alt_response(413, schema=ErrorSchema, description="File or image too large")
@blueprint.alt_response(415, schema=ErrorSchema, description="Not JPEG, PNG or WebP")
@blueprint.alt_response(422, schema=ErrorSchema, description="Unreadable, too small, no face…")
@requires(Scope.VERIFICATIONS_WRITE)
def upload_document(upload: dict[str, Any], verification_id: str) -> dict[str, Any]:
    """Upload a document image: one multipart/form-data body with `kind` and `file`.

    Scope `verifications:write`. JPEG, PNG or WebP; the image is decoded, checked (a refusal
    names what the person can do: `image_blurry`, `document_not_detected`, …), stripped of
    its metadata, re-encoded and sealed. A second upload of the same kind replaces the
    first. `curl -F kind=id_card_front -F file=@front.jpg …`
    """
    data = upload["file"].read()
    return documents.accept_document(
        services(), current_principal(), verification_id, upload["kind"], data
    )


@blueprint.post("/<verification_id>/submit")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(202, schema=VerificationSchema, description="Queued for a worker")
@blueprint.alt_response(409, schema=ErrorSchema, description="Documents missing or wrong state")
@requires(Scope.VERIFICATIONS_WRITE)
def submit_verification(verification_id: str) -> Any:
    """Submit a verification whose documents are all uploaded: its checks run.

    Scope `verifications:write`. Answers 200 with the decision when the checks run in the
    service's process, 202 `processing` when a worker pool runs them (follow it by polling
    or webhooks); 409 `requirements_missing` while documents are missing.
    """
    app_services = services()
    principal = current_principal()
    submitted = verifications.submit_verification(
        app_services.unit_of_work(),
        app_services.vault,
        principal,
        verification_id,
        verifications.checks_lease(app_services.settings),
    )
    finished = app_services.runner.submit(
        "run_checks", verification_id=submitted.id, lease=lease_token(submitted)
    )
    current = verifications.get_verification(app_services.unit_of_work(), principal, submitted.id)
    return current, 200 if finished else 202


@blueprint.post("/<verification_id>/cancel")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(409, schema=ErrorSchema, description="Already final")
@requires(Scope.VERIFICATIONS_WRITE)
def cancel_verification(verification_id: str) -> Verification:
    """Cancel a verification that is not final yet.

    Scope `verifications:write`. A verification already `verified`, `rejected` or
    `canceled` answers 409 `invalid_state`.
    """
    return verifications.cancel_verification(
        services().unit_of_work(), services().vault, current_principal(), verification_id
    )


@blueprint.post("/<verification_id>/deposit-confirmation")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.arguments(DepositConfirmationSchema)
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(409, schema=ErrorSchema, description="No deposit awaited")
@blueprint.alt_response(410, schema=ErrorSchema, description="deposit_expired")
@blueprint.alt_response(422, schema=ErrorSchema, description="deposit_amount_mismatch")
@requires(Scope.VERIFICATIONS_WRITE)
def confirm_deposit(body: dict[str, Any], verification_id: str) -> Verification:
    """Confirm the micro-deposit's amount seen on the organization's statement.

    Scope `verifications:write`. For a verification in `awaiting_confirmation`: 3 attempts,
    72 h by default (test mode: the amount is always `0.32`). A wrong amount answers 422
    `deposit_amount_mismatch` with `attempts_remaining`.
    """
    return deposits.confirm_deposit(
        services().unit_of_work(),
        services().vault,
        current_principal(),
        verification_id,
        body["amount"],
    )
