"""Helpers shared by tests: seeding verifications, a probe route that creates objects."""

from __future__ import annotations

import io
import ipaddress
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 and its key; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def counted_connections(monkeypatch) -> list[tuple[str, int]]:  # noqa: ANN001 - pytest's
    """The addresses of the connections urllib3 opens from now on, in order."""
    import urllib3.util.connection

    opened: list[tuple[str, int]] = []
    connect = urllib3.util.connection.create_connection

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - urllib3's own signature
        opened.append(args[0])
        return connect(*args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counted)
    return opened
