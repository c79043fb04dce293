"""The error answers every operation may give, documented in the contract's error shape.

``@documented_errors(blueprint, 401, 403, …)`` goes right under the route decorator: it adds
each status that the view does not document yet, with the one error schema (API.md §
Errors), so a client sees every 4xx it must handle and the shape of its body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

from schemas.common import ErrorSchema

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The body could not be parsed (`validation_failed`): malformed JSON, nested too deep.",
    401: "No API key (`api_key_missing`) or an unknown one (`api_key_invalid`).",
    403: "The key lacks the operation's scope (`scope_missing`).",
    404: "No such object, or another tenant's or mode's (`resource_missing`).",
    409: "The object's state does not allow it (`invalid_state`), or an `Idempotency-Key` "
    "reused with another body (`idempotency_key_reused`).",
    413: "The body is too large (`file_too_large`).",
    415: "The body is not of the type the operation takes (`unsupported_media_type`).",
    422: "The request is invalid: `code`, `message` and `field` name the first problem, "
    "`errors` lists every problem found.",
    429: "Too many requests (`too_many_requests`, with `Retry-After`).",
}
"""The statuses any operation may answer, and why."""

READ = (401, 403, 404, 422, 429)
"""What a read may answer besides its own errors (404: an unknown `starting_after`)."""
WRITE = (400, 401, 403, 409, 413, 415, 422, 429)
"""What a ``POST`` may answer besides its own errors."""


def _listed(view: Callable[..., Any]) -> set[str]:
    """Return the statuses the view documents already (as strings)."""
    responses = getattr(view, "_apidoc", {}).get("response", {}).get("responses", {})
    return {str(status) for status in responses}


def documented_errors(
    blueprint: Blueprint, *statuses: int, descriptions: dict[int, str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document ``statuses`` with the error schema, for those the view leaves out
    (``descriptions``: the operation's own words for some of them)."""
    described = {**ERROR_DESCRIPTIONS, **(descriptions or {})}

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        listed = _listed(view)
        for status in statuses:
            if str(status) not in listed:
                view = blueprint.alt_response(
                    status, schema=ErrorSchema, description=described[status]
                )(view)
        return view

    return decorate
