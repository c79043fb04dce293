"""Issue 12: the call ledger on both databases — one billable row per request id, also
for two writers at once, and the sums of ``GET /v1/ops/usage`` per role and provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kyc_service.domain.usage import UpstreamCall, request_id_for
from tests.test_races import at_once

RID = request_id_for("ver_ledgertest", "identity")


def billable(rid: str = RID, outcome: str = "match") -> UpstreamCall:
    return UpstreamCall("identity", "http", "identity", rid, outcome, True, 12)


def tenant_of(app, make_key) -> str:
    make_key()
    with app.extensions["kyc"].unit_of_work() as uow:
        return uow.tenants.by_name("acme").id


def write(app, tenant_id: str, calls: list[UpstreamCall]) -> None:
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.upstream_calls.add(tenant_id, "live", "ver_ledgertest", calls, datetime.now(UTC))
        uow.commit()


def ledger(app) -> list[UpstreamCall]:
    with app.extensions["kyc"].unit_of_work() as uow:
        return list(uow.upstream_calls.of_verification("ver_ledgertest"))


def test_a_request_id_is_billed_once_however_often_it_is_written(app, make_key):
    tenant_id = tenant_of(app, make_key)
    write(app, tenant_id, [billable()])
    write(app, tenant_id, [billable(), billable(request_id_for("ver_ledgertest", "bank_card"))])
    calls = ledger(app)
    assert [c.billable for c in calls] == [True, False, True]
    assert len(calls) == 3, "every call is kept, the repeat as not billable"


def test_two_writers_of_one_request_id_at_once_bill_it_once(app, make_key):
    tenant_id = tenant_of(app, make_key)
    at_once(*[lambda: write(app, tenant_id, [billable()]) for _ in range(4)])
    calls = ledger(app)
    assert len(calls) == 4
    assert sum(c.billable for c in calls) == 1


def test_usage_sums_per_role_provider_and_outcome_within_the_period(app, make_key):
    tenant_id = tenant_of(app, make_key)
    other = [UpstreamCall("bank", "http", "bank_card", "vr_b", "unavailable", False, 5000)]
    write(app, tenant_id, [billable(), billable("vr_x", "mismatch"), *other])
    with app.extensions["kyc"].unit_of_work() as uow:
        now = datetime.now(UTC)
        rows = sorted(
            uow.upstream_calls.summary(tenant_id, "live", now - timedelta(1), now + timedelta(1))
        )
        assert rows == [
            ("bank", "http", "unavailable", 1, 0),
            ("identity", "http", "match", 1, 1),
            ("identity", "http", "mismatch", 1, 1),
        ]
        assert uow.upstream_calls.summary(tenant_id, "test", now - timedelta(1), now) == []
        assert (
            uow.upstream_calls.summary(tenant_id, "live", now + timedelta(1), now + timedelta(2))
            == []
        )
