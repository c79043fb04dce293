"""``@also_checks(checker)``: a view's own checks, run when its schema refuses the body.

The schema's 422 then lists the problems of shape and the checks of the use case together
(``kyc_service.api.errors``), so a form marks all its fields at once (API.md § Errors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kyc_service.domain.errors import InvalidRequest

Checker = Callable[[Mapping[str, Any]], list[InvalidRequest]]


def also_checks(checker: Checker) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach ``checker``: given what the schema accepted, it returns the other problems."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.domain_problems = checker  # type: ignore[attr-defined]
        return view

    return decorate
