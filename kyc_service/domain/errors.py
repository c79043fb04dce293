"""The error tree every layer raises; the API turns it into the contract's error shape.

Messages never carry submitted personal data: they name the field, never its value.
"""

from __future__ import annotations

from typing import Any


class KycError(Exception):
    """Root of every error the service answers with on purpose."""

    status = 400
    type = "invalid_request"
    code = "validation_failed"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class InvalidRequest(KycError):
    """The request is malformed or fails validation (422)."""

    status = 422


MAX_PROBLEMS = 50
"""The most problems one answer lists."""

ERROR_CODES: tuple[str, ...] = (
    # 400/422 invalid_request
    "validation_failed",
    "id_number_invalid",
    "name_invalid",
    "phone_invalid",
    "bank_card_invalid",
    "uscc_invalid",
    "email_invalid",
    "url_invalid",
    "consent_required",
    "subject_underage",
    "document_kind_invalid",
    "image_unreadable",
    "image_too_small",
    "image_blurry",
    "image_glare",
    "document_not_detected",
    "document_side_swapped",
    "no_face_found",
    "multiple_faces",
    "face_too_small",
    "deposit_amount_mismatch",
    "code_incorrect",
    "method_not_allowed",
    # 401, 403, 404
    "api_key_missing",
    "api_key_invalid",
    "scope_missing",
    "resource_missing",
    # 409
    "idempotency_key_reused",
    "idempotency_key_in_use",
    "requirements_missing",
    "invalid_state",
    "webhook_endpoint_exists",
    "webhook_endpoint_limit",
    # 410, 413, 415, 429
    "code_expired",
    "deposit_expired",
    "file_too_large",
    "image_too_large",
    "unsupported_file_type",
    "unsupported_media_type",
    "too_many_requests",
    "too_many_attempts",
    # 5xx
    "upstream_unavailable",
    "database_unavailable",
    "internal_error",
)
"""Every ``error.code`` the service answers with (API.md § Errors, and its additions).

The OpenAPI document lists them as the code's ``enum``; a new code is added here first
(``tests/test_errors.py`` finds any code written in the service's source that is not)."""


class Problems:
    """Collects every validation problem of a request, to report them all at once.

    ``check(function, *args)`` runs one validator and returns its value, or None after
    noting its :class:`InvalidRequest`; ``raise_if_any()`` then raises the first problem,
    with every one of them under ``errors`` (API.md § Errors).
    """

    def __init__(self) -> None:
        self.found: list[InvalidRequest] = []

    def check(self, function: Any, *args: Any) -> Any:
        """Return ``function(*args)``, or None when it raised an InvalidRequest (noted)."""
        try:
            return function(*args)
        except InvalidRequest as problem:
            self.found.append(problem)
            return None

    def raise_if_any(self) -> None:
        """Raise the first problem, listing every problem in ``errors``."""
        if not self.found:
            return
        first = self.found[0]
        if first.status != InvalidRequest.status:
            raise first
        listed = self.found[:MAX_PROBLEMS]
        raise InvalidRequest(
            first.message,
            code=first.code,
            field=first.field,
            extra={"errors": [problem_entry(problem) for problem in listed]},
        )


def problem_entry(problem: KycError) -> dict[str, Any]:
    """One item of the ``errors`` list: field, code and message."""
    return {"field": problem.field, "code": problem.code, "message": problem.message}


class DeliveryFailed(Exception):
    """A webhook POST that did not reach the receiver or got no answer (short, safe message)."""


class BadRequest(InvalidRequest):
    """The request cannot be parsed at all (400)."""

    status = 400


class AuthenticationFailed(KycError):
    """No API key, or one that is not known (401)."""

    status = 401
    type = "authentication"
    code = "api_key_invalid"


class PermissionDenied(KycError):
    """The key lacks a scope the call needs (403)."""

    status = 403
    type = "permission"
    code = "scope_missing"


class ResourceMissing(KycError):
    """Unknown, foreign or other-mode object (404)."""

    status = 404
    type = "not_found"
    code = "resource_missing"


class Conflict(KycError):
    """The request conflicts with the state of an object (409)."""

    status = 409
    type = "conflict"
    code = "invalid_state"


class Gone(KycError):
    """Something that existed has expired (410)."""

    status = 410
    type = "gone"
    code = "code_expired"


class PayloadTooLarge(KycError):
    """The body or an image is over a limit (413)."""

    status = 413
    type = "payload_too_large"
    code = "file_too_large"


class UnsupportedMediaType(KycError):
    """The body or a file is of a type the call does not take (415)."""

    status = 415
    type = "unsupported_media_type"
    code = "unsupported_file_type"


class RateLimited(KycError):
    """Too many requests or attempts (429, with Retry-After)."""

    status = 429
    type = "rate_limited"
    code = "too_many_requests"


class UpstreamUnavailable(KycError):
    """An upstream verifier did not answer; the call may be retried (503).

    ``billable`` is true when the verifier said it charged the call although its answer
    was of no use (a refused payment or message): the call ledger counts it.
    """

    status = 503
    type = "upstream_unavailable"
    code = "upstream_unavailable"

    def __init__(self, message: str, *, billable: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.billable = billable


class ServiceUnavailable(KycError):
    """A dependency of the service itself is down (503)."""

    status = 503
    type = "unavailable"
    code = "database_unavailable"
