"""The individual flow end to end through the HTTP API, with the sandbox verifiers."""

from __future__ import annotations

import io
import json
import random
from datetime import date, timedelta

import pytest
from PIL import Image

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.services.pipeline import retry_pending
from tests.conftest import assert_error
from tests.helpers import checks_of, count_verifications, create, submit, upload
from tests.synthetic import card_photos, face_photo, id_number, individual_body, photo_jpeg

rng = random.Random(4)


def ready(client, auth, body):
    """Create a verification and upload every document it needs; return its id."""
    created = create(client, auth, body)
    assert created.status_code == 201, created.get_json()
    verification_id = created.get_json()["id"]
    for kind, image in card_photos(body).items():
        response = upload(client, auth, verification_id, kind, image)
        assert response.status_code == 201, response.get_json()
    if body["options"]["face_match"]:
        response = upload(client, auth, verification_id, "selfie", face_photo("obama_2.jpg"))
        assert response.status_code == 201, response.get_json()
    return verification_id


def plain_values(body):
    person = body["individual"]
    values = [person["name"], person["id_number"], person["phone"]]
    if "bank_card" in person:
        values += [person["bank_card"]["number"], person["bank_card"]["reserved_phone"]]
    return values


def assert_no_plain_data(response, body):
    text = response.get_data(as_text=True)
    for value in plain_values(body):
        assert value not in text
        assert json.dumps(value)[1:-1] not in text


def test_happy_path_is_verified_and_never_shows_plain_data(client, auth):
    body = individual_body(rng)
    created = create(client, auth, body)
    assert created.status_code == 201
    verification = created.get_json()
    assert verification["status"] == "requires_input"
    assert verification["requirements"] == ["document.id_card_front", "document.id_card_back"]
    assert (
        verification["individual"]["id_number"]
        == body["individual"]["id_number"][:4] + "*" * 10 + body["individual"]["id_number"][-4:]
    )
    assert verification["individual"]["name"] == body["individual"]["name"][0] + "*"
    assert (
        verification["individual"]["bank_card"]["last4"]
        == body["individual"]["bank_card"]["number"][-4:]
    )
    assert_no_plain_data(created, body)
    verification_id = verification["id"]
    photos = card_photos(body)
    document = upload(client, auth, verification_id, "id_card_front", photos["id_card_front"])
    assert document.status_code == 201
    accepted = document.get_json()
    assert accepted["object"] == "document" and accepted["status"] == "accepted"
    assert accepted["quality"]["width"] == 1280 and accepted["quality"]["card_found"] is True
    assert accepted["quality"]["faces"] == 1
    upload(client, auth, verification_id, "id_card_back", photos["id_card_back"])
    submitted = submit(client, auth, verification_id)
    assert submitted.status_code == 200
    decided = submitted.get_json()
    assert decided["status"] == "verified", decided
    assert decided["decided_at"] and decided["requirements"] == []
    assert checks_of(decided) == {
        "id_number": ("passed", None),
        "document_quality": ("passed", None),
        "id_card_ocr": ("passed", None),
        "identity": ("passed", None),
        "bank_card": ("passed", None),
    }
    for response in (
        submitted,
        client.get(f"/v1/verifications/{verification_id}", headers=auth),
        client.get("/v1/verifications", headers=auth),
        client.get("/v1/events", headers=auth),
    ):
        assert response.status_code == 200
        assert_no_plain_data(response, body)


def test_face_match_flow_needs_a_selfie_and_passes_the_portrait_check(client, auth):
    body = individual_body(rng, face_match=True)
    verification_id = create(client, auth, body).get_json()["id"]
    assert (
        "document.selfie"
        in client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()[
            "requirements"
        ]
    )
    verification_id = ready(client, auth, individual_body(rng, face_match=True, reference="u-2"))
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "verified", decided
    assert checks_of(decided)["portrait_authority"] == ("passed", None)


