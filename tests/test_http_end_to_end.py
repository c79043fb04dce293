"""Issue 12: the individual and organization flows end to end through the ``http`` verifier
adapters, against ``kyc-service sandbox-verifiers`` started on loopback, with a live-mode key
and ``KYC_ENV=production``: the same outcomes as with the in-process sandbox.

The flow tests of ``test_individual_flow`` and ``test_organization_flow`` are imported here
and collected a second time; this module's fixtures replace the app's settings (every
verifier role on ``http``, production) and make every key a live one. Then the call ledger:
each check's request id, billed once, and ``GET /v1/ops/usage``.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.services.api_keys import create_key
from tests.conftest import assert_error
from tests.helpers import checks_of, production_config, submit
from tests.synthetic import id_number, individual_body, organization_body
from tests.test_individual_flow import (  # noqa: F401 (collected again, through http)
    ready,
    test_a_failed_identity_check_asks_no_further_upstream,
    test_face_match_flow_needs_a_selfie_and_passes_the_portrait_check,
    test_happy_path_is_verified_and_never_shows_plain_data,
    test_magic_values_reject_with_their_code,
    test_portrait_magic_name_rejects,
    test_the_sandbox_outage_value_goes_to_review_when_retries_are_spent,
)
from tests.test_organization_flow import (  # noqa: F401 (collected again, through http)
    ready_organization,
    test_a_power_of_attorney_without_a_seal_goes_to_review_then_ops_approves,
    test_erasure_while_awaiting_the_deposit_cancels,
    test_the_happy_path_with_an_agent_waits_for_the_deposit_then_verifies,
    test_the_identity_magic_values_reject,
    test_the_registry_magic_values_reject,
    test_three_wrong_amounts_reject,
)

ROLES = ("IDENTITY", "PORTRAIT", "BANK", "REGISTRY", "ACCOUNT", "SMS")
SECRET = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def verifier_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``kyc-service sandbox-verifiers`` on a free loopback port; its base URL."""
    from benchmarks.upstream import sandbox_server

    with sandbox_server(SECRET, tmp_path_factory.mktemp("sandbox")) as url:
        yield url


@pytest.fixture
def app_config(database_url: str, keystore_url: str, verifier_sandbox: str) -> dict:
    """Production, every verifier role on ``http`` to the sandbox server."""
    return production_config(database_url, keystore_url, http_url=verifier_sandbox, secret=SECRET)


@pytest.fixture
def make_key(app: Flask) -> Callable[..., dict[str, str]]:
    """Live-mode keys: the http adapters answer them (test keys stay on the sandbox)."""

    def make(tenant: str = "acme", mode: str = "live", scopes: str = "*") -> dict[str, str]:
        key = create_key(
            app.extensions["kyc"].unit_of_work(), tenant, Mode(mode), parse_scopes(scopes)
        )
        return {"Authorization": f"Bearer {key}"}

    return make


def test_the_adapters_in_use_are_http_for_live_and_sandbox_for_test(app):
    adapters = app.extensions["kyc"].adapters
    for role in ROLES:
        port = role.lower()
        assert adapters.get(port, Mode.LIVE).__module__ == "adapters.http_verifiers.adapters"
        assert adapters.get(port, Mode.TEST).__module__.startswith("adapters.sandbox.")
        assert adapters.name_for(port, Mode.LIVE) == "http"


def test_a_test_key_never_reaches_the_configured_upstream(app, client, make_key):
    test_key = make_key(mode="test")
    rng = __import__("random").Random(5)
    decided = submit(client, test_key, ready(client, test_key, individual_body(rng))).get_json()
    assert decided["status"] == "verified"
    usage = client.get("/v1/ops/usage", headers=test_key).get_json()
    assert {(u["role"], u["provider"]) for u in usage["data"]} == {
        ("identity", "sandbox"),
        ("bank", "sandbox"),
    }
    assert all(u["billable"] == 0 for u in usage["data"]), "the in-process sandbox is free"


def _ledger(app, verification_id: str):
    with app.extensions["kyc"].unit_of_work() as uow:
        return uow.upstream_calls.of_verification(verification_id)


def test_each_check_is_billed_once_with_a_stable_request_id(app, client, auth):
    rng = __import__("random").Random(6)
    body = individual_body(rng, face_match=True)
    verification_id = ready(client, auth, body)
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "verified", checks_of(decided)
    calls = _ledger(app, verification_id)
    assert [(c.role, c.check, c.outcome, c.billable) for c in calls] == [
        ("identity", "identity", "match", True),
        ("bank", "bank_card", "match", True),
        ("portrait", "portrait_authority", "match", True),
    ]
    assert len({c.request_id for c in calls}) == 3
    assert all(c.provider == "http" and c.latency_ms >= 0 for c in calls)


