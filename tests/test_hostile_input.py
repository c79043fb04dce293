"""Issue 10, items 12–15, 19 and 20: bad input that answered 500, and what answers carry.

Each test is named after its item. They run on SQLite and PostgreSQL (NUL bytes are what
PostgreSQL refuses in text).
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import stat

import pytest
from PIL import Image
from sqlalchemy import text

from kyc_service.persistence.database import make_engine
from tests.conftest import assert_error
from tests.helpers import create
from tests.synthetic import individual_body

rng = random.Random(10)


def post_json(client, auth, path: str, raw: str | bytes):
    return client.post(path, data=raw, headers={**auth, "Content-Type": "application/json"})


def test_item_12_an_image_side_over_65500_pixels_is_413(client, auth):
    verification_id = create(client, auth, individual_body(rng)).get_json()["id"]
    out = io.BytesIO()
    Image.new("L", (320, 70_000), 255).save(out, "PNG")
    response = client.post(
        f"/v1/verifications/{verification_id}/documents",
        data={"kind": "id_card_front", "file": (io.BytesIO(out.getvalue()), "tall.png")},
        headers=auth,
    )
    assert_error(response, 413, "payload_too_large", "image_too_large")


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 50_000 + "]" * 50_000,
        '{"reference": ' + "9" * 5_000 + "}",
        '{"a":' * 100 + "1" + "}" * 100,
    ],
    ids=["nested-50000", "integer-5000-digits", "nested-100"],
)
def test_item_13_deep_json_and_huge_integers_are_400(client, auth, raw):
    response = post_json(client, auth, "/v1/verifications", raw)
    assert_error(response, 400, "invalid_request", "validation_failed")


@pytest.mark.parametrize(
    ("path", "field"),
    [("/v1/verifications", "reference"), ("/v1/webhook-endpoints", "url")],
)
def test_item_14_a_lone_surrogate_is_422(client, auth, path, field):
    body = individual_body(rng) if field == "reference" else {"events": ["*"]}
    raw = json.dumps(body)[:-1] + f', "{field}": "ab\\ud800cd"}}'
    error = assert_error(
        post_json(client, auth, path, raw), 422, "invalid_request", "validation_failed"
    )
    assert error["field"] == field


def test_item_15_a_nul_byte_is_404_or_422_never_500(client, auth):
    assert_error(
        client.get("/v1/verifications/ver_%00x", headers=auth), 404, "not_found", "resource_missing"
    )
    error = assert_error(
        client.get("/v1/verifications?reference=a%00b", headers=auth),
        422,
        "invalid_request",
        "validation_failed",
    )
    assert error["field"] == "reference"
    body = individual_body(rng, reference="user\u0000one")
    error = assert_error(
        post_json(client, auth, "/v1/verifications", json.dumps(body)),
        422,
        "invalid_request",
        "validation_failed",
    )
    assert error["field"] == "reference"
    forged = {"Authorization": "Bearer kyc_test_" + "a" * 20 + "\u0000" + "b" * 20}
    assert_error(
        client.get("/v1/verifications", headers=forged), 401, "authentication", "api_key_invalid"
    )


def test_item_19_a_failed_statement_never_carries_its_parameters(app_config, caplog):
    engine = make_engine(app_config["DATABASE_URL"])
    secret = "user-4242-secret-reference"
    try:
        with engine.connect() as connection, pytest.raises(Exception) as failed:
            connection.execute(
                text("SELECT * FROM no_such_table WHERE reference = :r"), {"r": secret}
            )
        logging.getLogger("test").error("failed", exc_info=failed.value)
    finally:
        engine.dispose()
    assert secret not in str(failed.value)
    assert secret not in caplog.text
    assert "no_such_table" in str(failed.value)  # the statement's shape is kept


def test_item_20_security_headers_on_every_answer(client, auth):
    for response in (
        client.get("/v1/verifications", headers=auth),
        client.get("/v1/verifications"),
        client.get("/healthz"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert "X-Request-Id" in response.headers
    docs = client.get("/docs")
    assert "default-src 'none'" in docs.headers["Content-Security-Policy"]
    assert docs.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("granted", ["true", 1, "yes"])
def test_item_20_consent_granted_takes_only_json_true(client, auth, granted):
    body = individual_body(rng)
    body["consent"]["granted"] = granted
    error = assert_error(create(client, auth, body), 422, "invalid_request", "validation_failed")
    assert error["field"] == "consent.granted"


def test_item_20_sqlite_files_are_owner_only(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/data/kyc.db")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        engine.dispose()
    files = [f for f in os.listdir(tmp_path / "data") if f.startswith("kyc.db")]
    assert "kyc.db" in files
    for name in files:
        assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name


def test_item_4_unauthenticated_calls_are_limited_per_client_address(app_config):
    from kyc_service.app import create_app

    app = create_app({**app_config, "UNAUTHENTICATED_RATE_LIMIT": "3 per minute"})
    try:
        client = app.test_client()
        bad = {"Authorization": "Bearer kyc_test_" + "x" * 40}
        statuses = [client.get("/v1/verifications", headers=bad).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        limited = client.get("/v1/verifications")
        error = assert_error(limited, 429, "rate_limited", "too_many_requests")
        assert int(limited.headers["Retry-After"]) >= 1 and error["request_id"]
        other = client.get(
            "/v1/verifications", headers=bad, environ_base={"REMOTE_ADDR": "127.0.0.2"}
        )
        assert other.status_code == 401  # another client address has its own count
        assert client.get("/healthz").status_code == 200
    finally:
        app.extensions["kyc"].close()


def test_item_17_405_names_the_allowed_methods(client, auth):
    response = client.delete("/v1/verifications", headers=auth)
    assert_error(response, 405, "invalid_request", "method_not_allowed")
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_item_20_metrics_answer_only_the_allowed_addresses(client):
    assert client.get("/metrics").status_code == 200
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert_error(far, 404, "not_found", "resource_missing")


def png_16bit_rgba(width: int, height: int) -> bytes:
    """A blank 16-bit RGBA PNG, built row by row (a small file that decodes huge)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    squeeze = zlib.compressobj(9)
    row = b"\x00" + b"\x00\x00\x00\x00\x00\x00\xff\xff" * width
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def resident_bytes() -> int:
    """This process's resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_item_2_eight_parallel_40_megapixel_uploads_stay_under_2_gb(app, client, auth):
    """Issue 10, item 2: a 40 MP 16-bit RGBA PNG took ~1.3 GB in one worker."""
    import threading

    from tests.test_races import at_once

    image = png_16bit_rgba(8000, 5000)
    assert len(image) < 2_000_000
    ids = [create(client, auth, individual_body(rng)).get_json()["id"] for _ in range(8)]
    baseline = resident_bytes()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], resident_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def upload(verification_id: str):
        return app.test_client().post(
            f"/v1/verifications/{verification_id}/documents",
            data={"kind": "id_card_front", "file": (io.BytesIO(image), "big.png")},
            headers=auth,
        )

    try:
        answers = at_once(*[lambda v=v: upload(v) for v in ids])
    finally:
        done.set()
        sampler.join()
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    assert peak[0] - baseline < 2 * 1024**3, (peak[0] - baseline) / 1024**2
