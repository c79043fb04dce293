"""Issue 16: the OpenAPI document is valid, helpful, and agrees with what the service does.

``GET /v1/openapi.json`` passes ``openapi-spec-validator``; the document upload is one
``multipart/form-data`` body (``kind`` with its enum, ``file`` binary); the create body has
complete, valid examples; purposes, kinds, statuses, check names, error codes and event
types are enums taken from the service's own constants; every operation is described and
documents its 4xx answers with the contract's error shape.
"""

from __future__ import annotations

import io
import random

import pytest
from openapi_spec_validator import validate
from stdnum import luhn
from stdnum.cn import ric, uscc

from kyc_service.domain.errors import ERROR_CODES
from schemas import examples, vocabulary
from tests.conftest import assert_error
from tests.synthetic import photo_jpeg

UPLOAD = "/v1/verifications/{verification_id}/documents"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        section = "responses" if "/responses/" in node["$ref"] else "schemas"
        node = spec["components"][section][name]
    return node


def test_the_document_validates(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_no_parameter_is_form_data(spec):
    for path, method, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            assert parameter["in"] in {"path", "query", "header", "cookie"}, (path, method)


def test_the_upload_is_one_multipart_body_with_kind_and_file(spec):
    operation = spec["paths"][UPLOAD]["post"]
    assert [p for p in operation.get("parameters", []) if p["in"] != "path"] == []
    content = operation["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    schema = _resolve(spec, content["multipart/form-data"]["schema"])
    assert set(schema["required"]) == {"kind", "file"}
    assert schema["properties"]["kind"]["enum"] == list(vocabulary.DOCUMENT_KINDS)
    assert "selfie" in schema["properties"]["kind"]["enum"]
    assert schema["properties"]["file"] == {
        **schema["properties"]["file"],
        "type": "string",
        "format": "binary",
    }


def test_create_has_an_individual_and_an_organization_example(spec):
    body = spec["paths"]["/v1/verifications"]["post"]["requestBody"]
    examples_ = body["content"]["application/json"]["examples"]
    assert examples_["individual"]["value"]["type"] == "individual"
    assert examples_["organization"]["value"]["type"] == "organization"


def test_the_examples_are_synthetic_and_valid(client, auth):
    person = examples.INDIVIDUAL_CREATE["individual"]
    org = examples.ORGANIZATION_CREATE["organization"]
    assert ric.is_valid(person["id_number"]) and luhn.is_valid(person["bank_card"]["number"])
    assert uscc.is_valid(org["uscc"])
    assert ric.is_valid(org["legal_representative"]["id_number"])
    assert ric.is_valid(org["agent"]["id_number"])
    for example in (examples.INDIVIDUAL_CREATE, examples.ORGANIZATION_CREATE):
        response = client.post("/v1/verifications", json=example, headers=auth)
        assert response.status_code == 201, response.get_json()


def test_purposes_and_other_closed_lists_are_enums(spec):
    schemas = spec["components"]["schemas"]
    purposes = schemas["Consent"]["properties"]["purposes"]["items"]["enum"]
    assert purposes == list(vocabulary.PURPOSES)
    assert set(purposes) == {
        "real_name_authentication",
        "bank_card_verification",
        "facial_recognition",
        "bank_account_verification",
    }
    withdrawal = schemas["ConsentWithdrawal"]["properties"]["purposes"]["items"]["enum"]
    assert withdrawal == list(vocabulary.PURPOSES)
    assert schemas["Check"]["properties"]["name"]["enum"] == list(vocabulary.CHECK_NAMES)
    assert schemas["Verification"]["properties"]["status"]["enum"] == list(vocabulary.STATUSES)
    assert schemas["ErrorBody"]["properties"]["code"]["enum"] == list(ERROR_CODES)
    assert schemas["Problem"]["properties"]["code"]["enum"] == list(ERROR_CODES)


def test_every_check_name_of_the_contract_is_in_the_enum():
    contract = {
        "id_number", "identity", "bank_card", "document_quality", "id_card_ocr", "face_match",
        "portrait_authority", "uscc", "business_registry", "legal_representative_identity",
        "agent_identity", "certificate_ocr", "power_of_attorney_seal", "bank_account",
        "agent_id_card_ocr", "review",
    }  # fmt: skip
    assert contract == set(vocabulary.CHECK_NAMES)


def test_every_operation_has_a_summary_and_documents_its_errors(spec):
    for path, method, operation in _operations(spec):
        assert operation.get("summary"), (path, method)
        if not path.startswith("/v1/"):
            continue
        responses = operation["responses"]
        assert {"401", "403"} <= set(responses), (path, method)
        if "requestBody" in operation:
            assert "422" in responses, (path, method)
        for status, response in responses.items():
            if status.startswith("4") or status == "default":
                schema = _resolve(spec, _resolve(spec, response)["content"]["application/json"])
                body = _resolve(spec, _resolve(spec, schema["schema"])["properties"]["error"])
                assert "errors" in body["properties"], (path, method, status)


def test_the_verification_operations_are_described(spec):
    for path, method, operation in _operations(spec):
        if path.startswith(("/v1/verifications", "/v1/phone", "/v1/subjects", "/v1/ops")):
            assert operation.get("description"), (path, method)


def test_an_upload_as_curl_sends_it_still_works(client, auth):
    from tests.synthetic import card_photos, individual_body

    body = individual_body(random.Random(16), card=False)
    created = client.post("/v1/verifications", json=body, headers=auth).get_json()
    response = client.post(
        f"/v1/verifications/{created['id']}/documents",
        data={
            "kind": "id_card_front",
            "file": (io.BytesIO(card_photos(body)["id_card_front"]), "f.jpg"),
        },
        headers=auth,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == "id_card_front"


def test_a_raw_image_posted_to_the_upload_is_told_what_to_send(client, auth):
    response = client.post(
        "/v1/verifications/ver_x/documents",
        data=photo_jpeg(),
        headers={**auth, "Content-Type": "image/jpeg"},
    )
    error = assert_error(response, 415, "unsupported_media_type", "unsupported_media_type")
    assert error["message"] == (
        "send the document as multipart/form-data with the fields kind and file"
    )
    response = client.post(
        "/v1/verifications", data=b"x=1", headers={**auth, "Content-Type": "text/plain"}
    )
    error = assert_error(response, 415, "unsupported_media_type", "unsupported_media_type")
    assert "application/json" in error["message"]