@pytest.mark.parametrize(
    ("person", "check", "code"),
    [
        ({"name": "测试不符"}, "identity", "name_id_mismatch"),
        ({"name": "测试无此人"}, "identity", "id_not_found"),
        ({"reserved_phone": "13900000001"}, "bank_card", "phone_mismatch"),
        ({"reserved_phone": "+8613900000002"}, "bank_card", "bank_card_mismatch"),
        ({"reserved_phone": "13900000003"}, "bank_card", "card_not_supported"),
    ],
)
def test_magic_values_reject_with_their_code(client, auth, person, check, code):
    decided = submit(client, auth, ready(client, auth, individual_body(rng, **person))).get_json()
    assert decided["status"] == "rejected"
    assert checks_of(decided)[check] == ("failed", code)
    assert decided["last_error"]["code"] == code


def test_portrait_magic_name_rejects(client, auth):
    body = individual_body(rng, face_match=True, name="测试人像不符")
    decided = submit(client, auth, ready(client, auth, body)).get_json()
    assert decided["status"] == "rejected"
    assert checks_of(decided)["portrait_authority"] == ("failed", "portrait_mismatch")


def test_a_failed_identity_check_asks_no_further_upstream(client, auth):
    decided = submit(
        client, auth, ready(client, auth, individual_body(rng, name="测试不符"))
    ).get_json()
    assert "bank_card" not in checks_of(decided)


class Flaky:
    """A bank verifier that is down until told otherwise, counting its calls."""

    def __init__(self, real):
        self.real, self.down, self.calls = real, True, 0

    def close(self):
        self.real.close()

    def verify(self, *args, **kwargs):
        self.calls += 1
        if self.down:
            raise UpstreamUnavailable("down")
        return self.real.verify(*args, **kwargs)


def test_upstream_outage_stays_processing_then_recovers_on_retry(app, client, auth):
    services = app.extensions["kyc"]
    flaky = Flaky(services.adapters.get("bank", Mode.TEST))
    services.adapters._built[("bank", Mode.TEST, "sandbox")] = flaky
    verification_id = ready(client, auth, individual_body(rng))
    held = submit(client, auth, verification_id).get_json()
    assert held["status"] == "processing"
    assert held["last_error"]["code"] == "upstream_unavailable"
    assert checks_of(held)["bank_card"] == ("error", "upstream_unavailable")
    assert retry_pending(services) == 0  # not due yet
    flaky.down = False
    real_clock = services.vault.clock
    services.vault.clock = lambda: real_clock() + timedelta(hours=1)
    assert retry_pending(services) == 1
    decided = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert decided["status"] == "verified" and decided["last_error"] is None
    assert flaky.calls == 2


def test_the_sandbox_outage_value_goes_to_review_when_retries_are_spent(app, client, auth):
    services = app.extensions["kyc"]
    verification_id = ready(client, auth, individual_body(rng, reserved_phone="13900000009"))
    assert submit(client, auth, verification_id).get_json()["status"] == "processing"
    real_clock = services.vault.clock
    for hours in range(1, 40):
        services.vault.clock = lambda hours=hours: real_clock() + timedelta(hours=hours * 24)
        retry_pending(services)
    final = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert final["status"] == "in_review"
    assert final["last_error"]["code"] == "upstream_unavailable"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            lambda b: b["individual"].update(
                id_number=b["individual"]["id_number"][:-1]
                + ("0" if b["individual"]["id_number"][-1] != "0" else "1")
            ),
            "id_number_invalid",
            "individual.id_number",
        ),
        (lambda b: b["individual"].update(name="张"), "name_invalid", "individual.name"),
        (lambda b: b["individual"].update(name="张三3"), "name_invalid", "individual.name"),
        (lambda b: b["individual"].update(phone="12345"), "phone_invalid", "individual.phone"),
        (
            lambda b: b["individual"].update(phone="01062345678"),
            "phone_invalid",
            "individual.phone",
        ),
        (
            lambda b: b["individual"]["bank_card"].update(number="4111111111111111"),
            "bank_card_invalid",
            "individual.bank_card.number",
        ),
        (
            lambda b: b["individual"]["bank_card"].update(number="6222021234567890127"),
            "bank_card_invalid",
            "individual.bank_card.number",
        ),
        (
            lambda b: b["individual"]["bank_card"].update(reserved_phone="999"),
            "phone_invalid",
            "individual.bank_card.reserved_phone",
        ),
        (lambda b: b.pop("consent"), "consent_required", "consent"),
        (lambda b: b["consent"].update(granted=False), "consent_required", "consent"),
        (
            lambda b: b["consent"].update(purposes=["real_name_authentication"]),
            "consent_required",
            "consent",
        ),
        (lambda b: b["options"].update(face_match=True), "consent_required", "consent"),
        (lambda b: b["individual"].pop("name"), "validation_failed", "individual.name"),
        (
            lambda b: b["individual"].update(nickname="x"),
            "validation_failed",
            "individual.nickname",
        ),
        (lambda b: b.update(type="robot"), "validation_failed", "type"),
    ],
)
def test_bad_input_is_422_and_stores_nothing(app, client, auth, change, code, field):
    body = individual_body(rng)
    change(body)
    error = assert_error(create(client, auth, body), 422, "invalid_request", code)
    assert error["field"] == field
    text = json.dumps(error, ensure_ascii=False)
    for value in (body["individual"].get("name"), body["individual"]["id_number"]):
        if value and len(value) > 1:
            assert value not in text
    assert count_verifications(app) == 0


