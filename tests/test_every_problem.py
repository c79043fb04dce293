"""A 422 names its first problem and lists every problem of the request under ``errors``."""

from __future__ import annotations

import random

from tests.conftest import assert_error
from tests.helpers import create
from tests.synthetic import individual_body

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
