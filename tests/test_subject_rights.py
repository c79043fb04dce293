"""Issue 13: the data subject's rights — a copy of their data (export) and consent
withdrawal — through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import random

from sqlalchemy import text

from tests.conftest import assert_error
from tests.helpers import checks_of, submit
from tests.synthetic import individual_body, organization_body
from tests.test_individual_flow import ready
from tests.test_organization_flow import ready_organization

rng = random.Random(14)


def export(client, key, reference, query=""):
    return client.get(f"/v1/subjects/{reference}/export{query}", headers=key)


def verified_with_face(client, auth, reference):
    body = individual_body(rng, reference=reference, face_match=True)
    decided = submit(client, auth, ready(client, auth, body)).get_json()
    assert decided["status"] == "verified", checks_of(decided)
    return body, decided


def test_the_export_holds_every_field_and_document_unmasked(client, auth, make_key):
    body, decided = verified_with_face(client, auth, "user-export")
    person = body["individual"]
    answer = export(client, auth, "user-export")
    assert answer.status_code == 200, answer.get_json()
    copy = answer.get_json()
    assert copy["object"] == "subject_export" and copy["erased_at"] is None
    values = {f["name"]: f["value"] for f in copy["fields"]}
    assert values["individual.name"] == person["name"]
    assert values["individual.id_number"] == person["id_number"]
    assert values["individual.bank_card.number"] == person["bank_card"]["number"]
    card = next(f for f in copy["fields"] if f["name"] == "individual.bank_card.number")
    assert card["purposes"] == ["bank_card_verification"] and card["delete_after"]
    kinds = {d["kind"]: d for d in copy["documents"]}
    assert set(kinds) == {"id_card_front", "id_card_back", "selfie"}
    assert kinds["selfie"]["purposes"] == ["facial_recognition"] and kinds["selfie"]["size"] > 0
    assert "image" not in kinds["selfie"]
    assert [v["id"] for v in copy["verifications"]] == [decided["id"]]
    with_images = export(client, auth, "user-export", "?include=documents").get_json()
    for document in with_images["documents"]:
        assert len(base64.b64decode(document["image"])) == document["size"]
    ops = make_key(scopes="ops")
    audit = client.get("/v1/ops/audit-events?reference=user-export", headers=ops).get_json()
    exported = [e for e in audit["data"] if e["action"] == "subject.exported"]
    assert len(exported) == 2 and exported[0]["details"]["images"] is True
    assert person["name"] not in str(audit) and person["id_number"] not in str(audit)


def test_export_is_404_for_a_reference_never_used_and_elsewhere(client, auth, make_key):
    verified_with_face(client, auth, "user-mine")
    assert_error(export(client, auth, "user-never"), 404, "not_found", "resource_missing")
    for key in (make_key(tenant="other"), make_key(mode="live")):
        assert_error(export(client, key, "user-mine"), 404, "not_found", "resource_missing")
    narrow = make_key(scopes="verifications:read,subjects:erase")
    assert_error(export(client, narrow, "user-mine"), 403, "permission", "scope_missing")
    assert_error(export(client, narrow, "user-never"), 403, "permission", "scope_missing")


def test_after_erasure_the_export_holds_nothing_personal(client, auth):
    body, decided = verified_with_face(client, auth, "user-erased")
    assert client.delete("/v1/subjects/user-erased", headers=auth).status_code == 204
    answer = export(client, auth, "user-erased")
    assert answer.status_code == 200
    copy = answer.get_json()
    assert copy["erased_at"] and copy["fields"] == [] and copy["documents"] == []
    assert copy["verifications"][0]["redacted"] is True
    text_ = answer.get_data(as_text=True)
    for value in (body["individual"]["name"], body["individual"]["id_number"]):
        assert value not in text_


def withdraw(client, key, reference, purposes):
    return client.post(
        f"/v1/subjects/{reference}/consent-withdrawal", json={"purposes": purposes}, headers=key
    )


def test_withdrawing_face_consent_deletes_the_selfie_and_scores_and_blocks_reverify(
    app, client, auth, make_key
):
    body, decided = verified_with_face(client, auth, "user-face")
    assert checks_of(decided)["face_match"][0] == "passed"
    answer = withdraw(client, auth, "user-face", ["facial_recognition"])
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["items_deleted"] == 1
    copy = export(client, auth, "user-face").get_json()
    assert {d["kind"] for d in copy["documents"]} == {"id_card_front", "id_card_back"}
    assert copy["withdrawn_purposes"] == ["facial_recognition"]
    shown = client.get(f"/v1/verifications/{decided['id']}", headers=auth).get_json()
    scores = {c["name"]: c["score"] for c in shown["checks"]}
    assert scores["face_match"] is None and scores["portrait_authority"] is None
    assert shown["status"] == "verified", "a decision stands"
    with app.extensions["kyc"].unit_of_work() as uow:
        kinds = uow.session.execute(text("SELECT kind FROM vault_documents")).scalars().all()
    assert "selfie" not in kinds, "gone from the database, not only hidden"
    ops = make_key(scopes="ops")
    again = client.post(
        f"/v1/ops/verifications/{decided['id']}/reverify", json={"reason": "r"}, headers=ops
    )
    assert_error(again, 422, "invalid_request", "consent_required")
    fresh = individual_body(rng, reference="user-face", face_match=True)
    renewed = submit(client, auth, ready(client, auth, fresh)).get_json()
    assert renewed["status"] == "verified", "a new verification with fresh consent is allowed"
    assert export(client, auth, "user-face").get_json()["withdrawn_purposes"] == []


def test_withdrawal_cancels_what_is_under_way_and_needs_it(client, auth):
    body = organization_body(rng, agent=False, reference="org-withdraw")
    waiting = submit(client, auth, ready_organization(client, auth, body)).get_json()
    assert waiting["status"] == "awaiting_confirmation"
    answer = withdraw(client, auth, "org-withdraw", ["bank_account_verification"])
    assert answer.get_json()["verifications_canceled"] == [waiting["id"]]
    shown = client.get(f"/v1/verifications/{waiting['id']}", headers=auth).get_json()
    assert (shown["status"], shown["last_error"]["code"]) == ("canceled", "consent_withdrawn")
    fields = {f["name"] for f in export(client, auth, "org-withdraw").get_json()["fields"]}
    assert (
        "organization.bank_account.account_number" not in fields and "organization.name" in fields
    )


def test_a_bad_withdrawal_is_refused(client, auth, make_key):
    verified_with_face(client, auth, "user-bad")
    for purposes in ([], ["marketing"], "facial_recognition"):
        assert_error(
            withdraw(client, auth, "user-bad", purposes),
            422,
            "invalid_request",
            "validation_failed",
        )
    assert_error(
        withdraw(client, auth, "user-never", ["facial_recognition"]),
        404,
        "not_found",
        "resource_missing",
    )
    narrow = make_key(scopes="subjects:export")
    assert_error(
        withdraw(client, narrow, "user-bad", ["facial_recognition"]),
        403,
        "permission",
        "scope_missing",
    )


def test_one_subjects_whole_life_reads_back_from_the_audit_log(app, client, auth, make_key):
    """Checks, review, re-verification, export, withdrawal, erasure: each opening and each
    decision names its actor; the chain verifies (``kyc-service audit verify``)."""
    from tests.test_organization_flow import confirm

    body = organization_body(rng, reference="org-life", face_match=True)
    waiting = ready_organization(client, auth, body, sealed=False)
    assert submit(client, auth, waiting).get_json()["status"] == "in_review"
    ops = make_key(scopes="ops")
    review = client.post(
        f"/v1/ops/verifications/{waiting}/review",
        json={"decision": "approve", "note": "seal checked"},
        headers=ops,
    )
    assert review.get_json()["status"] == "awaiting_confirmation"
    assert confirm(client, auth, waiting, "0.32").get_json()["status"] == "verified"
    child = client.post(
        f"/v1/ops/verifications/{waiting}/reverify", json={"reason": "yearly"}, headers=ops
    ).get_json()
    assert child["attempt"] == 2
    assert export(client, auth, "org-life").status_code == 200
    assert withdraw(client, auth, "org-life", ["facial_recognition"]).status_code == 200
    assert client.delete("/v1/subjects/org-life", headers=auth).status_code == 204
    events = client.get("/v1/ops/audit-events?reference=org-life&limit=100", headers=ops)
    life = list(reversed(events.get_json()["data"]))
    actions = [e["action"] for e in life]
    milestones = [
        "verification.checks",
        "ops.review",
        "ops.review.approve",
        "ops.reverify",
        "subject.exported",
        "consent.withdrawn",
        "subject.erased",
    ]
    positions = [actions.index(m) for m in milestones]
    assert positions == sorted(positions), actions
    for event in life:
        assert event["actor"].startswith(("key_", "system:")), event
    keys = {e["actor"] for e in life if e["actor"].startswith("key_")}
    assert len(keys) == 2, "the ops key and the tenant's key, each named"
    assert app.extensions["kyc"].verify_audit() is None
    plain = events.get_data(as_text=True)
    person = body["organization"]["legal_representative"]
    assert person["name"] not in plain and person["id_number"] not in plain


def test_every_ops_and_subject_endpoint_is_403_without_its_scope_and_404_elsewhere(
    client, auth, make_key
):
    body, decided = verified_with_face(client, auth, "user-scopes")
    vid = decided["id"]
    endpoints = [
        ("get", "/v1/ops/verifications", None, "ops"),
        ("post", f"/v1/ops/verifications/{vid}/review", {"decision": "approve"}, "ops"),
        ("post", f"/v1/ops/verifications/{vid}/reverify", {"reason": "r"}, "ops"),
        ("get", "/v1/ops/audit-events", None, "ops"),
        ("get", "/v1/ops/usage", None, "ops"),
        ("get", "/v1/subjects/user-scopes/export", None, "subjects:export"),
        (
            "post",
            "/v1/subjects/user-scopes/consent-withdrawal",
            {"purposes": ["facial_recognition"]},
            "subjects:erase",
        ),
        ("delete", "/v1/subjects/user-scopes", None, "subjects:erase"),
    ]
    nothing = make_key(scopes="phone:write")
    for method, path, payload, _ in endpoints:
        answer = getattr(client, method)(path, json=payload, headers=nothing)
        assert_error(answer, 403, "permission", "scope_missing")
    for tenant, mode in (("other", "test"), ("acme", "live")):
        for method, path, payload, scope in endpoints:
            if path.startswith("/v1/ops/") and method == "get":
                continue  # lists: empty for another tenant or mode (tested elsewhere)
            key = make_key(tenant=tenant, mode=mode, scopes=scope)
            answer = getattr(client, method)(path, json=payload, headers=key)
            assert_error(answer, 404, "not_found", "resource_missing")
    assert export(client, auth, "user-scopes").get_json()["fields"], "nothing was touched"


def test_withdrawing_real_name_consent_erases_the_subject(client, auth):
    body, decided = verified_with_face(client, auth, "user-realname")
    answer = withdraw(client, auth, "user-realname", ["real_name_authentication"])
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["erased"] is True
    copy = export(client, auth, "user-realname").get_json()
    assert copy["erased_at"] and copy["fields"] == [] and copy["documents"] == []
    assert copy["verifications"][0]["redacted"] is True


def test_a_withdrawal_cancel_starts_the_retention_clock(client, auth):
    body = organization_body(rng, agent=False, reference="org-clock")
    waiting = submit(client, auth, ready_organization(client, auth, body)).get_json()
    withdraw(client, auth, "org-clock", ["bank_account_verification"])
    shown = client.get(f"/v1/verifications/{waiting['id']}", headers=auth).get_json()
    assert shown["decided_at"], "canceled now: its documents are kept 30 days, not 365"
    documents = export(client, auth, "org-clock").get_json()["documents"]
    assert documents and all(d["delete_after"] for d in documents)
