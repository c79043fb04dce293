"""``/v1/verifications``: create, read, list, upload documents, submit, cancel."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.domain.access import Scope
from kyc_service.domain.verification import Verification
from kyc_service.services import deposits, documents, verifications
from kyc_service.services.pipeline import lease_token
from schemas.common import ErrorSchema
from schemas.verifications import (
    CreateVerificationSchema,
    DepositConfirmationSchema,
    DocumentFileSchema,
    DocumentFormSchema,
    DocumentSchema,
    VerificationListArgsSchema,
    VerificationListSchema,
    VerificationSchema,
)

blueprint = Blueprint(
    "verifications",
    __name__,
    url_prefix="/v1/verifications",
    description="Verifications of individuals (and, later, organizations).",
)


@blueprint.post("")
@blueprint.arguments(CreateVerificationSchema())  # one instance, not one per request
@blueprint.response(201, VerificationSchema)
@blueprint.alt_response(422, schema=ErrorSchema, description="Invalid data, consent or age")
@requires(Scope.VERIFICATIONS_WRITE)
def create_verification(body: dict[str, Any]) -> Verification:
    """Create a verification. Personal data is validated, sealed, and returned masked only."""
    return verifications.create_verification(
        services().unit_of_work(), services().vault, current_principal(), body
    )


@blueprint.get("")
@blueprint.arguments(VerificationListArgsSchema, location="query")
@blueprint.response(200, VerificationListSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="No or bad API key")
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@requires(Scope.VERIFICATIONS_READ)
def list_verifications(args: dict[str, Any]) -> dict[str, Any]:
    """List verifications, newest first; filter by ``reference`` and ``status``."""
    page = verifications.list_verifications(services().unit_of_work(), current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}


@blueprint.get("/<verification_id>")
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description="Unknown or foreign id")
@requires(Scope.VERIFICATIONS_READ)
def get_verification(verification_id: str) -> Verification:
    """Retrieve one verification, personal data masked."""
    return verifications.get_verification(
        services().unit_of_work(), current_principal(), verification_id
    )


@blueprint.post("/<verification_id>/documents")
@blueprint.arguments(DocumentFormSchema, location="form")
@blueprint.arguments(DocumentFileSchema, location="files")
@blueprint.response(201, DocumentSchema)
@blueprint.alt_response(413, schema=ErrorSchema, description="File or image too large")
@blueprint.alt_response(415, schema=ErrorSchema, description="Not JPEG, PNG or WebP")
@blueprint.alt_response(422, schema=ErrorSchema, description="Unreadable, too small, no face…")
@requires(Scope.VERIFICATIONS_WRITE)
def upload_document(
    form: dict[str, Any], files: dict[str, Any], verification_id: str
) -> dict[str, Any]:
    """Upload a document image (multipart ``kind`` and ``file``); it is re-encoded and sealed."""
    data = files["file"].read()
    return documents.accept_document(
        services(), current_principal(), verification_id, form["kind"], data
    )


@blueprint.post("/<verification_id>/submit")
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(202, schema=VerificationSchema, description="Queued for a worker")
@blueprint.alt_response(409, schema=ErrorSchema, description="Documents missing or wrong state")
@requires(Scope.VERIFICATIONS_WRITE)
def submit_verification(verification_id: str) -> Any:
    """Run the checks: answers the decision (in-process) or ``processing`` (202, worker pool)."""
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
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(409, schema=ErrorSchema, description="Already final")
@requires(Scope.VERIFICATIONS_WRITE)
def cancel_verification(verification_id: str) -> Verification:
    """Cancel a verification that is not final yet."""
    return verifications.cancel_verification(
        services().unit_of_work(), services().vault, current_principal(), verification_id
    )


@blueprint.post("/<verification_id>/deposit-confirmation")
@blueprint.arguments(DepositConfirmationSchema)
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(409, schema=ErrorSchema, description="No deposit awaited")
@blueprint.alt_response(410, schema=ErrorSchema, description="deposit_expired")
@blueprint.alt_response(422, schema=ErrorSchema, description="deposit_amount_mismatch")
@requires(Scope.VERIFICATIONS_WRITE)
def confirm_deposit(body: dict[str, Any], verification_id: str) -> Verification:
    """Confirm the micro-deposit's amount (3 attempts, 72 h by default)."""
    return deposits.confirm_deposit(
        services().unit_of_work(),
        services().vault,
        current_principal(),
        verification_id,
        body["amount"],
    )
