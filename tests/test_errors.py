"""Every error this layer produces has the contract's shape and leaks nothing."""

from __future__ import annotations

import pytest

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
