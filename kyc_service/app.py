"""The Flask application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_smorest import Api
from limits import parse

from kyc_service import __version__
from kyc_service.api import (
    errors,
    idempotency,
    ops,
    phone_verifications,
    rate_limit_storage,
    service_endpoints,
    subjects,
    verifications,
    webhooks,
)
from kyc_service.api.context import (
    assign_request_id,
    authenticate_request,
    check_scope_of_view,
    services,
)
from kyc_service.api.json_answers import KycJsonProvider, declare_utf8
from kyc_service.api.request_guard import guard_request
from kyc_service.bootstrap import bootstrap
from kyc_service.config import load_settings
from kyc_service.domain.errors import AuthenticationFailed, RateLimited, UnsupportedMediaType
from kyc_service.observability.logs import configure_logging
from kyc_service.services.api_keys import RecentPrincipals
from schemas.common import ErrorSchema

access_log = logging.getLogger("kyc_service.access")

OPENAPI_SETTINGS: dict[str, Any] = {
    "API_TITLE": "KYC verification service",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "v1/openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": service_endpoints.SWAGGER_ASSETS,
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "info": {"description": "Real-name verification of individuals and organizations."},
    },
}


class KycApi(Api):
    """flask-smorest's Api, documenting the contract's error shape as the default error."""

    ERROR_SCHEMA = ErrorSchema


JSON_TYPES = frozenset({"application/json", "multipart/form-data"})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service: settings, logging, the composition root, the API and its hooks."""
    settings = load_settings(config)
    configure_logging(str(settings["LOG_LEVEL"]))
    app = Flask(__name__)
    app.config.from_mapping(settings)
    app.config.update({k: v for k, v in OPENAPI_SETTINGS.items() if k not in app.config})
    app.config["MAX_CONTENT_LENGTH"] = int(float(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024) + 65536
    app.json = KycJsonProvider(app)
    app.extensions["kyc"] = bootstrap(app.config)
    app.extensions["kyc_recent_principals"] = RecentPrincipals(
        float(app.config["AUTH_CACHE_SECONDS"])
    )
    _register_hooks(app)
    api = KycApi(app)
    api.register_blueprint(verifications.blueprint)
    api.register_blueprint(phone_verifications.blueprint)
    api.register_blueprint(webhooks.blueprint)
    api.register_blueprint(webhooks.events_blueprint)
    api.register_blueprint(subjects.blueprint)
    api.register_blueprint(ops.blueprint)
    app.register_blueprint(service_endpoints.blueprint)
    errors.register_error_handlers(app)
    return app


def _register_hooks(app: Flask) -> None:
    """Request id, timing, content type, authentication, the view's scope, request guard, rate
    limit, idempotency."""
    app.before_request(_start_request)
    app.before_request(_refuse_unknown_body_type)
    app.before_request(_authenticate_or_count)
    app.before_request(guard_request)
    _rate_limiter(app)
    app.before_request(check_scope_of_view)
    idempotency.register(app)
    app.after_request(_finish_request)
    app.after_request(declare_utf8)


def _start_request() -> None:
    """Assign the request id and start the clock."""
    assign_request_id()
    g.started = time.perf_counter()


def _authenticate_or_count() -> None:
    """Authenticate the request; a refused one counts against its client address.

    Unauthenticated calls have their own limit per client address
    (``KYC_UNAUTHENTICATED_RATE_LIMIT``), kept where the per-key limit is (Redis when
    ``KYC_REDIS_URL`` is set, so every process shares it): past it, 429 instead of 401.
    """
    try:
        authenticate_request()
    except AuthenticationFailed:
        limiter = current_app.extensions["kyc_limiter"]
        limit = parse(str(current_app.config["UNAUTHENTICATED_RATE_LIMIT"]))
        if not limiter.limiter.hit(limit, "unauthenticated", request.remote_addr or "-"):
            reset_at, _ = limiter.limiter.get_window_stats(
                limit, "unauthenticated", request.remote_addr or "-"
            )
            retry_after = max(1, int(reset_at - time.time()))
            raise RateLimited(
                "too many requests", headers={"Retry-After": str(retry_after)}
            ) from None
        raise


UPLOAD_ENDPOINT = "verifications.upload_document"
UPLOAD_TYPE_MESSAGE = "send the document as multipart/form-data with the fields kind and file"


def _refuse_unknown_body_type() -> None:
    """A ``/v1`` body must be JSON (or multipart for uploads): else 415, saying what the
    endpoint takes (an upload: multipart ``kind`` and ``file``; anything else: JSON)."""
    if (
        request.path.startswith("/v1/")
        and request.content_length
        and request.mimetype not in JSON_TYPES
    ):
        message = (
            UPLOAD_TYPE_MESSAGE
            if request.endpoint == UPLOAD_ENDPOINT
            else "send the body as application/json"
        )
        raise UnsupportedMediaType(message, code="unsupported_media_type")


def _rate_limiter(app: Flask) -> Limiter:
    """Limit requests per API key (across processes when ``KYC_REDIS_URL`` is set)."""
    limiter = Limiter(
        key_func=lambda: g.principal.key_id if "principal" in g else (request.remote_addr or "-"),
        default_limits=[str(app.config["RATE_LIMIT"])],
        storage_uri=app.config.get("REDIS_URL") or f"{rate_limit_storage.SCHEME}://",
        headers_enabled=False,
        default_limits_exempt_when=lambda: not request.path.startswith("/v1/"),
    )
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response:
        reset_at = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 1
        retry_after = max(1, int(reset_at - time.time()))
        return errors.handle_kyc_error(
            RateLimited("too many requests", headers={"Retry-After": str(retry_after)})
        )

    app.extensions["kyc_limiter"] = limiter
    return limiter


DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
"""What the offline Swagger UI of ``/docs`` needs, and nothing more."""


def _security_headers(response: Response) -> None:
    """No sniffing, no framing, no caching of API answers, a CSP on the docs."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/docs"):
        response.headers["Content-Security-Policy"] = DOCS_CSP
    else:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"


def _finish_request(response: Response) -> Response:
    """Echo the request id, count the request, and log it (without the path's values)."""
    response.headers["X-Request-Id"] = g.get("request_id", "")
    _security_headers(response)
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    services().metrics.observe(endpoint, request.method, response.status_code, seconds)
    access_log.info(
        "%s %s %s",
        request.method,
        endpoint,
        response.status_code,
        extra={"status": response.status_code, "duration_ms": round(seconds * 1000, 2)},
    )
    return response


__all__ = ["create_app", "__version__"]
