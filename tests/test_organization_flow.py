"""Organization verification through the HTTP API (SQLite and PostgreSQL): API.md § Organization.

Creation and validation, requirements, documents, the checks, the micro-deposit, review,
erasure; the seal detector itself is measured in ``tests/test_seal_detection.py``.
"""

from __future__ import annotations

import random

import pytest

from tests.conftest import assert_error
from tests.helpers import create
from tests.synthetic import organization_body

rng = random.Random(11)


def test_an_organization_is_created_masked_with_its_requirements(client, auth):
    body = organization_body(rng)
    response = create(client, auth, body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    org = body["organization"]
    shown = created["organization"]
    assert created["type"] == "organization" and created["individual"] is None
    assert shown["name"] == org["name"]
    assert shown["uscc"] == org["uscc"][:4] + "*" * 10 + org["uscc"][-4:]
    assert shown["legal_representative"]["id_number"].endswith(
        org["legal_representative"]["id_number"][-4:]
    )
    assert shown["bank_account"] == {
        "bank_name": org["bank_account"]["bank_name"],
        "last4": org["bank_account"]["account_number"][-4:],
    }
    assert shown["contact"]["email"] == "o***@example.cn"
    assert created["requirements"] == [
        "document.certificate",
        "document.legal_rep_id_card_front",
        "document.legal_rep_id_card_back",
        "document.power_of_attorney",
        "document.agent_id_card_front",
        "document.agent_id_card_back",
    ]
    text = response.get_data(as_text=True)
    for secret in (
        org["uscc"],
        org["legal_representative"]["id_number"],
        org["agent"]["id_number"],
        org["bank_account"]["account_number"],
        org["legal_representative"]["name"],
    ):
        assert secret not in text
    fetched = client.get(f"/v1/verifications/{created['id']}", headers=auth).get_json()
    assert fetched == created


def test_without_an_agent_and_with_face_match_the_requirements_follow(client, auth):
    body = organization_body(rng, agent=False, face_match=True)
    created = create(client, auth, body).get_json()
    assert created["requirements"] == [
        "document.certificate",
        "document.legal_rep_id_card_front",
        "document.legal_rep_id_card_back",
        "document.legal_rep_photo",
    ]


def test_an_invalid_uscc_is_uscc_invalid(client, auth):
    body = organization_body(rng)
    body["organization"]["uscc"] = body["organization"]["uscc"][:-1] + (
        "0" if body["organization"]["uscc"][-1] != "0" else "1"
    )
    error = assert_error(create(client, auth, body), 422, "invalid_request", "uscc_invalid")
    assert error["field"] == "organization.uscc"


def test_every_problem_of_an_organization_at_once_and_nothing_stored(client, auth):
    body = organization_body(rng)
    org = body["organization"]
    org["uscc"] = "123"
    org["legal_representative"]["id_number"] = "110105194912310021"
    org["agent"]["phone"] = "12345"
    org["contact"]["email"] = "not an email"
    org["bank_account"]["account_number"] = "12ab"
    response = create(client, auth, body)
    error = assert_error(response, 422, "invalid_request", "uscc_invalid")
    codes = {(p["field"], p["code"]) for p in error["errors"]}
    assert codes >= {
        ("organization.uscc", "uscc_invalid"),
        ("organization.legal_representative.id_number", "id_number_invalid"),
        ("organization.agent.phone", "phone_invalid"),
        ("organization.contact.email", "email_invalid"),
        ("organization.bank_account.account_number", "validation_failed"),
    }
    assert client.get("/v1/verifications", headers=auth).get_json()["data"] == []


def test_an_organization_needs_consent_to_verify_its_account(client, auth):
    body = organization_body(rng)
    body["consent"]["purposes"] = ["real_name_authentication"]
    assert_error(create(client, auth, body), 422, "invalid_request", "consent_required")


def test_an_underage_representative_is_refused(client, auth):
    from datetime import date

    from tests.synthetic import id_number

    body = organization_body(rng)
    body["organization"]["legal_representative"]["id_number"] = id_number(rng, date(2016, 5, 1))
    error = assert_error(create(client, auth, body), 422, "invalid_request", "subject_underage")
    assert error["field"] == "organization.legal_representative.id_number"


def ready_organization(client, auth, body, **documents_options) -> str:
    """Create an organization verification and upload every document; return its id."""
    from tests.helpers import upload
    from tests.synthetic import organization_documents

    created = create(client, auth, body)
    assert created.status_code == 201, created.get_json()
    verification_id = created.get_json()["id"]
    for kind, image in organization_documents(body, **documents_options).items():
        response = upload(client, auth, verification_id, kind, image)
        assert response.status_code == 201, (kind, response.get_json())
    return verification_id


def confirm(client, auth, verification_id, amount):
    return client.post(
        f"/v1/verifications/{verification_id}/deposit-confirmation",
        json={"amount": amount},
        headers=auth,
    )


def test_the_happy_path_with_an_agent_waits_for_the_deposit_then_verifies(client, auth):
    from tests.helpers import checks_of, submit

    body = organization_body(rng, reference="org-happy")
    verification_id = ready_organization(client, auth, body)
    submitted = submit(client, auth, verification_id)
    assert submitted.status_code == 200, submitted.get_json()
    waiting = submitted.get_json()
    assert waiting["status"] == "awaiting_confirmation", checks_of(waiting)
    assert checks_of(waiting) == {
        "uscc": ("passed", None),
        "id_number": ("passed", None),
        "document_quality": ("passed", None),
        "certificate_ocr": ("passed", None),
        "id_card_ocr": ("passed", None),
        "agent_id_card_ocr": ("passed", None),
        "power_of_attorney_seal": ("passed", None),
        "business_registry": ("passed", None),
        "legal_representative_identity": ("passed", None),
        "agent_identity": ("passed", None),
        "bank_account": ("pending", None),
    }
    wrong = confirm(client, auth, verification_id, "0.31")
    error = assert_error(wrong, 422, "invalid_request", "deposit_amount_mismatch")
    assert error["attempts_remaining"] == 2 and error["field"] == "amount"
    right = confirm(client, auth, verification_id, "0.32")
    assert right.status_code == 200, right.get_json()
    assert right.get_json()["status"] == "verified"
    assert checks_of(right.get_json())["bank_account"] == ("passed", None)
    events = client.get("/v1/events?limit=100", headers=auth).get_json()["data"]
    mine = [e["type"] for e in reversed(events) if e["data"]["object"]["id"] == verification_id]
    assert mine == [
        "verification.requires_input",
        "verification.processing",
        "verification.awaiting_confirmation",
        "verification.processing",
        "verification.verified",
    ]


def submitted_waiting(client, auth, body) -> str:
    """A verification brought to ``awaiting_confirmation``; return its id."""
    from tests.helpers import submit

    verification_id = ready_organization(client, auth, body)
    answer = submit(client, auth, verification_id).get_json()
    assert answer["status"] == "awaiting_confirmation", answer["checks"]
    return verification_id


def test_three_wrong_amounts_reject(client, auth):
    verification_id = submitted_waiting(client, auth, organization_body(rng, agent=False))
    remaining = []
    for amount in ("0.10", "0.11", "0.12"):
        error = assert_error(
            confirm(client, auth, verification_id, amount),
            422,
            "invalid_request",
            "deposit_amount_mismatch",
        )
        remaining.append(error["attempts_remaining"])
    assert remaining == [2, 1, 0]
    final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert final["status"] == "rejected"
    assert final["last_error"]["code"] == "deposit_attempts_exhausted"
    assert_error(confirm(client, auth, verification_id, "0.32"), 409, "conflict", "invalid_state")


def test_an_expired_deposit_is_410_and_retry_pending_rejects_what_waits(app, client, auth):
    from datetime import timedelta

    from kyc_service.services.pipeline import retry_pending

    services = app.extensions["kyc"]
    first = submitted_waiting(client, auth, organization_body(rng, agent=False, reference="o-1"))
    second = submitted_waiting(client, auth, organization_body(rng, agent=False, reference="o-2"))
    real = services.vault.clock
    services.vault.clock = lambda: real() + timedelta(hours=73)
    assert_error(confirm(client, auth, first, "0.32"), 410, "gone", "deposit_expired")
    retry_pending(services)
    for verification_id in (first, second):
        final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
        assert (final["status"], final["last_error"]["code"]) == ("rejected", "deposit_expired")
        assert [e for e in final["checks"] if e["name"] == "bank_account"][0]["code"] == (
            "deposit_expired"
        )
    assert_error(confirm(client, auth, second, "0.32"), 410, "gone", "deposit_expired")


def test_a_bad_amount_is_validation_failed(client, auth):
    verification_id = submitted_waiting(client, auth, organization_body(rng, agent=False))
    for amount in ("abc", "1.50", "0.001", "-0.3", "1e30", "9e99", "NaN", "Infinity"):
        error = assert_error(
            confirm(client, auth, verification_id, amount),
            422,
            "invalid_request",
            "validation_failed",
        )
        assert error["field"] == "amount"


@pytest.mark.parametrize(
    ("changes", "check", "code"),
    [
        ({"name": "测试不存在企业"}, "business_registry", "entity_not_found"),
        ({"name": "测试已注销企业"}, "business_registry", "entity_deregistered"),
        ({"representative": "测试法人不符"}, "business_registry", "legal_representative_mismatch"),
    ],
)
def test_the_registry_magic_values_reject(client, auth, changes, check, code):
    from tests.helpers import checks_of, submit

    body = organization_body(rng, agent=False, **changes)
    verification_id = ready_organization(client, auth, body)
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "rejected", checks_of(decided)
    assert checks_of(decided)[check] == ("failed", code)
    assert decided["last_error"]["code"] == code


@pytest.mark.parametrize(
    ("who", "name", "check", "code"),
    [
        ("legal_representative", "测试不符", "legal_representative_identity", "name_id_mismatch"),
        ("agent", "测试无此人", "agent_identity", "id_not_found"),
    ],
)
def test_the_identity_magic_values_reject(client, auth, who, name, check, code):
    from tests.helpers import checks_of, submit

    body = organization_body(rng)
    body["organization"][who]["name"] = name
    verification_id = ready_organization(client, auth, body)
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "rejected", checks_of(decided)
    assert checks_of(decided)[check] == ("failed", code)


def test_a_power_of_attorney_without_a_seal_goes_to_review_then_ops_approves(
    client, auth, make_key
):
    from tests.helpers import checks_of, submit

    body = organization_body(rng)
    verification_id = ready_organization(client, auth, body, sealed=False)
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "in_review", checks_of(decided)
    assert checks_of(decided)["power_of_attorney_seal"][1] == "seal_not_found"
    ops = make_key(scopes="ops")
    review = client.post(
        f"/v1/ops/verifications/{verification_id}/review",
        json={"decision": "approve", "note": "seal checked on the original"},
        headers=ops,
    )
    assert review.status_code == 200, review.get_json()
    assert review.get_json()["status"] == "awaiting_confirmation"
    assert confirm(client, auth, verification_id, "0.32").get_json()["status"] == "verified"
    narrow = client.post(
        f"/v1/ops/verifications/{verification_id}/review",
        json={"decision": "reject"},
        headers=make_key(scopes="verifications:read"),
    )
    assert_error(narrow, 403, "permission", "scope_missing")


def test_a_certificate_with_another_uscc_is_ocr_mismatch(client, auth):
    from tests.helpers import checks_of, submit
    from tests.synthetic import uscc

    body = organization_body(rng, agent=False)
    verification_id = ready_organization(client, auth, body, printed_uscc=uscc(rng))
    decided = submit(client, auth, verification_id).get_json()
    assert checks_of(decided)["certificate_ocr"] == ("failed", "ocr_mismatch")
    assert decided["status"] == "rejected"


def test_the_representatives_face_is_matched(client, auth):
    from tests.helpers import checks_of, submit

    body = organization_body(rng, agent=False, face_match=True)
    verification_id = ready_organization(client, auth, body)
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "awaiting_confirmation", checks_of(decided)
    assert checks_of(decided)["face_match"][0] == "passed"
    assert checks_of(decided)["portrait_authority"] == ("passed", None)


def test_erasure_while_awaiting_the_deposit_cancels(client, auth):
    body = organization_body(rng, agent=False, reference="org-erase")
    verification_id = submitted_waiting(client, auth, body)
    assert client.delete("/v1/subjects/org-erase", headers=auth).status_code == 204
    shell = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert (shell["status"], shell["last_error"]["code"]) == ("canceled", "subject_erased")
    assert shell["organization"] is None and shell["redacted"] is True
    assert_error(confirm(client, auth, verification_id, "0.32"), 409, "conflict", "invalid_state")


def test_pages_photographed_on_a_desk_are_read_too(client, auth):
    from tests.helpers import submit

    body = organization_body(rng)
    verification_id = ready_organization(client, auth, body, photo=True)
    assert submit(client, auth, verification_id).get_json()["status"] == "awaiting_confirmation"


def test_wrong_amounts_sent_at_once_each_cost_an_attempt(app, client, auth):
    from functools import partial

    from tests.test_races import at_once

    verification_id = submitted_waiting(client, auth, organization_body(rng, agent=False))
    answers = at_once(
        *[
            partial(confirm, app.test_client(), auth, verification_id, f"0.{n}")
            for n in (10, 11, 12, 13)
        ]
    )
    statuses = sorted(a.status_code for a in answers)
    assert all(code in (409, 422) for code in statuses), statuses
    final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    wrong = [a for a in answers if a.status_code == 422]
    remaining = sorted(a.get_json()["error"]["attempts_remaining"] for a in wrong)
    assert remaining == sorted(set(remaining)), remaining  # no attempt counted twice
    assert len(wrong) <= 3
    if len(wrong) == 3:
        assert final["status"] == "rejected"


def test_a_clean_scan_on_pure_white_paper_is_accepted(client, auth):
    import io

    from PIL import Image, ImageDraw

    from tests import cards
    from tests.helpers import upload

    cards.require_font()
    body = organization_body(rng, agent=False)
    verification_id = create(client, auth, body).get_json()["id"]
    sheet = Image.new("RGB", (1240, 1754), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for line in range(30):
        draw.text(
            (120, 120 + 50 * line),
            "营业执照 名称 统一社会信用代码" * 2,
            fill=(20, 20, 20),
            font=cards.font(28),
        )
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=92)
    answer = upload(client, auth, verification_id, "certificate", out.getvalue())
    assert answer.status_code == 201, answer.get_json()
