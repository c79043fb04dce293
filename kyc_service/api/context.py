"""Per-request context: the request id, the authenticated principal, scope checks."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, g, request
from werkzeug.exceptions import HTTPException

from kyc_service.domain.access import Principal, Scope
from kyc_service.domain.errors import AuthenticationFailed, PermissionDenied
from kyc_service.services.api_keys import RecentPrincipals, authenticate

if TYPE_CHECKING:
    from kyc_service.bootstrap import Services

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_PATHS = frozenset({"/v1/openapi.json"})


def services() -> Services:
    """Return the process's services (built by the composition root)."""
    return current_app.extensions["kyc"]


def assign_request_id() -> None:
    """Give the request its id (``req_…``), echoed in ``X-Request-Id``."""
    g.request_id = "req_" + secrets.token_hex(12)


def authenticate_request() -> None:
    """Authenticate every ``/v1`` call with its bearer key."""
    if not request.path.startswith("/v1/") or request.path in PUBLIC_PATHS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header:
        raise AuthenticationFailed("no API key was given", code="api_key_missing")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AuthenticationFailed("use 'Authorization: Bearer <api key>'", code="api_key_invalid")
    recent: RecentPrincipals = current_app.extensions["kyc_recent_principals"]
    g.principal = authenticate(services().unit_of_work(), presented.strip(), recent)


def current_principal() -> Principal:
    """Return the authenticated caller of this request."""
    return g.principal


def requires(scope: Scope) -> Callable[[F], F]:
    """Refuse the view with 403 ``scope_missing`` unless the key carries ``scope``.

    The scope is also kept on the view (``required_scope``), so the idempotency hook can
    refuse before it looks a stored response up.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_principal().can(scope):
                raise PermissionDenied(f"this key lacks the scope {scope.value}")
            return view(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]  (read before idempotency)
        return wrapper  # type: ignore[return-value]

    return decorate


def check_scope_of_view() -> None:
    """Refuse now (403) a request whose view needs a scope the caller's key lacks — before
    its arguments are read, and also when its method is not allowed: a key that holds none
    of the scopes of a path's views learns nothing of what lies behind them (no 404, 405
    or 422 first). ``OPTIONS`` is answered as Flask does."""
    if request.method == "OPTIONS" or "principal" not in g:
        return
    principal = current_principal()
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None:
        scopes = [getattr(view, "required_scope", None)]
    else:
        scopes = _scopes_of_other_methods()
    needed = [scope for scope in scopes if scope is not None]
    if needed and not any(principal.can(scope) for scope in needed):
        raise PermissionDenied(f"this key lacks the scope {needed[0].value}")


def _scopes_of_other_methods() -> list[Scope | None]:
    """The scopes of the views on the request's path under its allowed methods (a 405)."""
    allowed = getattr(request.routing_exception, "valid_methods", None) or []
    adapter = current_app.url_map.bind_to_environ(request.environ)
    scopes: list[Scope | None] = []
    for method in sorted(allowed):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        view = current_app.view_functions.get(str(endpoint))
        scopes.append(getattr(view, "required_scope", None))
    return scopes
