"""Issue 13: the ops endpoints — the review queue (``GET /v1/ops/verifications``), scopes
before anything else, and tenants and modes kept apart."""

from __future__ import annotations

import random

from tests.conftest import assert_error
from tests.helpers import checks_of, submit
from tests.synthetic import individual_body, organization_body
from tests.test_individual_flow import ready
from tests.test_organization_flow import ready_organization

rng = random.Random(13)


def in_review(client, auth, reference: str) -> str:
    """An organization whose power of attorney carries no seal: it waits for a person."""
    body = organization_body(rng, reference=reference)
    verification_id = ready_organization(client, auth, body, sealed=False)
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "in_review", checks_of(decided)
    return verification_id


def test_the_queue_lists_what_waits_oldest_first_with_its_reasons(client, auth, make_key):
    first = in_review(client, auth, "org-1")
    verified = submit(client, auth, ready(client, auth, individual_body(rng))).get_json()
    assert verified["status"] == "verified"
    second = in_review(client, auth, "org-2")
    ops = make_key(scopes="ops")
    answer = client.get("/v1/ops/verifications", headers=ops)
    assert answer.status_code == 200, answer.get_json()
    queue = answer.get_json()
    assert [v["id"] for v in queue["data"]] == [first, second]
    assert queue["has_more"] is False
    entry = queue["data"][0]
    assert entry["status"] == "in_review" and entry["organization"]["uscc"].count("*") >= 8
    (reason,) = entry["review"]["reasons"]
    assert (reason["name"], reason["status"], reason["code"]) == (
        "power_of_attorney_seal",
        "failed",
        "seal_not_found",
    )
    assert isinstance(reason["score"], float)
    assert entry["review"]["waiting_seconds"] >= 0
    assert entry["review"]["since"] == entry["updated_at"]
    page = client.get("/v1/ops/verifications?limit=1", headers=ops).get_json()
    assert [v["id"] for v in page["data"]] == [first] and page["has_more"] is True
    rest = client.get(f"/v1/ops/verifications?limit=1&starting_after={first}", headers=ops)
    assert [v["id"] for v in rest.get_json()["data"]] == [second]
    done = client.get("/v1/ops/verifications?status=verified", headers=ops).get_json()
    assert [v["id"] for v in done["data"]] == [verified["id"]]
    assert done["data"][0]["review"]["reasons"] == []
    review = client.post(
        f"/v1/ops/verifications/{first}/review", json={"decision": "reject"}, headers=ops
    )
    assert review.get_json()["status"] == "rejected"
    after = client.get("/v1/ops/verifications", headers=ops).get_json()
    assert [v["id"] for v in after["data"]] == [second]


def test_other_tenants_and_modes_see_none_of_it(client, auth, make_key):
    waiting = in_review(client, auth, "org-3")
    for key in (make_key(tenant="other", scopes="ops"), make_key(mode="live", scopes="ops")):
        assert client.get("/v1/ops/verifications", headers=key).get_json()["data"] == []
        foreign = client.post(
            f"/v1/ops/verifications/{waiting}/review", json={"decision": "approve"}, headers=key
        )
        assert_error(foreign, 404, "not_found", "resource_missing")
        cursor = client.get(f"/v1/ops/verifications?starting_after={waiting}", headers=key)
        assert_error(cursor, 404, "not_found", "resource_missing")


def test_a_key_without_ops_gets_403_on_every_ops_endpoint_before_anything_else(client, make_key):
    narrow = make_key(scopes="verifications:read,verifications:write")
    for method, path in (
        ("get", "/v1/ops/verifications"),
        ("get", "/v1/ops/verifications?status=nonsense"),
        ("post", "/v1/ops/verifications/ver_unknown/review"),
        ("get", "/v1/ops/usage?from=nonsense"),
        ("delete", "/v1/ops/verifications/ver_unknown/review"),  # a 405 for a wide key
        ("put", "/v1/ops/usage"),
    ):
        answer = getattr(client, method)(path, headers=narrow, json={"decision": "approve"})
        assert_error(answer, 403, "permission", "scope_missing")


def test_a_bad_status_is_422(client, make_key):
    answer = client.get("/v1/ops/verifications?status=waiting", headers=make_key(scopes="ops"))
    assert_error(answer, 422, "invalid_request", "validation_failed")


def test_a_key_with_the_scope_still_gets_405_for_a_wrong_method(client, make_key):
    ops = make_key(scopes="ops")
    answer = client.delete("/v1/ops/verifications/ver_unknown/review", headers=ops)
    assert_error(answer, 405, "invalid_request", "method_not_allowed")


def test_audit_events_name_the_actor_of_every_opening_masked(client, auth, make_key):
    waiting = in_review(client, auth, "org-audit")
    ops = make_key(scopes="ops")
    before = client.get("/v1/ops/audit-events", headers=ops).get_json()
    assert "ops.review" not in [e["action"] for e in before["data"]]
    note = "seal seen on the original; called 13800138000, ID 11010519491231002X"
    approved = client.post(
        f"/v1/ops/verifications/{waiting}/review",
        json={"decision": "approve", "note": note},
        headers=ops,
    )
    assert approved.get_json()["status"] == "awaiting_confirmation"
    assert client.delete("/v1/subjects/org-audit", headers=auth).status_code == 204
    answer = client.get("/v1/ops/audit-events?reference=org-audit&limit=100", headers=ops)
    assert answer.status_code == 200, answer.get_json()
    events = answer.get_json()["data"]
    actions = [e["action"] for e in reversed(events)]
    assert actions[0] == "verification.checks" and actions[-1] == "subject.erased"
    assert "ops.review" in actions and "ops.review.approve" in actions
    decision = next(e for e in events if e["action"] == "ops.review.approve")
    assert decision["actor"].startswith("key_") and decision["verification_id"] == waiting
    assert (
        "13800138000" not in decision["reason"] and "11010519491231002X" not in decision["reason"]
    )
    assert decision["reason"].startswith("seal seen on the original")
    assert all(e["object"] == "audit_event" and e["reference"] == "org-audit" for e in events)
    by_verification = client.get(f"/v1/ops/audit-events?verification={waiting}", headers=ops)
    assert {e["verification_id"] for e in by_verification.get_json()["data"]} == {waiting}
    first = client.get("/v1/ops/audit-events?reference=org-audit&limit=1", headers=ops).get_json()
    assert first["has_more"] is True and first["data"][0]["id"] == events[0]["id"]
    after = client.get(
        f"/v1/ops/audit-events?reference=org-audit&limit=1&starting_after={events[0]['id']}",
        headers=ops,
    ).get_json()
    assert after["data"][0]["id"] == events[1]["id"]
    other = make_key(tenant="other", scopes="ops")
    assert client.get("/v1/ops/audit-events", headers=other).get_json()["data"] == []
    foreign_cursor = client.get(
        f"/v1/ops/audit-events?starting_after={events[0]['id']}", headers=other
    )
    assert_error(foreign_cursor, 404, "not_found", "resource_missing")
    narrow = make_key(scopes="verifications:read")
    assert_error(
        client.get("/v1/ops/audit-events", headers=narrow), 403, "permission", "scope_missing"
    )
