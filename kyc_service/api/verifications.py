"""``/v1/verifications``: read one, list them."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.domain.access import Scope
from kyc_service.services import verifications
from schemas.common import ErrorSchema
from schemas.verifications import (
    VerificationListArgsSchema,
    VerificationListSchema,
    VerificationSchema,
)

blueprint = Blueprint(
    "verifications",
    __name__,
    url_prefix="/v1/verifications",
    description="Verifications of individuals and organizations.",
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
def get_verification(verification_id: str) -> Any:
    """Retrieve one verification, personal data masked."""
    return verifications.get_verification(
        services().unit_of_work(), current_principal(), verification_id
    )
