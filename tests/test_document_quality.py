"""The document_quality check: its decision (pure) and the upload measures of generated cards.

The card photos come from ``tests/cards.py`` and are measured as uploads are
(``prepare_upload`` on a JPEG, ``find_card`` on the stored re-encoded bytes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kyc_service.domain.document_policy import (
    MAX_GLARE,
    MAX_SELFIE_GLARE,
    MIN_SHARPNESS,
    document_quality_check,
    quality_problems,
)
from kyc_service.imaging import UploadLimits, find_card, prepare_upload
from tests.cards import (
    BACKGROUNDS,
    blurred,
    card_back,
    card_front,
    faces_folder,
    glared,
    person,
    photo_of,
    placement,
    require_font,
    surface,
    to_jpeg,
)

LIMITS = UploadLimits(max_bytes=20 * 1024 * 1024, max_pixels=40_000_000)
SHARP = {"sharpness": 400.0, "glare": 0.0, "card_found": True}
SELFIE = {"sharpness": 150.0, "glare": 0.0, "card_found": None}


def outcome(measures: dict[str, dict]) -> tuple[str, str | None]:
    record = document_quality_check(measures)
    assert record["name"] == "document_quality"
    return record["status"], record["code"]


# --- the decision ----------------------------------------------------------------------------


def test_good_documents_pass() -> None:
    good = {"id_card_front": SHARP, "id_card_back": SHARP, "selfie": SELFIE}
    assert outcome(good) == ("passed", None)


def test_no_documents_skip_the_check() -> None:
    assert outcome({}) == ("skipped", None)


@pytest.mark.parametrize(
    ("kind", "change", "code"),
    [
        ("id_card_front", {"sharpness": MIN_SHARPNESS - 0.1}, "image_blurry"),
        ("selfie", {"sharpness": MIN_SHARPNESS - 0.1}, "image_blurry"),
        ("id_card_back", {"glare": MAX_GLARE + 0.001}, "image_glare"),
        ("selfie", {"glare": MAX_SELFIE_GLARE + 0.001}, "image_glare"),
        ("id_card_front", {"card_found": False}, "document_not_detected"),
    ],
)
def test_each_failure(kind: str, change: dict, code: str) -> None:
    measures = {"id_card_front": SHARP, "id_card_back": SHARP, "selfie": SELFIE}
    measures[kind] = {**measures[kind], **change}
    assert outcome(measures) == ("failed", code)


def test_at_the_thresholds_a_document_passes() -> None:
    edge = {"sharpness": MIN_SHARPNESS, "glare": MAX_GLARE, "card_found": True}
    assert outcome({"id_card_front": edge}) == ("passed", None)


def test_a_selfie_may_be_brighter_than_a_card() -> None:
    bright = {"glare": (MAX_GLARE + MAX_SELFIE_GLARE) / 2}
    assert outcome({"selfie": {**SELFIE, **bright}}) == ("passed", None)
    assert outcome({"id_card_front": {**SHARP, **bright}}) == ("failed", "image_glare")


def test_blur_is_reported_before_glare_and_glare_before_a_missing_card() -> None:
    measures = {
        "id_card_front": {"sharpness": 400.0, "glare": 0.5, "card_found": False},
        "id_card_back": {"sharpness": 1.0, "glare": 0.0, "card_found": True},
    }
    assert outcome(measures) == ("failed", "image_blurry")
    assert quality_problems(measures) == [
        ("id_card_back", "image_blurry"),
        ("id_card_front", "image_glare"),
        ("id_card_front", "document_not_detected"),
    ]


def test_missing_measures_are_not_failures() -> None:
    assert outcome({"id_card_front": {}, "selfie": {"card_found": None}}) == ("passed", None)


# --- generated card photos -------------------------------------------------------------------


@pytest.fixture(scope="module")
def faces() -> Path:
    """The shared face photos, for the portraits (and the CJK font for the text)."""
    require_font()
    return faces_folder()


def measured(image: Image.Image, kind: str = "id_card_front") -> dict:
    """Measure ``image`` as an upload of ``kind`` is measured."""
    prepared = prepare_upload(to_jpeg(image), LIMITS)
    card_found = None if kind == "selfie" else find_card(prepared.data) is not None
    return {"sharpness": prepared.sharpness, "glare": prepared.glare, "card_found": card_found}


PLACEMENTS = [
    (0, 0.0, 0.5, "wood"),
    (1, 12.0, 0.6, "fabric"),
    (2, -15.0, 0.7, "dark"),
    (3, 4.0, 0.9, "paper"),
    (4, -6.0, 0.8, "wood"),
]


@pytest.fixture(scope="module")
def photos(faces: Path) -> list[tuple[str, Image.Image]]:
    """Photos of card fronts and backs of several people, at several angles and scales."""
    made = []
    for seed, angle, scale, background in PLACEMENTS:
        holder = person(seed)
        card = card_back(holder) if seed % 2 else card_front(holder, faces)
        made.append((f"{seed}", photo_of(card, angle, scale, background, seed=seed)))
    return made


def test_sharp_card_photos_pass(photos: list[tuple[str, Image.Image]]) -> None:
    for label, photo in photos:
        assert outcome({"id_card_front": measured(photo)}) == ("passed", None), label


@pytest.mark.parametrize("radius", [3.0, 4.0])
def test_blurred_card_photos_are_blurry(
    photos: list[tuple[str, Image.Image]], radius: float
) -> None:
    for label, photo in photos:
        result = outcome({"id_card_front": measured(blurred(photo, radius))})
        assert result == ("failed", "image_blurry"), label


@pytest.mark.parametrize("strength", [0.3, 0.5])
def test_glared_card_photos_have_glare(
    photos: list[tuple[str, Image.Image]], strength: float
) -> None:
    for label, photo in photos:
        result = outcome({"id_card_back": measured(glared(photo, strength))})
        assert result == ("failed", "image_glare"), label


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_a_texture_is_no_card(background: str) -> None:
    result = outcome({"id_card_front": measured(surface(background, seed=3))})
    assert result == ("failed", "document_not_detected")


def test_random_noise_is_no_card() -> None:
    noise = np.random.default_rng(5).integers(0, 256, (720, 960, 3), dtype=np.uint8)
    assert find_card(noise) is None


@pytest.mark.parametrize("name", ["obama_1", "leslie_1", "harington_2"])
def test_a_face_photo_is_no_card(faces: Path, name: str) -> None:
    with Image.open(faces / f"{name}.jpg") as opened:
        photo = opened.convert("RGB")
    assert outcome({"id_card_front": measured(photo)}) == ("failed", "document_not_detected")
    assert outcome({"selfie": measured(photo, "selfie")}) == ("passed", None)


def test_no_shared_face_photo_shows_a_card(faces: Path) -> None:
    for path in sorted(faces.glob("*.jpg")):
        assert find_card(path.read_bytes()) is None, path.name


def test_every_shared_face_photo_passes_as_a_selfie(faces: Path) -> None:
    for path in sorted(faces.glob("*.jpg")):
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        assert outcome({"selfie": measured(photo, "selfie")}) == ("passed", None), path.name


@pytest.mark.parametrize("angle", [-15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0])
def test_the_card_is_found_at_an_angle(faces: Path, angle: float) -> None:
    card = card_front(person(8), faces)
    assert_found(card.size, photo_of(card, angle, 0.65, "fabric", seed=8), angle, 0.65)


@pytest.mark.parametrize("scale", [0.5, 0.6, 0.7, 0.8, 0.9])
def test_the_card_is_found_at_a_scale(faces: Path, scale: float) -> None:
    card = card_front(person(9), faces)
    assert_found(card.size, photo_of(card, 3.0, scale, "wood", seed=9), 3.0, scale)


def test_the_card_is_found_in_perspective(faces: Path) -> None:
    card = card_front(person(10), faces)
    photo = photo_of(card, -5.0, 0.75, "dark", tilt=0.12, seed=10)
    assert_found(card.size, photo, -5.0, 0.75, tilt=0.12)


def test_find_card_takes_bytes_or_pixels(faces: Path) -> None:
    photo = photo_of(card_front(person(11), faces), 7.0, 0.7, "paper", seed=11)
    from_bytes = find_card(to_jpeg(photo))
    from_pixels = find_card(np.asarray(photo))
    assert from_bytes is not None and from_pixels is not None
    assert np.abs(np.array(from_bytes) - np.array(from_pixels)).max() < 3


def assert_found(
    size: tuple[int, int], photo: Image.Image, angle: float, scale: float, tilt: float = 0.0
) -> None:
    """The card is found, its corners within 1 % of its width of where it was placed."""
    corners = find_card(to_jpeg(photo))
    assert corners is not None, (angle, scale, tilt)
    expected = placement(size, photo.size, angle, scale, tilt)
    error = np.abs(np.array(corners) - expected).max()
    assert error < 0.01 * scale * photo.width, (corners, expected.tolist())