def test_under_14_on_the_day_is_refused(app, client, auth):
    today = date.today()
    thirteen = date(today.year - 14, today.month, today.day) + timedelta(days=2)
    body = individual_body(rng)
    body["individual"]["id_number"] = id_number(rng, thirteen)
    assert_error(create(client, auth, body), 422, "invalid_request", "subject_underage")
    body["individual"]["id_number"] = id_number(rng, date(today.year - 15, 1, 1))
    assert create(client, auth, body).status_code == 201
    assert count_verifications(app) == 1


def test_submit_with_documents_missing_is_409_with_the_list(client, auth):
    body = individual_body(rng)
    verification_id = create(client, auth, body).get_json()["id"]
    front = upload(
        client, auth, verification_id, "id_card_front", card_photos(body)["id_card_front"]
    )
    assert front.status_code == 201
    error = assert_error(
        submit(client, auth, verification_id), 409, "conflict", "requirements_missing"
    )
    assert error["requirements"] == ["document.id_card_back"]


def test_a_document_kind_the_verification_does_not_take_is_422(client, auth):
    verification_id = create(client, auth, individual_body(rng)).get_json()["id"]
    assert_error(
        upload(client, auth, verification_id, "selfie", face_photo()),
        422,
        "invalid_request",
        "document_kind_invalid",
    )
    assert_error(
        upload(client, auth, verification_id, "passport", photo_jpeg()),
        422,
        "invalid_request",
        "document_kind_invalid",
    )


def test_a_second_upload_of_a_kind_replaces_the_first(app, client, auth):
    body = individual_body(rng)
    verification_id = create(client, auth, body).get_json()["id"]
    photos = [card_photos(body, seed=seed)["id_card_front"] for seed in (1, 9)]
    first = upload(client, auth, verification_id, "id_card_front", photos[0]).get_json()["id"]
    second = upload(client, auth, verification_id, "id_card_front", photos[1]).get_json()["id"]
    assert first != second
    from kyc_service.persistence.tables import VaultDocumentRow

    with app.extensions["kyc"].unit_of_work() as uow:
        ids = [row.id for row in uow.session.query(VaultDocumentRow).all()]
    assert ids == [second]


def test_cancel(client, auth):
    verification_id = create(client, auth, individual_body(rng)).get_json()["id"]
    canceled = client.post(f"/v1/verifications/{verification_id}/cancel", headers=auth)
    assert canceled.status_code == 200 and canceled.get_json()["status"] == "canceled"
    assert canceled.get_json()["decided_at"]
    assert_error(
        client.post(f"/v1/verifications/{verification_id}/cancel", headers=auth),
        409,
        "conflict",
        "invalid_state",
    )
    assert_error(submit(client, auth, verification_id), 409, "conflict", "invalid_state")
    assert_error(
        upload(client, auth, verification_id, "id_card_front", photo_jpeg()),
        409,
        "conflict",
        "invalid_state",
    )


