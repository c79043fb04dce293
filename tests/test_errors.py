"""Every error this layer produces has the contract's shape and leaks nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kyc_service.api.errors import HTTP_ERRORS
from kyc_service.app import create_app
from tests.conftest import assert_error
from tests.helpers import add_probe_routes


@pytest.fixture
def probe_client(app, client):
    add_probe_routes(app)
    return client


def test_missing_key_is_401_api_key_missing(client):
    assert_error(client.get("/v1/verifications"), 401, "authentication", "api_key_missing")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer kyc_test_notarealkeyatallnotarealkey",
        "Bearer kyc_live_",
        "Bearer something",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
def test_bad_key_is_401_api_key_invalid(client, header):
    response = client.get("/v1/verifications", headers={"Authorization": header})
    assert_error(response, 401, "authentication", "api_key_invalid")


def test_key_of_other_mode_prefix_is_invalid(client, make_key):
    headers = make_key(mode="test")
    forged = headers["Authorization"].replace("kyc_test_", "kyc_live_")
    response = client.get("/v1/verifications", headers={"Authorization": forged})
    assert_error(response, 401, "authentication", "api_key_invalid")


def test_tampered_key_is_invalid(client, auth):
    tampered = auth["Authorization"][:-2] + (
        "AA" if not auth["Authorization"].endswith("AA") else "BB"
    )
    response = client.get("/v1/verifications", headers={"Authorization": tampered})
    assert_error(response, 401, "authentication", "api_key_invalid")


def test_scope_missing_is_403(client, make_key):
    headers = make_key(scopes="phone:write")
    error = assert_error(
        client.get("/v1/verifications", headers=headers), 403, "permission", "scope_missing"
    )
    assert "verifications:read" in error["message"]


def test_unknown_verification_is_404(client, auth):
    response = client.get("/v1/verifications/ver_doesnotexist", headers=auth)
    assert_error(response, 404, "not_found", "resource_missing")


def test_unknown_route_is_404(client, auth):
    assert_error(client.get("/v1/nothing-here", headers=auth), 404, "not_found", "resource_missing")


def test_wrong_method_is_405_in_shape(client, auth):
    response = client.delete("/v1/verifications", headers=auth)
    assert_error(response, 405, "invalid_request", "method_not_allowed")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("status=bogus", "status"),
    ],
)
def test_bad_query_is_422_validation_failed(client, auth, query, field):
    error = assert_error(
        client.get(f"/v1/verifications?{query}", headers=auth),
        422,
        "invalid_request",
        "validation_failed",
    )
    assert error["field"] == field


def test_malformed_json_is_400(probe_client, auth):
    response = probe_client.post(
        "/v1/_probe/objects", data="{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_request", "validation_failed")


def test_non_json_body_is_415(probe_client, auth):
    response = probe_client.post(
        "/v1/_probe/objects", data="reference=x", headers={**auth, "Content-Type": "text/plain"}
    )
    assert_error(response, 415, "unsupported_media_type", "unsupported_media_type")


def test_body_over_the_limit_is_413(app, probe_client, auth):
    too_big = b'{"reference": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = probe_client.post(
        "/v1/_probe/objects", data=too_big, headers={**auth, "Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large", "file_too_large")


def test_reused_idempotency_key_is_409(probe_client, auth):
    headers = {**auth, "Idempotency-Key": "k-409"}
    assert (
        probe_client.post(
            "/v1/_probe/objects", json={"reference": "a"}, headers=headers
        ).status_code
        == 201
    )
    response = probe_client.post("/v1/_probe/objects", json={"reference": "b"}, headers=headers)
    assert_error(response, 409, "conflict", "idempotency_key_reused")


def test_rate_limit_is_429_with_retry_after(app_config, auth):
    app_config["RATE_LIMIT"] = "3 per minute"
    app = create_app(app_config)
    from kyc_service.domain.access import ALL_SCOPES, Mode
    from kyc_service.services.api_keys import create_key

    key = create_key(
        app.extensions["kyc"].unit_of_work(), "limited", Mode.TEST, frozenset(ALL_SCOPES)
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    statuses = [client.get("/v1/verifications", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get("/v1/verifications", headers=headers)
    assert_error(response, 429, "rate_limited", "too_many_requests")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/healthz").status_code == 200
    app.extensions["kyc"].close()


def test_unexpected_failure_is_500_without_trace_or_data(probe_client, auth):
    response = probe_client.post("/v1/_probe/explode", json={}, headers=auth)
    error = assert_error(response, 500, "internal", "internal_error")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "boom" not in text
    assert "11010519491231002X" not in text and "13800138000" not in text
    assert error["field"] is None


def test_database_down_is_503(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
            "TESTING": True,
            "KEYSTORE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
        }
    )
    client = app.test_client()
    response = client.get(
        "/v1/verifications", headers={"Authorization": "Bearer kyc_test_" + "a" * 43}
    )
    assert_error(response, 503, "unavailable", "database_unavailable")
    assert "Traceback" not in response.get_data(as_text=True)
    assert_error(client.get("/readyz"), 503, "unavailable", "database_unavailable")
    assert client.get("/healthz").status_code == 200
    app.extensions["kyc"].close()


# --- issue 16: every code documented; messages that say what to do --------------------------

SOURCE = Path(__file__).resolve().parent.parent / "kyc_service"
WRITTEN_CODE = re.compile(
    r'\bcode="([a-z_]+)"'  # a keyword argument
    r'|^\s+code = "([a-z_]+)"$'  # an error class's code
    r'|error_response\(\s*\d+,\s*"[a-z_]+",\s*"([a-z_]+)"',  # a literal answer
    re.MULTILINE,
)
"""Where the service writes an error code."""


def test_every_error_code_in_the_source_is_documented():
    from kyc_service.domain.errors import ERROR_CODES
    from kyc_service.services.documents import PROBLEMS

    written = {
        code
        for path in SOURCE.rglob("*.py")
        for match in WRITTEN_CODE.finditer(path.read_text(encoding="utf-8"))
        for code in match.groups()
        if code
    }
    written |= set(PROBLEMS) | {"document_side_swapped"}
    written |= {code for _, code, _ in HTTP_ERRORS.values()}
    assert len(written) > 20
    assert written <= set(ERROR_CODES), sorted(written - set(ERROR_CODES))


def test_the_ocr_comparison_names_the_fields_that_differ_never_their_values():
    from kyc_service.domain.id_card_text import differing_fields

    number = "11010519491231002X"
    other = "440106198501010015"
    assert differing_fields("张三", number, "张三", number) == ()
    assert differing_fields("李四", number, "张三", number) == ("name",)
    assert differing_fields("张三", other, "张三", number) == ("id_number",)
    assert differing_fields("李四", other, "张三", number) == ("name", "id_number")
    assert differing_fields(None, None, "张三", number) == ()
    assert differing_fields("張三", number, "张三", number) == (), "traditional forms fold"


def test_a_selfie_without_face_match_says_how_to_ask_for_it(client, auth):
    import random

    from tests.helpers import create, upload
    from tests.synthetic import individual_body, photo_jpeg

    created = create(client, auth, individual_body(random.Random(16), face_match=False))
    response = upload(client, auth, created.get_json()["id"], "selfie", photo_jpeg())
    error = assert_error(response, 422, "invalid_request", "document_kind_invalid")
    assert "options.face_match: true" in error["message"]
    assert error["field"] == "kind"


def test_an_ocr_mismatch_names_the_fields_in_the_check_and_the_message():
    from kyc_service.domain.checks import CheckResult
    from kyc_service.domain.id_card_text import id_card_ocr_check
    from kyc_service.domain.verification import Status, decide
    from schemas.verifications import CheckSchema

    number = "11010519491231002X"
    lines = ["姓名 李四", f"公民身份号码 {number}"]
    result = id_card_ocr_check(lines, "张三", number)
    assert (result.code, result.fields) == ("ocr_mismatch", ("name",))
    assert CheckResult.from_record(result.to_record()) == result
    assert CheckSchema().dump(result)["fields"] == ["name"]
    assert "fields" not in CheckSchema().dump(id_card_ocr_check(lines, "李四", number))
    status, error = decide([result])
    assert status == Status.REJECTED
    assert "name" in error.message and "李四" not in error.message and "张三" not in error.message
