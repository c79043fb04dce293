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
    newest = first["data"][0]
    assert first["has_more"] is True
    assert newest["action"] == "ops.audit_events.read", "reading the subject's trail is on it"
    after = client.get(
        f"/v1/ops/audit-events?reference=org-audit&limit=1&starting_after={newest['id']}",
        headers=ops,
    ).get_json()
    assert after["data"][0]["id"] == events[0]["id"], "the page after the cursor, unchanged"
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
    client.get("/v1/ops/verifications", headers=ops)
    client.get("/v1/ops/usage", headers=ops)
    reads = client.get("/v1/ops/audit-events?limit=100", headers=ops).get_json()["data"]
    read_actions = {
        e["action"]
        for e in reads
        if e["action"].startswith("ops.") and e["action"].endswith(".read")
    }
    assert read_actions == {"ops.queue.read", "ops.usage.read", "ops.audit_events.read"}
    assert {e["actor"] for e in reads if e["action"] in read_actions} == {decision["actor"]}


# --- re-verification ------------------------------------------------------------------------


def reverify(client, key, verification_id, reason="annual review"):
    return client.post(
        f"/v1/ops/verifications/{verification_id}/reverify", json={"reason": reason}, headers=key
    )


def test_reverify_runs_every_check_again_from_the_data_held(app, client, auth, make_key):
    body = individual_body(rng, reference="user-again")
    parent = submit(client, auth, ready(client, auth, body)).get_json()
    assert parent["status"] == "verified"
    ops = make_key(scopes="ops")
    answer = reverify(client, ops, parent["id"])
    assert answer.status_code == 201, answer.get_json()
    child = answer.get_json()
    assert child["id"] != parent["id"] and child["parent_id"] == parent["id"]
    assert (child["attempt"], child["status"], child["reference"]) == (2, "verified", "user-again")
    assert child["individual"] == parent["individual"], "the same person, masked the same"
    assert checks_of(child) == checks_of(parent)
    again = client.get(f"/v1/verifications/{parent['id']}", headers=auth).get_json()
    assert again == parent, "the parent is untouched"
    third = reverify(client, ops, child["id"]).get_json()
    assert (third["attempt"], third["parent_id"]) == (3, child["id"])
    audit = client.get(f"/v1/ops/audit-events?verification={parent['id']}", headers=ops)
    events = [e for e in audit.get_json()["data"] if e["action"] == "ops.reverify"]
    assert all(e["actor"].startswith("key_") for e in events), "each opening names the key"
    (event,) = [e for e in events if "new_verification" in e["details"]]
    assert (
        event["reason"] == "annual review" and event["details"]["new_verification"] == child["id"]
    )


def test_a_changed_answer_upstream_fails_the_new_attempt(app, client, auth, make_key):
    from kyc_service.domain.access import Mode
    from kyc_service.domain.results import Mismatch

    parent = submit(client, auth, ready(client, auth, individual_body(rng))).get_json()
    assert parent["status"] == "verified"
    adapters = app.extensions["kyc"].adapters
    bank = adapters.get("bank", Mode.TEST)
    real = bank.verify
    bank.verify = lambda *args, **kwargs: Mismatch("phone_mismatch", billable=False)
    try:
        child = reverify(client, make_key(scopes="ops"), parent["id"]).get_json()
    finally:
        bank.verify = real
    assert child["status"] == "rejected"
    assert checks_of(child)["bank_card"] == ("failed", "phone_mismatch")


def test_reverify_of_an_organization_pays_a_new_deposit(client, auth, make_key):
    from tests.test_organization_flow import confirm

    body = organization_body(rng, agent=False, reference="org-again")
    waiting = submit(client, auth, ready_organization(client, auth, body)).get_json()
    assert confirm(client, auth, waiting["id"], "0.32").get_json()["status"] == "verified"
    child = reverify(client, make_key(scopes="ops"), waiting["id"]).get_json()
    assert (child["status"], child["attempt"]) == ("awaiting_confirmation", 2), checks_of(child)
    assert confirm(client, auth, child["id"], "0.32").get_json()["status"] == "verified"


def test_reverify_after_erasure_is_409_and_elsewhere_404(client, auth, make_key):
    parent = submit(client, auth, ready(client, auth, individual_body(rng, reference="gone")))
    parent_id = parent.get_json()["id"]
    ops = make_key(scopes="ops")
    for key in (make_key(tenant="other", scopes="ops"), make_key(mode="live", scopes="ops")):
        assert_error(reverify(client, key, parent_id), 404, "not_found", "resource_missing")
    narrow = make_key(scopes="verifications:write")
    assert_error(reverify(client, narrow, parent_id), 403, "permission", "scope_missing")
    assert_error(
        client.post(f"/v1/ops/verifications/{parent_id}/reverify", json={}, headers=ops),
        422,
        "invalid_request",
        "validation_failed",
    )
    assert client.delete("/v1/subjects/gone", headers=auth).status_code == 204
    assert_error(reverify(client, ops, parent_id), 409, "conflict", "invalid_state")


def test_reverify_refuses_what_is_under_way_and_documents_past_retention(
    app, client, auth, make_key
):
    from datetime import timedelta

    ops = make_key(scopes="ops")
    waiting = in_review(client, auth, "org-busy")
    assert_error(reverify(client, ops, waiting), 409, "conflict", "invalid_state")
    parent = submit(client, auth, ready(client, auth, individual_body(rng, reference="old")))
    parent_id = parent.get_json()["id"]
    vault = app.extensions["kyc"].vault
    real_clock = vault.clock
    vault.clock = lambda: real_clock() + timedelta(days=31)  # documents kept 30 days
    try:
        late = reverify(client, ops, parent_id)
    finally:
        vault.clock = real_clock
    assert_error(late, 409, "conflict", "invalid_state")
    assert "retention" in late.get_json()["error"]["message"]


def test_a_path_whose_methods_need_other_scopes_answers_the_same_every_time(client, make_key):
    reader = make_key(scopes="verifications:read")
    for _ in range(3):
        assert_error(
            client.delete("/v1/verifications", headers=reader),
            405,
            "invalid_request",
            "method_not_allowed",
        )
    nothing = make_key(scopes="phone:write")
    assert_error(
        client.delete("/v1/verifications", headers=nothing), 403, "permission", "scope_missing"
    )
    options = client.open("/v1/ops/verifications", method="OPTIONS", headers=nothing)
    assert options.status_code == 200
