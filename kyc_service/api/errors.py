"""Every failure leaves as the contract's error shape, with a request id and no stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from kyc_service.domain.errors import MAX_PROBLEMS, KycError, problem_entry

log = logging.getLogger(__name__)

HTTP_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("invalid_request", "validation_failed", "the request could not be parsed"),
    404: ("not_found", "resource_missing", "no such resource"),
    405: ("invalid_request", "method_not_allowed", "this method is not allowed here"),
    413: ("payload_too_large", "file_too_large", "the request body is too large"),
    415: ("unsupported_media_type", "unsupported_media_type", "this content type is not accepted"),
    422: ("invalid_request", "validation_failed", "the request failed validation"),
}


def error_response(
    status: int,
    type_: str,
    code: str,
    message: str,
    *,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build ``{"error": {...}}`` with the current request id."""
    body: dict[str, Any] = {
        "type": type_,
        "code": code,
        "message": message,
        "field": field,
        "request_id": g.get("request_id"),
    }
    body.update(extra or {})
    response = jsonify({"error": body})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _first_field(messages: Any, path: tuple[str, ...] = ()) -> tuple[str, str]:
    """Return the dotted path and the message of the first validation error."""
    if isinstance(messages, dict) and messages:
        key = sorted(messages, key=str)[0]
        return _first_field(messages[key], (*path, str(key)))
    if isinstance(messages, list) and messages:
        return _first_field(messages[0], path)
    return ".".join(path), str(messages)


def _every_field(messages: Any, path: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Return the dotted path and message of every validation error, sorted by path."""
    if isinstance(messages, dict):
        return [
            found
            for key in sorted(messages, key=str)
            for found in _every_field(messages[key], (*path, str(key)))
        ]
    if isinstance(messages, list) and messages and not all(isinstance(m, str) for m in messages):
        return [found for item in messages for found in _every_field(item, path)]
    if isinstance(messages, list):
        return [(".".join(path), str(messages[0]) if messages else "is invalid")]
    return [(".".join(path), str(messages))]


def _overlaps(field: str | None, listed: set[str]) -> bool:
    """Tell whether ``field`` is, holds or lies under a field the schema already reported."""
    if not field:
        return False
    return any(
        field == other or other.startswith(f"{field}.") or field.startswith(f"{other}.")
        for other in listed
    )


def _domain_problems(exc: HTTPException, listed: set[str]) -> list[dict[str, Any]]:
    """The view's own checks (``@also_checks``) run on what its schema accepted, for the
    fields the schema did not already refuse."""
    view = current_app.view_functions.get(request.endpoint or "")
    checker = getattr(view, "domain_problems", None)
    valid = getattr(getattr(exc, "exc", None), "valid_data", None)
    if checker is None or not isinstance(valid, dict):
        return []
    return [
        problem_entry(problem) for problem in checker(valid) if not _overlaps(problem.field, listed)
    ]


def _validation_error(exc: HTTPException) -> Response:
    """Turn flask-smorest's 422 into ``validation_failed``: the first bad field, and all
    (with the view's own checks of the rest of the body)."""
    messages = getattr(exc, "data", {}).get("messages", {})
    location = next(iter(messages), None)
    field_path, message = _first_field(messages.get(location, {}) if location else {})
    every = _every_field(messages.get(location, {})) if location else []
    errors = [
        {"field": path or None, "code": "validation_failed", "message": f"{path}: {text}"}
        for path, text in every
    ]
    errors += _domain_problems(exc, {path for path, _ in every if path})
    return error_response(
        422,
        "invalid_request",
        "validation_failed",
        f"{field_path}: {message}" if field_path else "the request failed validation",
        field=field_path or None,
        extra={
            "errors": errors[:MAX_PROBLEMS]
            or [
                {
                    "field": None,
                    "code": "validation_failed",
                    "message": "the request failed validation",
                }
            ]
        },
    )


def handle_kyc_error(exc: KycError) -> Response:
    """Answer a deliberate error as it says; a 422 lists its problems under ``errors``."""
    extra = dict(exc.extra)
    if exc.status == 422 and "errors" not in extra:
        extra["errors"] = [problem_entry(exc)]
    return error_response(
        exc.status,
        exc.type,
        exc.code,
        exc.message,
        field=exc.field,
        extra=extra,
        headers=exc.headers,
    )


KEPT_HEADERS = frozenset({"Allow", "Retry-After", "WWW-Authenticate"})
"""Headers of Werkzeug's errors that the contract's answer keeps (405 names ``Allow``)."""


def handle_http_exception(exc: HTTPException) -> Response:
    """Answer Werkzeug's and flask-smorest's errors in the contract's shape."""
    status = exc.code or 500
    if status == 422:
        return _validation_error(exc)
    type_, code, message = HTTP_ERRORS.get(
        status, ("invalid_request", "validation_failed", "the request was refused")
    )
    if status >= 500:
        type_, code, message = "internal", "internal_error", "an unexpected error occurred"
    kept = {name: value for name, value in exc.get_headers() if name in KEPT_HEADERS}
    return error_response(status, type_, code, message, headers=kept)


def _broken_request_body(exc: BaseException) -> bool:
    """A body the server could not read: malformed chunks, a client gone mid-body."""
    module = type(exc).__module__
    return module.startswith("gunicorn.http") or type(exc).__name__ == "ClientDisconnected"


def handle_unexpected(exc: Exception) -> Response:
    """Answer 503 when the database cannot be reached; else log the failure (masked) and
    answer 500 with the request id only."""
    from kyc_service.api.context import services

    if _broken_request_body(exc):
        return error_response(
            400, "invalid_request", "validation_failed", "the request body could not be read"
        )
    if services().database_unreachable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return error_response(
            503, "unavailable", "database_unavailable", "the database is unavailable"
        )
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return error_response(500, "internal", "internal_error", "an unexpected error occurred")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers (after flask-smorest, whose HTTP handler this replaces)."""
    app.register_error_handler(KycError, handle_kyc_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
