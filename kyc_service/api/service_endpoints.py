"""``/healthz``, ``/readyz``, ``/metrics`` and the offline assets of ``/docs``."""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from kyc_service.api.context import services
from kyc_service.api.errors import error_response

blueprint = Blueprint("service", __name__)

SWAGGER_ASSETS = "/docs/assets/"


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """Both databases answer and are migrated to this version; else 503 ``database_unavailable``."""
    problem = services().not_ready()
    if problem is not None:
        return error_response(503, "unavailable", "database_unavailable", problem)
    return jsonify({"status": "ready"})


def _may_scrape() -> bool:
    """Tell whether the caller's address is one of ``KYC_METRICS_ALLOW`` (default loopback)."""
    try:
        caller = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    allowed = str(current_app.config.get("METRICS_ALLOW") or "")
    return any(
        caller in ipaddress.ip_network(net.strip(), strict=False)
        for net in allowed.split(",")
        if net.strip()
    )


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition, for the addresses of ``KYC_METRICS_ALLOW`` only (404 else)."""
    if not _may_scrape():
        return error_response(404, "not_found", "resource_missing", "no such resource")
    body, content_type = services().metrics.exposition()
    return Response(body, content_type=content_type)


@blueprint.get(SWAGGER_ASSETS + "<path:filename>")
def docs_asset(filename: str) -> Response:
    """Swagger UI's scripts and styles, served from the installed package (no CDN)."""
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)