def test_a_decided_verification_cannot_be_canceled_or_resubmitted(client, auth):
    verification_id = ready(client, auth, individual_body(rng))
    assert submit(client, auth, verification_id).get_json()["status"] == "verified"
    assert_error(
        client.post(f"/v1/verifications/{verification_id}/cancel", headers=auth),
        409,
        "conflict",
        "invalid_state",
    )
    assert_error(submit(client, auth, verification_id), 409, "conflict", "invalid_state")


def test_events_record_every_status_change(client, auth):
    verification_id = ready(client, auth, individual_body(rng))
    submit(client, auth, verification_id)
    events = client.get("/v1/events", headers=auth).get_json()["data"]
    types = [e["type"] for e in events if e["data"]["object"]["id"] == verification_id]
    assert types == [
        "verification.verified",
        "verification.processing",
        "verification.requires_input",
    ]


def test_write_scope_is_needed(client, make_key):
    headers = make_key(scopes="verifications:read")
    assert_error(create(client, headers, individual_body(rng)), 403, "permission", "scope_missing")


def test_idempotent_create_makes_one_verification(app, client, auth):
    body = individual_body(rng)
    headers = {**auth, "Idempotency-Key": "signup-77"}
    first = client.post("/v1/verifications", json=body, headers=headers)
    again = client.post("/v1/verifications", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["id"] == again.get_json()["id"]
    assert count_verifications(app) == 1


def stored_image(app, verification_id, kind):
    from kyc_service.vault import SubjectRef

    services = app.extensions["kyc"]
    with services.unit_of_work() as uow:
        row = uow.verifications.by_id(verification_id)
        ref = SubjectRef(row.tenant_id, row.mode, row.reference)
        kinds = services.vault.document_kinds(uow.session, ref, verification_id)
        image, media_type = services.vault.get_document(
            uow.session, ref, kinds[kind], actor="test", action="test.read"
        )
    return image, media_type


def jpeg_with_exif_and_zip(body: dict) -> bytes:
    image = Image.open(io.BytesIO(card_photos(body)["id_card_front"]))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue() + b"PK\x03\x04" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "status", "type_", "code"),
    [
        (b"", 422, "invalid_request", "image_unreadable"),
        (photo_jpeg()[: len(photo_jpeg()) // 2], 422, "invalid_request", "image_unreadable"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            415,
            "unsupported_media_type",
            "unsupported_file_type",
        ),
        (
            b"<!DOCTYPE html><html><body>hi</body></html>",
            415,
            "unsupported_media_type",
            "unsupported_file_type",
        ),
        (
            b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF",
            415,
            "unsupported_media_type",
            "unsupported_file_type",
        ),
        (photo_jpeg(200, 150), 422, "invalid_request", "image_too_small"),
    ],
)
def test_hostile_uploads_are_refused(client, auth, data, status, type_, code):
    verification_id = create(client, auth, individual_body(rng)).get_json()["id"]
    assert_error(upload(client, auth, verification_id, "id_card_front", data), status, type_, code)
    assert (
        client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()["requirements"][
            0
        ]
        == "document.id_card_front"
    )


def test_a_decompression_bomb_is_413(client, auth):
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")
    verification_id = create(client, auth, individual_body(rng)).get_json()["id"]
    assert_error(
        upload(client, auth, verification_id, "id_card_front", buffer.getvalue()),
        413,
        "payload_too_large",
        "image_too_large",
    )


def test_an_oversized_body_is_413_before_it_is_read(app, client, auth):
    verification_id = create(client, auth, individual_body(rng)).get_json()["id"]
    too_big = b"\xff\xd8\xff" + b"\x00" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert_error(
        upload(client, auth, verification_id, "id_card_front", too_big),
        413,
        "payload_too_large",
        "file_too_large",
    )


