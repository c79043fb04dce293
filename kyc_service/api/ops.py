"""``/v1/ops``: what the operations team does (scope ``ops``): review, usage."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from kyc_service.api.context import current_principal, requires, services
from kyc_service.api.documentation import READ, WRITE, documented_errors
from kyc_service.domain.access import Scope
from kyc_service.domain.verification import Verification
from kyc_service.services.audit_events import list_audit_events
from kyc_service.services.pipeline import lease_token
from kyc_service.services.reverify import reverify
from kyc_service.services.review import review_queue, review_verification
from kyc_service.services.upstream_calls import usage, usage_period
from kyc_service.services.verifications import get_verification
from schemas.audit import AuditEventArgsSchema, AuditEventListSchema
from schemas.common import ErrorSchema
from schemas.usage import UsageArgsSchema, UsageSchema
from schemas.verifications import (
    ReverifySchema,
    ReviewQueueArgsSchema,
    ReviewQueueSchema,
    ReviewSchema,
    VerificationSchema,
)

blueprint = Blueprint(
    "ops", __name__, url_prefix="/v1/ops", description="Review and re-verification (scope ops)."
)


@blueprint.post("/verifications/<verification_id>/review")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.arguments(ReviewSchema)
@blueprint.response(200, VerificationSchema)
@blueprint.alt_response(409, schema=ErrorSchema, description="Not in review")
@requires(Scope.OPS)
def review(body: dict[str, Any], verification_id: str) -> Verification:
    """Decide a verification in ``in_review``: approve (it resumes) or reject.

    Scope `ops`. An approval resumes the verification where it stopped (an organization
    goes on to its micro-deposit); a rejection is final. Audited, with the note.
    """
    return review_verification(
        services(), current_principal(), verification_id, body["decision"], body.get("note")
    )


@blueprint.get("/usage")
@documented_errors(blueprint, *READ)
@blueprint.arguments(UsageArgsSchema, location="query")
@blueprint.response(200, UsageSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@blueprint.alt_response(422, schema=ErrorSchema, description="A bad or too long period")
@requires(Scope.OPS)
def upstream_usage(args: dict[str, Any]) -> dict[str, Any]:
    """Upstream verifier calls of the key's tenant and mode, per role and provider.

    Scope `ops`. In `[from, to)` (by default the last 30 days): count, billable count and
    outcomes, from the call ledger (no personal data).
    """
    kyc, principal = services(), current_principal()
    start, end = usage_period(kyc.clock(), args["start"], args["end"])
    data = usage(kyc, principal.tenant_id, principal.mode, start, end, principal.key_id)
    return {"start": start, "end": end, "mode": principal.mode.value, "data": data}


@blueprint.get("/verifications")
@documented_errors(blueprint, *READ)
@blueprint.arguments(ReviewQueueArgsSchema, location="query")
@blueprint.response(200, ReviewQueueSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@requires(Scope.OPS)
def queue(args: dict[str, Any]) -> dict[str, Any]:
    """The review queue, oldest first.

    Scope `ops`. `status=in_review` by default; each verification with the checks that
    sent it there and how long it has waited.
    """
    kyc = services()
    page = review_queue(kyc.unit_of_work(), kyc.vault, current_principal(), kyc.clock(), **args)
    return {"data": page.data, "has_more": page.has_more}


@blueprint.get("/audit-events")
@documented_errors(blueprint, *READ)
@blueprint.arguments(AuditEventArgsSchema, location="query")
@blueprint.response(200, AuditEventListSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@requires(Scope.OPS)
def audit_events(args: dict[str, Any]) -> dict[str, Any]:
    """Who did what to which subject, and when (the audit chain).

    Scope `ops`. Newest first, masked (never plain personal data); `verification=` and
    `reference=` narrow it.
    """
    kyc = services()
    page = list_audit_events(kyc.unit_of_work(), kyc.vault, current_principal(), **args)
    return {"data": page.data, "has_more": page.has_more}


@blueprint.post("/verifications/<verification_id>/reverify")
@documented_errors(blueprint, *WRITE, 404)
@blueprint.arguments(ReverifySchema)
@blueprint.response(201, VerificationSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Scope missing")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such verification")
@blueprint.alt_response(409, schema=ErrorSchema, description="The data was erased or expired")
@requires(Scope.OPS)
def reverify_verification(body: dict[str, Any], verification_id: str) -> Verification:
    """Verify the subject again from the data held (no new uploads).

    Scope `ops`. A new verification (`parent_id`, `attempt` + 1), submitted at once; the
    parent is untouched. 409 when the data was erased or is past its retention.
    """
    kyc, principal = services(), current_principal()
    child = reverify(kyc, principal, verification_id, body["reason"])
    kyc.runner.submit("run_checks", verification_id=child.id, lease=lease_token(child))
    return get_verification(kyc.unit_of_work(), principal, child.id)
