"""The document finder: flat scans and photos of ID cards and pages, found and rectified.

Drawn cards (``tests/cards.py``) as people upload them: edge-to-edge scans, scans with a
2–5 % margin, photos on four surfaces turned −20…20°, keystoned, filling 30–95 % of the
frame's width. Each must be found with its corners within a few pixels of the true ones.
Pages (A4, A3, portrait and landscape) are found with the page's shape. Textures, noise
and a plain wall are not documents.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from adapters.opencv_images import find_card, find_document
from kyc_service.domain.document_shapes import A3, A4, ID_CARD
from tests.cards import (
    BACKGROUNDS,
    FRAME_SIZE,
    card_back,
    card_front,
    faces_folder,
    flat_scan,
    page,
    page_photo,
    person,
    photo_of,
    placement,
    require_font,
    surface,
    to_jpeg,
)

CORNER_TOLERANCE = 4.0
"""Pixels: how far a found corner may be from the true one."""


@pytest.fixture(scope="module")
def faces() -> Path:
    """The face photos for the portraits (and the CJK font for the text)."""
    require_font()
    return faces_folder()


@pytest.fixture(scope="module")
def cards(faces: Path) -> dict[str, Image.Image]:
    """A front and a back of one made-up person."""
    holder = person(7)
    return {"front": card_front(holder, faces), "back": card_back(holder)}


def corner_error(found: list[tuple[float, float]], truth: np.ndarray) -> float:
    return float(np.abs(np.asarray(found) - truth).max())


@pytest.mark.parametrize("side", ["front", "back"])
@pytest.mark.parametrize("margin", [0.0, 0.02, 0.035, 0.05])
@pytest.mark.parametrize("colour", [(255, 255, 255), (205, 205, 205), (40, 40, 40)])
def test_a_flat_scan_is_found(
    cards: dict[str, Image.Image], side: str, margin: float, colour: tuple[int, int, int]
) -> None:
    scan, truth = flat_scan(cards[side], margin, colour)
    found = find_document(np.asarray(scan), ID_CARD)
    assert found is not None
    assert corner_error(found.corners, truth) <= CORNER_TOLERANCE
    assert found.rectified.shape == (540, 856, 3)


def test_an_edge_to_edge_scan_is_the_whole_image(cards: dict[str, Image.Image]) -> None:
    found = find_document(np.asarray(cards["front"]))
    assert found is not None and found.method == "scan"
    assert found.corners == [(0.0, 0.0), (856.0, 0.0), (856.0, 540.0), (0.0, 540.0)]


ANGLES = (-20.0, -10.0, 0.0, 10.0, 20.0)
SCALES = (0.3, 0.5, 0.7, 0.95)


@pytest.mark.parametrize("background", BACKGROUNDS)
@pytest.mark.parametrize("side", ["front", "back"])
def test_a_photo_is_found_at_every_angle_and_size(
    cards: dict[str, Image.Image], background: str, side: str
) -> None:
    tried = 0
    for angle in ANGLES:
        for scale in SCALES:
            for tilt in (0.0, 0.12):
                try:
                    photo = photo_of(cards[side], angle, scale, background, tilt)
                except ValueError:
                    continue
                tried += 1
                truth = placement(cards[side].size, FRAME_SIZE, angle, scale, tilt)
                found = find_document(np.asarray(photo))
                assert found is not None, (angle, scale, tilt)
                assert found.method == "photo"
                assert corner_error(found.corners, truth) <= CORNER_TOLERANCE, (angle, scale)
    assert tried >= 25


def test_the_rectified_card_matches_the_drawn_one(cards: dict[str, Image.Image]) -> None:
    photo = photo_of(cards["front"], 12.0, 0.8, "wood", tilt=0.1)
    found = find_document(np.asarray(photo))
    assert found is not None
    drawn = np.asarray(cards["front"], dtype=np.float32)
    difference = np.abs(found.rectified.astype(np.float32) - drawn).mean()
    assert difference < 12.0


def test_the_native_copy_is_never_enlarged(cards: dict[str, Image.Image]) -> None:
    photo = photo_of(cards["front"], 0.0, 0.3, "dark")
    found = find_document(np.asarray(photo))
    assert found is not None
    height, width = found.native.shape[:2]
    assert width <= 0.3 * FRAME_SIZE[0] + 2
    assert found.rectified.shape[:2] == (540, 856)


@pytest.mark.parametrize(
    ("shape", "size_mm"),
    [(A4, (210, 297)), (A4, (297, 210)), (A3, (297, 420)), (A3, (420, 297))],
)
def test_pages_are_found_with_their_shape(shape, size_mm) -> None:
    require_font()
    sheet = page(size_mm, px_per_mm=3.0)
    found = find_document(np.asarray(sheet), shape)
    assert found is not None and found.method == "scan"
    landscape = size_mm[0] > size_mm[1]
    assert (found.rectified.shape[1] > found.rectified.shape[0]) == landscape
    for angle in (-15.0, 0.0, 15.0):
        photo, truth = page_photo(sheet, angle, 0.8, "wood")
        found = find_document(np.asarray(photo), shape)
        assert found is not None, angle
        assert corner_error(found.corners, truth) <= 2 * CORNER_TOLERANCE


def test_a_card_is_not_a_page(cards: dict[str, Image.Image]) -> None:
    photo = photo_of(cards["front"], 0.0, 0.6, "dark")
    assert find_document(np.asarray(photo), A4) is None


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_a_texture_is_no_card(background: str) -> None:
    assert find_card(np.asarray(surface(background))) is None


def test_random_noise_is_no_card() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (960, 1280, 3), dtype=np.uint8)
    assert find_card(noise) is None


def test_find_card_takes_bytes_or_pixels(cards: dict[str, Image.Image]) -> None:
    photo = photo_of(cards["back"], 5.0, 0.6, "fabric")
    from_bytes = find_card(to_jpeg(photo))
    from_pixels = find_card(np.asarray(photo))
    assert from_bytes is not None and from_pixels is not None
    assert np.abs(np.asarray(from_bytes) - np.asarray(from_pixels)).max() < 3


def test_a_plain_sheet_of_a_cards_proportions_is_no_scan() -> None:
    sheet = np.full((1000, 1585, 3), 215, np.uint8)
    assert find_document(sheet) is None
    cv2.putText(sheet, "HELLO", (600, 500), cv2.FONT_HERSHEY_SIMPLEX, 3, (20, 20, 20), 6)
    assert find_document(sheet) is None


def test_grey_pixels_are_taken_as_they_are(cards: dict[str, Image.Image]) -> None:
    grey = np.asarray(photo_of(cards["back"], 5.0, 0.6, "wood").convert("L"))
    found = find_document(grey)
    assert found is not None and found.rectified.shape == (540, 856, 3)
