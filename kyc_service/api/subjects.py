"""``/v1/subjects/{reference}``: the data subject's rights (a copy, consent withdrawal,
erasure)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.api.documentation import READ, WRITE, documented_errors
from kyc_service.domain.access import Scope
from kyc_service.services.subject_rights import export_subject, withdraw_consent
from kyc_service.services.subjects import erase_subject
from schemas.common import ErrorSchema
from schemas.subjects import (
    ConsentWithdrawalResultSchema,
    ConsentWithdrawalSchema,
    ExportArgsSchema,
    SubjectExportSchema,
)

blueprint = Blueprint(
    "subjects", __name__, url_prefix="/v1/subjects", description="The data subject's rights."
)


@blueprint.delete("/<path:reference>")
@documented_errors(blueprint, *READ, 404)
@blueprint.response(204)
@blueprint.alt_response(404, schema=ErrorSchema, description="A reference never used")
@requires(Scope.SUBJECTS_ERASE)
def erase(reference: str) -> None:
    """Erase the subject's personal data and documents (its data key is destroyed).

    Scope `subjects:erase`. Its verifications remain as ``redacted: true`` shells with
    status and check results.
    """
    erase_subject(services().unit_of_work(), services().vault, current_principal(), reference)


@blueprint.get("/<path:reference>/export")
@documented_errors(blueprint, *READ, 404)
@blueprint.arguments(ExportArgsSchema, location="query")
@blueprint.response(200, SubjectExportSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@blueprint.alt_response(404, schema=ErrorSchema, description="A reference never used")
@requires(Scope.SUBJECTS_EXPORT)
def export(args: dict[str, Any], reference: str) -> dict[str, Any]:
    """A copy of every piece of personal data held about the subject.

    Scope `subjects:export`. Unmasked, with what each piece is used for and when it will be
    deleted (`?include=documents` adds the images). Audited. After erasure: no personal
    data, and when it was erased.
    """
    kyc = services()
    return export_subject(
        kyc.unit_of_work(),
        kyc.vault,
        current_principal(),
        reference,
        include_documents=args.get("include") == "documents",
    )


@blueprint.post("/<path:reference>/consent-withdrawal")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.arguments(ConsentWithdrawalSchema)
@blueprint.response(200, ConsentWithdrawalResultSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@blueprint.alt_response(404, schema=ErrorSchema, description="A reference never used")
@requires(Scope.SUBJECTS_ERASE)
def consent_withdrawal(body: dict[str, Any], reference: str) -> dict[str, Any]:
    """Withdraw the subject's consent for some purposes.

    Scope `subjects:erase`. What was held only for them is deleted (for
    `facial_recognition`: selfies, representatives' photos, face scores); verifications
    under way that need them are canceled (`consent_withdrawn`); withdrawing
    `real_name_authentication` erases the subject.
    """
    kyc = services()
    return withdraw_consent(
        kyc.unit_of_work(), kyc.vault, current_principal(), reference, body["purposes"]
    )
