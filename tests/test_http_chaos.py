"""Issue 12: the service survives a bad upstream. With the partner verifier sandbox failing
20 % of calls (503) and stalling 10 % (past the adapter's read timeout), 500 verifications of
a live key in production all reach a final status after ``retry-pending`` runs: none lost,
none decided on an error (each one's status is the one its magic values call for), and the
call ledger holds at most one billable call per check per verification.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.services.api_keys import create_key
from kyc_service.services.pipeline import retry_pending
from tests.helpers import (
    checks_of,
    create,
    production_config,
    serving_in_thread,
    submit,
    upload,
)
from tests.synthetic import card_photos, individual_body
from verifier_sandbox.server import Knobs, create_sandbox_app

VERIFICATIONS = 500
SECRET = secrets.token_urlsafe(24)
PEOPLE = (  # (changes to a person, the status it must end in, the check that decides)
    ({}, "verified", None),
    ({"name": "测试不符"}, "rejected", ("identity", "name_id_mismatch")),
    ({"reserved_phone": "13900000001"}, "rejected", ("bank_card", "phone_mismatch")),
    ({}, "verified", None),
)


@pytest.fixture(scope="module")
def chaotic_sandbox():
    """The sandbox server on loopback: 20 % of calls fail, 10 % stall for 1.5 s."""
    knobs = Knobs(fail_rate=0.2, timeout_rate=0.1, timeout_seconds=1.5)
    with serving_in_thread(create_sandbox_app(SECRET, knobs)) as url:
        yield url


@pytest.fixture(params=["sqlite"], ids=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app_config(database_url: str, keystore_url: str, chaotic_sandbox: str) -> dict:
    return production_config(
        database_url,
        keystore_url,
        http_url=chaotic_sandbox,
        secret=SECRET,
        timeout=0.5,
        rate_limit="100000 per second",
    )


def test_500_verifications_on_a_failing_upstream_all_end_right_and_bill_once(app, client):
    services = app.extensions["kyc"]
    key = create_key(services.unit_of_work(), "acme", Mode.LIVE, parse_scopes("*"))
    auth = {"Authorization": f"Bearer {key}"}
    rng = random.Random(12)
    people = []
    for changes, status, decider in PEOPLE:
        body = individual_body(rng, **changes)
        people.append((body, card_photos(body), status, decider))
    expected: dict[str, tuple[str, tuple[str, str] | None]] = {}
    for number in range(VERIFICATIONS):
        body, photos, status, decider = people[number % len(people)]
        created = create(client, auth, {**body, "reference": f"user-{number}"})
        assert created.status_code == 201, created.get_json()
        verification_id = created.get_json()["id"]
        for kind, image in photos.items():
            assert upload(client, auth, verification_id, kind, image).status_code == 201
        expected[verification_id] = (status, decider)

    def submit_one(verification_id: str) -> int:
        return submit(app.test_client(), auth, verification_id).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(submit_one, expected)) == {200}

    real_clock = services.vault.clock
    for day in range(1, 30):
        pending = _statuses(client, auth, expected).get("processing", 0)
        if not pending:
            break
        services.vault.clock = lambda day=day: real_clock() + timedelta(days=day)
        while retry_pending(services, limit=100):
            pass
    services.vault.clock = real_clock

    ended = {}
    for verification_id, (status, decider) in expected.items():
        shown = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
        ended[verification_id] = shown["status"]
        assert shown["status"] == status, (verification_id, checks_of(shown))
        checks = checks_of(shown)
        if status == "verified":
            assert checks["identity"] == ("passed", None) and checks["bank_card"] == (
                "passed",
                None,
            )
            assert shown["last_error"] is None
        else:
            name, code = decider
            assert checks[name] == ("failed", code)
        assert all(result != "error" for result, _ in checks.values()), checks
    assert Counter(ended.values()) == {"verified": 250, "rejected": 250}

    with services.unit_of_work() as uow:
        for verification_id in expected:
            calls = uow.upstream_calls.of_verification(verification_id)
            billed = Counter(c.check for c in calls if c.billable)
            assert all(count == 1 for count in billed.values()), (verification_id, calls)
            decided = {c.check for c in calls if c.outcome != "unavailable"}
            assert decided <= set(billed), "every definite answer billed once"
    unavailable = sum(
        u["outcomes"].get("unavailable", 0)
        for u in client.get("/v1/ops/usage", headers=auth).get_json()["data"]
    )
    assert unavailable > 0, "the chaos must have made some calls fail for good"


def _statuses(client, auth, expected) -> Counter:
    """How many of the verifications are in each status now."""
    return Counter(
        client.get(f"/v1/verifications/{vid}", headers=auth).get_json()["status"]
        for vid in expected
    )
