"""Helpers shared by tests: seeding verifications, a probe route that creates objects."""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import func, select

from kyc_service.api.context import current_principal, requires, services
from kyc_service.domain.access import Principal, Scope
from kyc_service.domain.ids import new_id
from kyc_service.persistence.tables import VerificationRow
from kyc_service.services.api_keys import authenticate

_counter = itertools.count()


def create(client, auth, body):
    """POST a verification."""
    return client.post("/v1/verifications", json=body, headers=auth)


def upload(client, auth, verification_id, kind, data, filename="photo.jpg"):
    """POST a document upload (multipart ``kind`` and ``file``)."""
    return client.post(
        f"/v1/verifications/{verification_id}/documents",
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        headers=auth,
        content_type="multipart/form-data",
    )


def submit(client, auth, verification_id):
    """POST a submit."""
    return client.post(f"/v1/verifications/{verification_id}/submit", headers=auth)


def checks_of(body):
    """The checks of a verification as {name: (status, code)}."""
    return {c["name"]: (c["status"], c["code"]) for c in body["checks"]}


def principal_of(app: Flask, headers: dict[str, str]) -> Principal:
    """Return the principal behind an Authorization header."""
    key = headers["Authorization"].removeprefix("Bearer ")
    return authenticate(app.extensions["kyc"].unit_of_work(), key)


def seed_verification(
    app: Flask,
    headers: dict[str, str],
    *,
    reference: str = "user-1",
    status: str = "requires_input",
) -> str:
    """Store a verification owned by the key's tenant and mode; return its id."""
    principal = principal_of(app, headers)
    now = datetime.now(UTC)
    row = VerificationRow(
        id=new_id("ver"),
        tenant_id=principal.tenant_id,
        mode=principal.mode.value,
        type="individual",
        reference=reference,
        status=status,
        requirements=[],
        checks=[],
        masked={"name": "张*", "id_number": "1101**********123X", "phone": None, "bank_card": None},
        options={},
        attempt=1,
        redacted=False,
        created_at=now,
        updated_at=now,
    )
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.session.add(row)
        uow.commit()
    return row.id


def count_verifications(app: Flask) -> int:
    """Count every stored verification, of every tenant."""
    with app.extensions["kyc"].unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(VerificationRow))


def add_probe_routes(app: Flask) -> None:
    """Add test-only ``/v1/_probe/…`` routes: one that creates an object, one that fails."""
    probe = Blueprint("probe", __name__, url_prefix="/v1/_probe")

    @probe.post("/objects")
    @requires(Scope.VERIFICATIONS_WRITE)
    def create_object():
        body = request.get_json()
        principal = current_principal()
        now = datetime.now(UTC)
        row = VerificationRow(
            id=new_id("ver"),
            tenant_id=principal.tenant_id,
            mode=principal.mode.value,
            type="individual",
            reference=str(body.get("reference", "probe")),
            status="requires_input",
            requirements=[],
            checks=[],
            masked={},
            options={},
            attempt=1,
            redacted=False,
            created_at=now,
            updated_at=now,
        )
        with services().unit_of_work() as uow:
            uow.session.add(row)
            uow.commit()
        current_app.extensions.setdefault("probe_calls", []).append(next(_counter))
        return jsonify({"id": row.id, "object": "probe"}), 201

    @probe.post("/explode")
    def explode():
        raise RuntimeError("boom with 11010519491231002X and 13800138000")

    app.register_blueprint(probe)


@contextmanager
def serving_in_thread(app) -> Iterator[str]:  # noqa: ANN001 - any WSGI app
    """Serve ``app`` on a free loopback port, in a thread; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


VERIFIER_ROLES = ("IDENTITY", "PORTRAIT", "BANK", "REGISTRY", "ACCOUNT", "SMS")


def production_config(
    database_url: str,
    keystore_url: str,
    *,
    http_url: str,
    secret: str,
    timeout: float = 5,
    roles: tuple[str, ...] = VERIFIER_ROLES,
    rate_limit: str = "10000 per second",
) -> dict:
    """App settings for live keys in production: ``roles`` on the ``http`` adapter to the
    verifier at ``http_url``; a test adds its other providers' settings."""
    config = {
        "DATABASE_URL": database_url,
        "KEYSTORE_URL": keystore_url,
        "RATE_LIMIT": rate_limit,
        "TESTING": True,
        "ENV": "production",
        "KEK": os.environ["KYC_KEK"],
    }
    for role in roles:
        config |= {
            f"{role}_ADAPTER": "http",
            f"{role}_URL": http_url,
            f"{role}_SECRET": secret,
            f"{role}_TIMEOUT": timeout,
        }
    return config
