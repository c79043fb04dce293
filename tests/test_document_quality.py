"""The document_quality policy: from measures to a verdict (pure, no images)."""

from __future__ import annotations

import pytest

from kyc_service.domain.document_policy import (
    MAX_CARD_GLARE,
    MAX_FACE_GLARE,
    MIN_CARD_SHARPNESS,
    MIN_FACE_SHARPNESS,
    MIN_FACE_WIDTH,
    document_quality_check,
    face_photo_problem,
    id_card_problem,
    quality_problems,
)

CARD = {
    "card_found": True,
    "method": "photo",
    "sharpness": 0.72,
    "glare": 0.0,
    "faces": 1,
    "other_faces": 0,
}
BACK = {**CARD, "faces": 0}
SELFIE = {"faces": 1, "face_width": 300, "sharpness": 0.65, "glare": 0.0}


def outcome(measures: dict[str, dict]) -> tuple[str, str | None]:
    record = document_quality_check(measures)
    assert record.name == "document_quality"
    return record.status, record.code


def test_good_documents_pass() -> None:
    assert outcome({"id_card_front": CARD, "id_card_back": BACK, "selfie": SELFIE}) == (
        "passed",
        None,
    )


def test_no_documents_skip_the_check() -> None:
    assert outcome({}) == ("skipped", None)


@pytest.mark.parametrize(
    ("kind", "change", "code"),
    [
        ("id_card_front", {"card_found": False}, "document_not_detected"),
        ("id_card_front", {"other_faces": 1}, "document_not_detected"),
        ("id_card_front", {"sharpness": MIN_CARD_SHARPNESS - 0.01}, "image_blurry"),
        ("id_card_front", {"glare": MAX_CARD_GLARE + 0.001}, "image_glare"),
        ("id_card_front", {"faces": 0}, "document_side_swapped"),
        ("id_card_back", {"faces": 1}, "document_side_swapped"),
        ("selfie", {"faces": 0}, "no_face_found"),
        ("selfie", {"faces": 2}, "multiple_faces"),
        ("selfie", {"face_width": MIN_FACE_WIDTH - 1}, "face_too_small"),
        ("selfie", {"sharpness": MIN_FACE_SHARPNESS - 0.01}, "image_blurry"),
        ("selfie", {"glare": MAX_FACE_GLARE + 0.001}, "image_glare"),
    ],
)
def test_each_failure(kind: str, change: dict, code: str) -> None:
    base = {"id_card_front": CARD, "id_card_back": BACK, "selfie": SELFIE}[kind]
    assert outcome({kind: {**base, **change}}) == ("failed", code)


def test_at_the_thresholds_a_document_passes() -> None:
    card = {**CARD, "sharpness": MIN_CARD_SHARPNESS, "glare": MAX_CARD_GLARE}
    selfie = {
        **SELFIE,
        "face_width": MIN_FACE_WIDTH,
        "sharpness": MIN_FACE_SHARPNESS,
        "glare": MAX_FACE_GLARE,
    }
    assert id_card_problem("id_card_front", card) is None
    assert face_photo_problem(selfie) is None


def test_a_selfie_may_show_more_glare_than_a_card() -> None:
    assert MAX_FACE_GLARE > MAX_CARD_GLARE
    glare = (MAX_FACE_GLARE + MAX_CARD_GLARE) / 2
    assert face_photo_problem({**SELFIE, "glare": glare}) is None
    assert id_card_problem("id_card_front", {**CARD, "glare": glare}) == "image_glare"


def test_blur_is_reported_before_glare_and_glare_before_the_side() -> None:
    both = {**CARD, "sharpness": 0.1, "glare": 0.5, "faces": 0}
    assert id_card_problem("id_card_front", both) == "image_blurry"
    assert id_card_problem("id_card_front", {**both, "sharpness": 0.7}) == "image_glare"


def test_a_missing_card_is_reported_before_anything_else() -> None:
    assert id_card_problem("id_card_back", {"card_found": False, "sharpness": 0.0}) == (
        "document_not_detected"
    )


def test_every_document_with_a_problem_is_listed() -> None:
    problems = quality_problems(
        {
            "id_card_front": {**CARD, "sharpness": 0.1},
            "id_card_back": BACK,
            "selfie": {**SELFIE, "face_width": 10},
        }
    )
    assert problems == [("id_card_front", "image_blurry"), ("selfie", "face_too_small")]


def test_missing_measures_are_not_failures() -> None:
    assert outcome({"id_card_front": {}, "selfie": {}}) == ("passed", None)


def test_records_measured_before_rectification_are_not_judged_again() -> None:
    legacy_front = {"sharpness": 400.0, "glare": 0.05, "card_found": True, "faces": 0}
    legacy_selfie = {"sharpness": 56.6, "glare": 0.05, "card_found": None, "faces": 1}
    assert outcome({"id_card_front": legacy_front, "selfie": legacy_selfie}) == ("passed", None)
    assert id_card_problem("id_card_back", {**legacy_front, "card_found": False}) == (
        "document_not_detected"
    )
    assert face_photo_problem({**legacy_selfie, "faces": 2}) == "multiple_faces"
