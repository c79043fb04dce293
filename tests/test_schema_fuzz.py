"""Issues 10 and 16: schemathesis over ``/v1/openapi.json``, in-process (no network).

Every operation of the OpenAPI document gets generated requests (valid and invalid ones),
authenticated with a key that has every scope: none is answered with a 5xx, every answer
conforms to the schema documented for its status and content type, and every status is
one the operation documents by number (the ``default`` response does not count). Name
lookups are answered for loopback only, so a generated webhook URL never causes traffic to
any other address.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kyc_service.app import create_app
from tests.conftest import _migrated_sqlite

EXAMPLES = 30
"""Generated requests per operation (bounded: the whole run stays under a few minutes)."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The service on SQLite, with name lookups confined to loopback."""
    real = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):  # noqa: ANN001, ANN202
        if host in ("127.0.0.1", "::1", "localhost"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "no lookups under test")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    app = create_app(
        {
            "DATABASE_URL": _migrated_sqlite(tmp_path / "kyc.db"),
            "KEYSTORE_URL": _migrated_sqlite(tmp_path / "keys.db", keystore=True),
            "RATE_LIMIT": "100000 per second",
            "UNAUTHENTICATED_RATE_LIMIT": "100000 per second",
            "TESTING": True,
        }
    )
    yield app
    app.extensions["kyc"].close()


@pytest.fixture
def fuzz_key(fuzz_app) -> dict[str, str]:
    from kyc_service.domain.access import ALL_SCOPES, Mode
    from kyc_service.services.api_keys import create_key

    key = create_key(
        fuzz_app.extensions["kyc"].unit_of_work(), "fuzz", Mode.TEST, frozenset(ALL_SCOPES)
    )
    return {"Authorization": f"Bearer {key}"}


def test_generated_requests_get_documented_answers(fuzz_app, fuzz_key) -> None:
    """Each operation: generated requests (valid and not), none answered with a 5xx, each
    answer documented (status, content type, schema)."""
    api = schemathesis.openapi.from_wsgi("/v1/openapi.json", fuzz_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 8
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def conforms(case) -> None:
            response = case.call(headers=fuzz_key)
            case.validate_response(response, checks=CHECKS)
            documented = {str(status) for status in case.operation.definition.raw["responses"]}
            assert str(response.status_code) in documented, (
                f"{case.operation.label} answered {response.status_code}, not documented"
            )

        try:
            conforms()
        except Exception as failure:  # noqa: BLE001 - every operation is tried, then reported
            failures.append(f"{operation.label}: {str(failure).splitlines()[0]}")
    assert not failures, "\n".join(failures)