def test_stored_image_is_reencoded_without_metadata_or_trailing_bytes(app, client, auth):
    body = individual_body(rng)
    verification_id = create(client, auth, body).get_json()["id"]
    response = upload(client, auth, verification_id, "id_card_front", jpeg_with_exif_and_zip(body))
    assert response.status_code == 201, response.get_json()
    image, media_type = stored_image(app, verification_id, "id_card_front")
    assert media_type == "image/jpeg"
    assert image.endswith(b"\xff\xd9") and b"PK\x03\x04" not in image
    assert b"Exif" not in image and b"SecretCamera" not in image
    assert not Image.open(io.BytesIO(image)).getexif()


def test_retry_pending_command_runs_due_verifications(app_config, app, client, auth, monkeypatch):
    from click.testing import CliRunner

    from kyc_service.cli import main

    verification_id = ready(client, auth, individual_body(rng, reserved_phone="13900000009"))
    assert submit(client, auth, verification_id).get_json()["status"] == "processing"
    env = {
        "KYC_DATABASE_URL": app_config["DATABASE_URL"],
        "KYC_KEYSTORE_URL": app_config["KEYSTORE_URL"],
    }
    result = CliRunner().invoke(main, ["retry-pending"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "retried 0 verifications"
    services = app.extensions["kyc"]
    with services.unit_of_work() as uow:
        verification = uow.verifications.by_id(verification_id)
        verification.next_attempt_at = services.vault.clock() - timedelta(seconds=1)
        uow.verifications.save(verification)
        uow.commit()
    result = CliRunner().invoke(main, ["retry-pending"], env=env)
    assert result.output.strip() == "retried 1 verifications"
    body = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert body["status"] == "processing" and body["last_error"]["code"] == "upstream_unavailable"


@pytest.mark.parametrize(
    ("variant", "code"),
    [("blurred", "image_blurry"), ("glared", "image_glare"), ("no card", "document_not_detected")],
)
def test_poor_document_photos_are_refused_on_upload(client, auth, variant, code):
    from tests import cards

    body = individual_body(rng)
    verification_id = create(client, auth, body).get_json()["id"]
    front = Image.open(io.BytesIO(card_photos(body)["id_card_front"]))
    image = {
        "blurred": lambda: cards.blurred(front, 4),
        "glared": lambda: cards.glared(front, 0.6),
        "no card": lambda: Image.open(io.BytesIO(photo_jpeg(1280, 960))),
    }[variant]()
    response = upload(client, auth, verification_id, "id_card_front", cards.to_jpeg(image))
    assert_error(response, 422, "invalid_request", code)


def test_a_card_with_another_persons_number_is_rejected(client, auth):
    body = individual_body(rng)
    verification_id = create(client, auth, body).get_json()["id"]
    other = {"individual": {**body["individual"], "id_number": id_number(rng)}}
    photos = card_photos(other)
    for kind, image in photos.items():
        assert upload(client, auth, verification_id, kind, image).status_code == 201
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "rejected"
    assert checks_of(decided)["id_card_ocr"] == ("failed", "ocr_mismatch")
    assert "identity" not in checks_of(decided)


def test_a_selfie_of_someone_else_is_rejected_before_any_upstream(client, auth):
    body = individual_body(rng, face_match=True)
    verification_id = create(client, auth, body).get_json()["id"]
    for kind, image in card_photos(body).items():
        assert upload(client, auth, verification_id, kind, image).status_code == 201
    assert (
        upload(client, auth, verification_id, "selfie", face_photo("biden_1.jpg")).status_code
        == 201
    )
    decided = submit(client, auth, verification_id).get_json()
    assert decided["status"] == "rejected"
    assert checks_of(decided)["face_match"] == ("failed", "face_mismatch")
    assert "identity" not in checks_of(decided) and "portrait_authority" not in checks_of(decided)


def test_a_selfie_with_two_faces_is_refused_on_upload(client, auth):
    verification_id = create(client, auth, individual_body(rng, face_match=True)).get_json()["id"]
    response = upload(client, auth, verification_id, "selfie", face_photo("two_people.jpg"))
    assert_error(response, 422, "invalid_request", "multiple_faces")
