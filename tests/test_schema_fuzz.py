"""Issue 10: schemathesis over ``/v1/openapi.json``, in-process (no network): no 5xx.

Every operation of the OpenAPI document gets generated requests (valid and invalid ones),
authenticated with a key that has every scope. Name lookups are answered for loopback only,
so a generated webhook URL never causes traffic to any other address.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from kyc_service.app import create_app
from tests.conftest import _migrated_sqlite

EXAMPLES = 30


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


def test_no_generated_request_answers_5xx(fuzz_app, fuzz_key) -> None:
    """Each operation: generated requests (valid and not), none answered with a 5xx."""
    api = schemathesis.openapi.from_wsgi("/v1/openapi.json", fuzz_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def no_server_error(case) -> None:
            case.call_and_validate(headers=fuzz_key, checks=[not_a_server_error])

        no_server_error()
