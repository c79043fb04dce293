"""Exceptions: one root, :class:`KycError`, and one subclass per error ``type`` of the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KycError(Exception):
    """An error answer of the KYC service (``{"error": {...}}``), or a failure to reach it.

    ``status`` is the HTTP status (``None`` when no answer came), ``type``, ``code``,
    ``message`` and ``field`` name the first problem, ``errors`` lists every problem of a
    422 answer, and ``details`` holds the whole error object (``attempts_remaining``,
    ``requirements`` …). The request body is never part of the message.
    """

    def __init__(
        self,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        message: str = "",
        field: str | None = None,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id
        self.errors = list(errors or [])
        self.details = dict(details or {})
        self.headers = dict(headers or {})
        super().__init__(self._summary())

    def _summary(self) -> str:
        """One line: status, type/code, message, field and request id (never the body)."""
        parts = [str(self.status) if self.status is not None else "no answer"]
        if self.type or self.code:
            parts.append(f"{self.type or '?'}/{self.code or '?'}")
        text = " ".join(parts) + (f": {self.message}" if self.message else "")
        if self.field:
            text += f" (field {self.field})"
        if self.request_id:
            text += f" [{self.request_id}]"
        return text


class ApiConnectionError(KycError):
    """The service could not be reached, or did not answer in time."""


class SignatureVerificationError(KycError):
    """A webhook's ``KYC-Signature`` does not match its body, or is too old."""


class InvalidRequestError(KycError):
    """400/422 ``invalid_request``: bad input (``field`` and ``errors`` say which)."""

    @property
    def attempts_remaining(self) -> int | None:
        """Attempts left after a wrong SMS code or deposit amount, when the answer says."""
        return self.details.get("attempts_remaining")


class AuthenticationError(KycError):
    """401 ``authentication``: the API key is missing or invalid."""


class PermissionDeniedError(KycError):
    """403 ``permission``: the API key lacks the scope."""


PermissionError_ = PermissionDeniedError


class NotFoundError(KycError):
    """404 ``not_found``: unknown id, or another tenant's."""


class ConflictError(KycError):
    """409 ``conflict``: wrong state, missing requirements, a reused idempotency key …"""

    @property
    def requirements(self) -> list[str]:
        """What is still missing, on ``requirements_missing``."""
        return list(self.details.get("requirements") or [])


class GoneError(KycError):
    """410 ``gone``: an SMS code or a deposit expired."""


class PayloadTooLargeError(KycError):
    """413 ``payload_too_large``: the file or image is too large."""


class UnsupportedMediaTypeError(KycError):
    """415 ``unsupported_media_type``: not JPEG, PNG or WebP."""


class RateLimitError(KycError):
    """429 ``rate_limited``: too many requests or attempts."""

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait, from the ``Retry-After`` header, when it is a number."""
        value = self.headers.get("Retry-After") or self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ServiceUnavailableError(KycError):
    """503 ``unavailable`` / ``upstream_unavailable``: try again later."""


class InternalServerError(KycError):
    """500 ``internal``: an unexpected failure of the service (it has the request id)."""


ERRORS_BY_TYPE: dict[str, type[KycError]] = {
    "invalid_request": InvalidRequestError,
    "authentication": AuthenticationError,
    "permission": PermissionDeniedError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "gone": GoneError,
    "payload_too_large": PayloadTooLargeError,
    "unsupported_media_type": UnsupportedMediaTypeError,
    "rate_limited": RateLimitError,
    "unavailable": ServiceUnavailableError,
    "upstream_unavailable": ServiceUnavailableError,
    "internal": InternalServerError,
}

ERRORS_BY_STATUS: dict[int, type[KycError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: InvalidRequestError,
    429: RateLimitError,
    500: InternalServerError,
    503: ServiceUnavailableError,
}


def error_from_answer(
    status: int, payload: Any, headers: Mapping[str, str], request_id: str | None = None
) -> KycError:
    """Build the exception for an error answer: its JSON ``payload`` and headers."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        cls = ERRORS_BY_STATUS.get(status, KycError)
        return cls(
            status,
            message=f"HTTP {status} without the error shape",
            request_id=request_id,
            headers=headers,
        )
    cls = ERRORS_BY_TYPE.get(str(error.get("type")), ERRORS_BY_STATUS.get(status, KycError))
    return cls(
        status,
        error.get("type"),
        error.get("code"),
        str(error.get("message") or ""),
        error.get("field"),
        error.get("request_id") or request_id,
        error.get("errors"),
        details=error,
        headers=headers,
    )
