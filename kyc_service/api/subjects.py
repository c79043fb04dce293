"""``/v1/subjects/{reference}``: the data subject's rights (erasure)."""

from __future__ import annotations

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.domain.access import Scope
from kyc_service.services.subjects import erase_subject
from schemas.common import ErrorSchema

blueprint = Blueprint(
    "subjects", __name__, url_prefix="/v1/subjects", description="The data subject's rights."
)


@blueprint.delete("/<path:reference>")
@blueprint.response(204)
@blueprint.alt_response(404, schema=ErrorSchema, description="A reference never used")
@requires(Scope.SUBJECTS_ERASE)
def erase(reference: str) -> None:
    """Erase the subject's personal data and documents (its data key is destroyed).

    Its verifications remain as ``redacted: true`` shells with status and check results.
    """
    erase_subject(services().unit_of_work(), services().vault, current_principal(), reference)
