"""With ``KYC_REDIS_URL`` the rate limit is shared by every process of the service."""

from __future__ import annotations

import os
import secrets

import pytest

from kyc_service.app import create_app
from kyc_service.domain.access import ALL_SCOPES, Mode
from kyc_service.services.api_keys import create_key
from tests.conftest import assert_error, redis_reachable

REDIS_URL = os.environ.get("KYC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    return redis_reachable(REDIS_URL)


def test_two_processes_share_one_limit(sqlite_url, tmp_path, redis_url):
    config = {
        "DATABASE_URL": sqlite_url,
        "REDIS_URL": redis_url,
        "RATE_LIMIT": "3 per minute",
        "KEYSTORE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
    }
    first, second = create_app(config), create_app(config)
    key = create_key(
        first.extensions["kyc"].unit_of_work(),
        f"t-{secrets.token_hex(4)}",
        Mode.TEST,
        frozenset(ALL_SCOPES),
    )
    headers = {"Authorization": f"Bearer {key}"}
    clients = [first.test_client(), second.test_client()]
    statuses = [
        clients[n % 2].get("/v1/verifications", headers=headers).status_code for n in range(3)
    ]
    assert statuses == [200, 200, 200]
    assert_error(
        clients[1].get("/v1/verifications", headers=headers),
        429,
        "rate_limited",
        "too_many_requests",
    )
    for app in (first, second):
        app.extensions["kyc"].close()
