"""Signup phone verification: codes, attempts, expiry, send limits, and nothing stored plain."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import KycError, UpstreamUnavailable
from kyc_service.services import phone_verifications
from kyc_service.services.api_keys import authenticate
from tests.conftest import assert_error

PHONE = "13800138000"
OTHER_PHONE = "13912345678"


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(app, monkeypatch) -> FrozenClock:
    """Freeze the clock the phone endpoints take (this test's own app only)."""
    frozen = FrozenClock()
    monkeypatch.setattr(app.extensions["kyc"].vault, "clock", frozen)
    return frozen


def start(client, headers, phone: str = PHONE):
    return client.post("/v1/phone-verifications", json={"phone": phone}, headers=headers)


def check(client, headers, pv_id: str, code: str):
    return client.post(
        f"/v1/phone-verifications/{pv_id}/check", json={"code": code}, headers=headers
    )


def outbox(app, mode: Mode = Mode.LIVE):
    """The sandbox SMS gateway's messages (live SMS defaults to the sandbox in development)."""
    return app.extensions["kyc"].adapters.get("sms", mode).outbox


def sent_code(app) -> str:
    """The code in the one message sent so far."""
    [(_, message)] = outbox(app)
    [code] = re.findall(r"\b\d{6}\b", message)
    return code


def other_code(code: str) -> str:
    """A wrong code: the right one plus one."""
    return f"{(int(code) + 1) % 10**6:06d}"


def principal_of(app, headers):
    """The principal behind an ``Authorization`` header."""
    return authenticate(app.extensions["kyc"].unit_of_work(), headers["Authorization"].split()[1])


def test_test_mode_code_000000_verifies_and_nothing_is_sent(app, client, auth):
    response = start(client, auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["id"].startswith("pv_") and body["object"] == "phone_verification"
    assert (body["status"], body["phone"]) == ("pending", "138****8000")
    created = datetime.fromisoformat(body["created_at"])
    assert datetime.fromisoformat(body["expires_at"]) - created == timedelta(minutes=10)
    assert list(outbox(app, Mode.LIVE)) == [] and list(outbox(app, Mode.TEST)) == []
    verified = check(client, auth, body["id"], "000000")
    assert verified.status_code == 200
    assert verified.get_json()["status"] == "verified"
    assert verified.get_json()["object"] == "phone_verification"


def test_live_mode_sends_one_six_digit_code_that_verifies(app, client, make_key):
    live = make_key(mode="live")
    pv_id = start(client, live, "+86" + PHONE).get_json()["id"]
    assert len(outbox(app)) == 1 and outbox(app)[0][0] == PHONE
    code = sent_code(app)
    for remaining in (4, 3):
        error = assert_error(
            check(client, live, pv_id, other_code(code)), 422, "invalid_request", "code_incorrect"
        )
        assert error["attempts_remaining"] == remaining
    assert check(client, live, pv_id, code).get_json()["status"] == "verified"
    again = check(client, live, pv_id, code)
    assert (again.status_code, again.get_json()["status"]) == (200, "verified")


def test_five_wrong_codes_lock_out_even_the_right_one(client, auth, clock):
    pv_id = start(client, auth).get_json()["id"]
    for remaining in (4, 3, 2, 1, 0):
        error = assert_error(
            check(client, auth, pv_id, "111111"), 422, "invalid_request", "code_incorrect"
        )
        assert error["attempts_remaining"] == remaining
    clock.advance(20)
    locked = check(client, auth, pv_id, "000000")
    assert_error(locked, 429, "rate_limited", "too_many_attempts")
    assert locked.headers["Retry-After"] == "40"
    clock.advance(40)
    assert check(client, auth, pv_id, "000000").status_code == 429
    assert start(client, auth).status_code == 201


def test_code_expires_after_ten_minutes(client, auth, clock):
    first = start(client, auth, PHONE).get_json()["id"]
    second = start(client, auth, OTHER_PHONE).get_json()["id"]
    clock.advance(599)
    assert check(client, auth, first, "000000").get_json()["status"] == "verified"
    clock.advance(1)
    assert_error(check(client, auth, second, "000000"), 410, "gone", "code_expired")
    assert check(client, auth, first, "000000").get_json()["status"] == "verified"


def test_second_send_within_a_minute_is_refused(client, auth, make_key):
    assert start(client, auth).status_code == 201
    refused = start(client, auth)
    assert_error(refused, 429, "rate_limited", "too_many_requests")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert start(client, auth, OTHER_PHONE).status_code == 201
    assert start(client, make_key(tenant="globex")).status_code == 201
    assert start(client, make_key(mode="live")).status_code == 201


def test_send_limit_answers_the_true_wait(client, auth, clock):
    assert start(client, auth).status_code == 201
    clock.advance(45)
    assert start(client, auth).headers["Retry-After"] == "15"
    clock.advance(15)
    assert start(client, auth).status_code == 201


def test_sixth_send_in_an_hour_is_refused_and_plus86_is_the_same_phone(client, auth, clock):
    for number in (PHONE, "+86" + PHONE, PHONE, "+86 138 0013 8000", PHONE):
        assert start(client, auth, number).status_code == 201
        clock.advance(61)
    refused = start(client, auth, "+86" + PHONE)
    assert_error(refused, 429, "rate_limited", "too_many_requests")
    assert refused.headers["Retry-After"] == str(3600 - 5 * 61)
    clock.advance(3600 - 5 * 61)
    assert start(client, auth).status_code == 201


def test_a_failed_send_does_not_count(app, client, make_key, monkeypatch):
    live = make_key(mode="live")
    sender = app.extensions["kyc"].adapters.get("sms", Mode.LIVE)

    def fail(phone: str, text: str, *, request_id: str = "") -> None:
        raise UpstreamUnavailable("the SMS gateway is down")

    monkeypatch.setattr(sender, "send", fail)
    assert start(client, live).status_code == 503
    monkeypatch.undo()
    assert start(client, live).status_code == 201
    ops = make_key(mode="live", scopes="ops")
    (sms,) = client.get("/v1/ops/usage", headers=ops).get_json()["data"]
    assert sms == {
        "role": "sms",
        "provider": "sandbox",
        "calls": 2,
        "billable": 0,
        "outcomes": {"sent": 1, "unavailable": 1},
    }, "the ledger notes both sends (the sandbox charges nothing)"


@pytest.mark.parametrize("phone", ["12345", "01062345678", "+14155550123", "1380013800a"])
def test_not_a_mainland_mobile_is_phone_invalid(client, auth, phone):
    error = assert_error(start(client, auth, phone), 422, "invalid_request", "phone_invalid")
    assert error["field"] == "phone" and phone not in error["message"]


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", ""])
def test_a_code_without_six_digits_is_validation_failed(client, auth, code):
    pv_id = start(client, auth).get_json()["id"]
    assert_error(check(client, auth, pv_id, code), 422, "invalid_request", "validation_failed")
    assert check(client, auth, pv_id, "000000").get_json()["status"] == "verified"


def test_phone_write_scope_is_required(client, auth, make_key):
    pv_id = start(client, auth).get_json()["id"]
    reader = make_key(scopes="verifications:read,verifications:write")
    assert_error(start(client, reader, OTHER_PHONE), 403, "permission", "scope_missing")
    assert_error(check(client, reader, pv_id, "000000"), 403, "permission", "scope_missing")
    assert check(client, auth, pv_id, "111111").get_json()["error"]["attempts_remaining"] == 4


def test_foreign_other_mode_and_unknown_ids_are_404(client, auth, make_key):
    pv_id = start(client, auth).get_json()["id"]
    for headers in (make_key(tenant="globex"), make_key(mode="live")):
        assert_error(check(client, headers, pv_id, "000000"), 404, "not_found", "resource_missing")
    unknown = check(client, auth, "pv_abcdefghijkmnopqrstuvwx", "000000")
    assert_error(unknown, 404, "not_found", "resource_missing")
    assert check(client, auth, pv_id, "111111").get_json()["error"]["attempts_remaining"] == 4


def test_the_database_holds_neither_the_phone_nor_the_code(app, client, make_key):
    pv_id = start(client, make_key(mode="live"), "+86" + PHONE).get_json()["id"]
    code = sent_code(app)
    with app.extensions["kyc"].engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM phone_verifications")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 1 and pv_id in stored and "138****8000" in stored
    windows = {PHONE[i : i + 7] for i in range(len(PHONE) - 6)}
    assert not any(window in stored for window in windows | {PHONE})
    assert code not in stored


def run_together(count: int, call: Callable[[], object]) -> list[object]:
    """Run ``call`` on ``count`` threads released at once; return results or raised errors."""
    barrier = threading.Barrier(count)

    def one() -> object:
        barrier.wait()
        try:
            return call()
        except KycError as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return [future.result() for future in [pool.submit(one) for _ in range(count)]]


def test_concurrent_wrong_codes_lose_no_attempt(app, client, auth):
    pv_id = start(client, auth).get_json()["id"]
    kyc, principal = app.extensions["kyc"], principal_of(app, auth)
    outcomes = run_together(
        10,
        lambda: phone_verifications.check(
            kyc.unit_of_work(), principal, pv_id, "111111", clock=kyc.vault.clock
        ),
    )
    remaining = sorted(
        e.extra["attempts_remaining"] for e in outcomes if e.code == "code_incorrect"
    )
    assert remaining == [0, 1, 2, 3, 4]
    assert sorted(e.code for e in outcomes).count("too_many_attempts") == 5
    assert check(client, auth, pv_id, "000000").status_code == 429


def test_concurrent_sends_to_one_phone_send_once(app, make_key):
    live = make_key(mode="live")
    kyc, principal = app.extensions["kyc"], principal_of(app, live)
    sender, index_key = kyc.adapters.get("sms", Mode.LIVE), kyc.vault.keystore.blind_index_key()
    outcomes = run_together(
        6,
        lambda: phone_verifications.start(
            kyc.unit_of_work(),
            principal,
            PHONE,
            sms_sender=sender,
            index_key=index_key,
            clock=kyc.vault.clock,
        ),
    )
    refused = [o for o in outcomes if isinstance(o, KycError)]
    assert [e.code for e in refused] == ["too_many_requests"] * 5
    assert len(outbox(app)) == 1
