"""API keys: recently authenticated keys are kept for seconds only, by hash, successes only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import update

from kyc_service.domain.access import Mode, Principal, Scope
from kyc_service.domain.errors import AuthenticationFailed
from kyc_service.persistence.tables import ApiKeyRow
from kyc_service.services.api_keys import RecentPrincipals, authenticate, create_key
from tests.conftest import assert_error

PRINCIPAL = Principal("ten_1", "key_1", Mode.TEST, frozenset({Scope.VERIFICATIONS_READ}))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoDatabase:
    """A unit of work that must not be used: the principal comes from the recent keys."""

    def __enter__(self) -> NoDatabase:
        raise AssertionError("the key was looked up again")

    def __exit__(self, *_: object) -> None:
        return None


def test_a_recent_key_is_kept_for_its_seconds_only() -> None:
    clock = Clock()
    recent = RecentPrincipals(2.0, clock=clock)
    recent.put("kyc_test_secret", PRINCIPAL)
    clock.now += 1.9
    assert recent.get("kyc_test_secret") == PRINCIPAL
    assert authenticate(NoDatabase(), "kyc_test_secret", recent) == PRINCIPAL  # type: ignore[arg-type]
    clock.now += 0.2
    assert recent.get("kyc_test_secret") is None


def test_no_plain_key_is_kept_and_the_oldest_goes_first() -> None:
    recent = RecentPrincipals(60.0, size=2)
    for key in ("kyc_test_a", "kyc_test_b", "kyc_test_c"):
        recent.put(key, PRINCIPAL)
    assert recent.get("kyc_test_a") is None
    assert recent.get("kyc_test_c") == PRINCIPAL
    assert all(len(slot) == 32 for slot in recent._entries)  # SHA-256 digests only
    assert not any(b"kyc_test" in slot for slot in recent._entries)


def test_ttl_zero_keeps_nothing() -> None:
    recent = RecentPrincipals(0)
    recent.put("kyc_test_secret", PRINCIPAL)
    assert recent.get("kyc_test_secret") is None


def test_a_wrong_key_is_not_kept(app: Flask) -> None:
    recent = RecentPrincipals(60.0)
    wrong = "kyc_test_" + "x" * 43
    with pytest.raises(AuthenticationFailed):
        authenticate(app.extensions["kyc"].unit_of_work(), wrong, recent)
    assert recent.get(wrong) is None


def test_a_revoked_key_stops_working_once_its_seconds_are_over(app: Flask) -> None:
    key = create_key(app.extensions["kyc"].unit_of_work(), "acme", Mode.TEST, frozenset(Scope))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/verifications", headers=headers).status_code == 200
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.session.execute(update(ApiKeyRow).values(revoked_at=datetime.now(UTC)))
        uow.commit()
    app.extensions["kyc_recent_principals"].clock = lambda: float("inf")  # seconds are over
    assert_error(
        client.get("/v1/verifications", headers=headers), 401, "authentication", "api_key_invalid"
    )