def test_a_repeat_after_a_crash_sends_the_same_request_id_and_bills_once(app, client, auth):
    """A worker killed inside the bank call, after the identity authority had answered:
    that call is in the ledger already. The run's results were never written, so the next
    run asks the identity authority again — with the same request id; the verifier answers
    from its memory, and the ledger bills the check once."""
    from kyc_service.services import pipeline

    rng = __import__("random").Random(7)
    verification_id = ready(client, auth, individual_body(rng))
    services = app.extensions["kyc"]
    bank = services.adapters.get("bank", Mode.LIVE)
    real_verify = bank.verify
    bank.verify = lambda *args, **kwargs: (_ for _ in ()).throw(SystemExit("worker killed"))
    try:
        with pytest.raises(SystemExit):
            submit(client, auth, verification_id)
    finally:
        bank.verify = real_verify
    first = _ledger(app, verification_id)
    assert [(c.check, c.billable) for c in first] == [("identity", True)]
    pipeline.run_checks(services, verification_id)
    calls = _ledger(app, verification_id)
    assert [c.check for c in calls] == ["identity", "identity", "bank_card"]
    assert calls[0].request_id == calls[1].request_id
    assert [c.billable for c in calls] == [True, False, True], "one billable call per check"
    final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert final["status"] == "verified"


def test_usage_sums_the_ledger_per_role_and_provider(app, client, auth, make_key):
    rng = __import__("random").Random(8)
    for name in ("张三", "测试不符"):
        body = individual_body(rng, name=name)
        submit(client, auth, ready(client, auth, body))
    ops = make_key(scopes="ops")
    usage = client.get("/v1/ops/usage", headers=ops)
    assert usage.status_code == 200, usage.get_json()
    answer = usage.get_json()
    assert answer["object"] == "usage" and answer["mode"] == "live"
    by_role = {u["role"]: u for u in answer["data"]}
    assert by_role["identity"] == {
        "role": "identity",
        "provider": "http",
        "calls": 2,
        "billable": 2,
        "outcomes": {"match": 1, "mismatch": 1},
    }
    assert by_role["bank"]["calls"] == 1
    other_tenant = client.get("/v1/ops/usage", headers=make_key(tenant="other", scopes="ops"))
    assert other_tenant.get_json()["data"] == []
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    later = client.get(f"/v1/ops/usage?from={tomorrow}", headers=ops)
    assert_error(later, 422, "invalid_request", "validation_failed")
    past = client.get("/v1/ops/usage?from=2026-01-01&to=2026-02-01T00:00:00Z", headers=ops)
    assert past.status_code == 200 and past.get_json()["data"] == []
    bad_periods = (
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-01-01T00:00:00", "from"),  # no zone
        ("from=2020-01-01", "from"),  # more than 366 days
        ("to=0001-01-01", "to"),  # would overflow
        ("from=9999-12-31T23:59:59-01:00", "from"),
        ("from=2026-02-01&to=2026-01-01", "from"),
    )
    for bad, field in bad_periods:
        error = assert_error(
            client.get(f"/v1/ops/usage?{bad}", headers=ops),
            422,
            "invalid_request",
            "validation_failed",
        )
        assert error["field"] == field, (bad, error)
    assert_error(
        client.get("/v1/ops/usage", headers=auth | make_key(scopes="verifications:read")),
        403,
        "permission",
        "scope_missing",
    )


def test_the_organization_ledger_holds_the_registry_identity_and_payment(app, client, auth):
    rng = __import__("random").Random(9)
    body = organization_body(rng, agent=False)
    verification_id = ready_organization(client, auth, body)
    waiting = submit(client, auth, verification_id).get_json()
    assert waiting["status"] == "awaiting_confirmation", checks_of(waiting)
    calls = _ledger(app, verification_id)
    assert [(c.role, c.check, c.outcome, c.billable) for c in calls] == [
        ("registry", "business_registry", "match", True),
        ("identity", "legal_representative_identity", "match", True),
        ("account", "bank_account", "paid", True),
    ]


def test_the_sandbox_command_keeps_a_client_s_connection_for_its_next_calls(
    verifier_sandbox, monkeypatch
):
    """``kyc-service sandbox-verifiers`` answers HTTP/1.1 keep-alive, as providers do: a
    pooled client's calls reuse one connection (werkzeug's development server closed every
    connection after one answer, so each call paid a connect and the server a new thread)."""
    from adapters.http_verifiers.adapters import HttpIdentityAuthority
    from kyc_service.domain.results import Match
    from tests.helpers import counted_connections

    opened = counted_connections(monkeypatch)
    adapter = HttpIdentityAuthority(verifier_sandbox, SECRET)
    try:
        for n in range(3):
            number = id_number(random.Random(n))
            answer = adapter.verify("张三", number, request_id=f"vr_keepalive{n}")
            assert answer == Match(billable=True)
    finally:
        adapter.close()
    assert len(opened) == 1, f"{len(opened)} connections for 3 calls"
