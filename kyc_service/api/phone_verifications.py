"""``/v1/phone-verifications``: send a signup code by SMS, check it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.api.documentation import WRITE, documented_errors
from kyc_service.api.problems import also_checks
from kyc_service.domain.access import Scope
from kyc_service.domain.errors import InvalidRequest, Problems
from kyc_service.domain.identifiers import validate_mobile
from kyc_service.services import phone_verifications
from schemas.common import ErrorSchema
from schemas.phone_verifications import (
    PhoneVerificationCheckSchema,
    PhoneVerificationRequestSchema,
    PhoneVerificationSchema,
)

blueprint = Blueprint(
    "phone_verifications",
    __name__,
    url_prefix="/v1/phone-verifications",
    description="One-time SMS codes that prove a signup phone number.",
)


def _phone_problems(valid: Mapping[str, Any]) -> list[InvalidRequest]:
    """The phone's own check (a mainland mobile number), when the schema refused the rest."""
    problems = Problems()
    if "phone" in valid:
        problems.check(validate_mobile, valid["phone"], "phone")
    return problems.found


@blueprint.post("")
@documented_errors(blueprint, *WRITE)
@also_checks(_phone_problems)
@blueprint.arguments(PhoneVerificationRequestSchema)
@blueprint.response(201, PhoneVerificationSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="No or bad API key")
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@blueprint.alt_response(422, schema=ErrorSchema, description="Not a mainland mobile number")
@blueprint.alt_response(429, schema=ErrorSchema, description="Send limit of the phone reached")
@requires(Scope.PHONE_WRITE)
def start_phone_verification(args: dict[str, Any]) -> Any:
    """Send a 6-digit code to a mainland mobile phone.

    Scope `phone:write`. Test mode sends nothing: the code is `000000`. At most 1 code
    per phone per 60 s and 5 per hour; the code expires after 10 minutes.
    """
    kyc, principal = services(), current_principal()
    return phone_verifications.start(
        kyc.unit_of_work(),
        principal,
        args["phone"],
        sms_sender=kyc.adapters.get("sms", principal.mode),
        index_key=kyc.vault.keystore.blind_index_key(),
        clock=kyc.clock,
        provider=kyc.adapters.name_for("sms", principal.mode),
    )


@blueprint.post("/<pv_id>/check")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.arguments(PhoneVerificationCheckSchema)
@blueprint.response(200, PhoneVerificationSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description="Unknown or foreign id")
@blueprint.alt_response(410, schema=ErrorSchema, description="The code has expired")
@blueprint.alt_response(422, schema=ErrorSchema, description="Wrong code (attempts_remaining)")
@blueprint.alt_response(429, schema=ErrorSchema, description="5 wrong codes: request a new one")
@requires(Scope.PHONE_WRITE)
def check_phone_verification(args: dict[str, Any], pv_id: str) -> Any:
    """Check the code the person received.

    Scope `phone:write`. A verified phone verification answers `verified` again; a wrong
    code answers 422 `code_incorrect` with `attempts_remaining`, an expired one 410.
    """
    return phone_verifications.check(
        services().unit_of_work(),
        current_principal(),
        pv_id,
        args["code"],
        clock=services().clock,
    )
