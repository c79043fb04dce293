"""A 422 names its first problem and lists every problem of the request under ``errors``."""

from __future__ import annotations

import random

import pytest

from tests.conftest import assert_error
from tests.helpers import create
from tests.synthetic import individual_body, organization_body

rng = random.Random(12)


def test_every_invalid_field_is_listed(client, auth):
    body = individual_body(rng)
    body["individual"]["id_number"] = body["individual"]["id_number"][:-1] + (
        "0" if body["individual"]["id_number"][-1] != "0" else "1"
    )
    body["individual"]["phone"] = "12345"
    body["individual"]["name"] = "X"
    body["consent"]["purposes"] = []
    error = assert_error(create(client, auth, body), 422, "invalid_request", "name_invalid")
    listed = {(item["field"], item["code"]) for item in error["errors"]}
    assert listed == {
        ("individual.name", "name_invalid"),
        ("individual.id_number", "id_number_invalid"),
        ("individual.phone", "phone_invalid"),
        ("consent", "consent_required"),
    }
    assert (error["field"], error["code"]) == (
        error["errors"][0]["field"],
        error["errors"][0]["code"],
    )
    text = str(error)
    assert "12345" not in text and body["individual"]["id_number"] not in text


def test_schema_problems_are_all_listed(client, auth):
    body = individual_body(rng)
    body["reference"] = ""
    body["options"] = {"face_match": "perhaps"}
    error = assert_error(create(client, auth, body), 422, "invalid_request", "validation_failed")
    fields = {item["field"] for item in error["errors"]}
    assert {"options.face_match", "reference"} <= fields
    assert error["field"] == error["errors"][0]["field"]


def test_a_single_problem_is_listed_too(client, auth):
    body = individual_body(rng)
    body["individual"]["phone"] = "12345"
    error = assert_error(create(client, auth, body), 422, "invalid_request", "phone_invalid")
    assert error["errors"] == [
        {"field": "individual.phone", "code": "phone_invalid", "message": error["message"]}
    ]


def _listed(error: dict) -> dict[str | None, str]:
    """The problems of an answer: field → code."""
    return {item["field"]: item["code"] for item in error["errors"]}


def _wrong_check_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def test_schema_and_domain_problems_are_listed_together(client, auth):
    body = individual_body(rng)
    body["reference"] = ""
    body["options"] = {"face_match": "perhaps"}
    body["individual"]["id_number"] = _wrong_check_digit(body["individual"]["id_number"])
    body["individual"]["phone"] = "12345"
    error = assert_error(create(client, auth, body), 422, "invalid_request", "validation_failed")
    listed = _listed(error)
    assert listed["reference"] == "validation_failed"
    assert listed["options.face_match"] == "validation_failed"
    assert listed["individual.id_number"] == "id_number_invalid"
    assert listed["individual.phone"] == "phone_invalid"
    assert len(error["errors"]) == len(listed), "a field is listed once"
    text = str(error)
    assert "12345" not in text and body["individual"]["id_number"] not in text


def test_a_field_the_schema_refused_is_not_checked_again(client, auth):
    body = individual_body(rng)
    body["individual"]["name"] = 42
    body["consent"]["granted"] = "yes"
    body["individual"]["bank_card"]["number"] = "1234"
    error = assert_error(create(client, auth, body), 422, "invalid_request", "validation_failed")
    listed = _listed(error)
    assert listed["individual.name"] == "validation_failed"
    assert listed["consent.granted"] == "validation_failed"
    assert listed["individual.bank_card.number"] == "bank_card_invalid"
    assert "consent" not in listed, "the consent's own problem is already listed"


def test_organization_problems_are_listed_together(client, auth):
    body = organization_body(rng)
    org = body["organization"]
    org["entity_kind"] = "kingdom"
    org["uscc"] = _wrong_check_digit(org["uscc"])
    org["legal_representative"]["id_number"] = _wrong_check_digit(
        org["legal_representative"]["id_number"]
    )
    body["consent"]["purposes"] = ["real_name_authentication"]
    error = assert_error(create(client, auth, body), 422, "invalid_request", "validation_failed")
    listed = _listed(error)
    assert listed["organization.entity_kind"] == "validation_failed"
    assert listed["organization.uscc"] == "uscc_invalid"
    assert listed["organization.legal_representative.id_number"] == "id_number_invalid"
    assert listed["consent"] == "consent_required"


def test_a_missing_subject_is_listed_with_the_schema_problems(client, auth):
    body = individual_body(rng)
    del body["individual"]
    body["reference"] = ""
    error = assert_error(create(client, auth, body), 422, "invalid_request", "validation_failed")
    assert {"reference", "individual"} <= set(_listed(error))


def test_upload_lists_a_missing_kind_and_file_at_once(client, auth):
    created = create(client, auth, individual_body(rng))
    assert created.status_code == 201, created.get_json()
    response = client.post(
        f"/v1/verifications/{created.get_json()['id']}/documents",
        data={"note": "x"},
        headers=auth,
        content_type="multipart/form-data",
    )
    error = assert_error(response, 422, "invalid_request", "validation_failed")
    assert {"kind", "file"} <= set(_listed(error))


def test_phone_verification_lists_an_unknown_field_and_a_bad_phone(client, auth):
    response = client.post(
        "/v1/phone-verifications", json={"phone": "12345", "extra": 1}, headers=auth
    )
    error = assert_error(response, 422, "invalid_request", "validation_failed")
    assert _listed(error) == {"extra": "validation_failed", "phone": "phone_invalid"}
    assert "12345" not in str(error)


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        (
            "/v1/subjects/user-1/consent-withdrawal",
            {"purposes": ["x"], "y": 1},
            {"purposes.0", "y"},
        ),
        (
            "/v1/ops/verifications/ver_x/review",
            {"decision": "maybe", "note": 5},
            {"decision", "note"},
        ),
        ("/v1/verifications/ver_x/deposit-confirmation", {"amount": "", "z": 1}, {"amount", "z"}),
        ("/v1/phone-verifications/pv_x/check", {"code": "12", "z": 1}, {"code", "z"}),
    ],
)
def test_other_bodies_list_every_problem(client, make_key, path, body, fields):
    headers = make_key(scopes="*")
    error = assert_error(
        client.post(path, json=body, headers=headers), 422, "invalid_request", "validation_failed"
    )
    assert fields <= set(_listed(error))
