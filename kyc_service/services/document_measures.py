"""Measuring an uploaded image where it matters: the rectified document, or the face.

An ID card side is first found and rectified (the ``DocumentImaging`` port);
its sharpness is taken on the printed fields of the rectified copy at the card's own
resolution, its glare as the largest blown-out patch on the card (the front's portrait,
often on a white ground, left out), and faces are looked for on the whole card: the front's
portrait must be in its zone (a back uploaded as the front, or the reverse, is told apart),
and a face anywhere else means the image is a photo of a person, not a card. A selfie is
judged on its face box: the face's size, sharpness and glare. The upload refuses what fails here
(:func:`upload_problem`); the document_quality check records the same verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kyc_service.domain import document_policy as policy
from kyc_service.domain.document_shapes import (
    A3,
    A4,
    ID_CARD,
    ID_CARD_BACK_TEXT_ZONE,
    ID_CARD_PORTRAIT_ZONE,
    ID_CARD_TEXT_ZONE,
    Zone,
    zone_box,
)
from kyc_service.domain.results import FaceBox
from kyc_service.ports import DocumentImaging, FaceMatcher

FRONT = "id_card_front"
BACK = "id_card_back"
ID_CARD_SIDES = policy.FRONTS + policy.BACKS
FACE_KINDS = policy.FACE_KINDS
PAGE_KINDS = policy.PAGE_KINDS
PAGE_SHAPES = (A4, A3)

Measures = dict[str, Any]


def crop(pixels: np.ndarray, zone: Zone) -> np.ndarray:
    """Return the part of ``pixels`` inside ``zone``."""
    left, top, right, bottom = zone_box(zone, pixels.shape[1], pixels.shape[0])
    return pixels[top:bottom, left:right]


def measure_id_card(
    pixels: np.ndarray, kind: str, faces: FaceMatcher, imaging: DocumentImaging
) -> Measures:
    """Find and measure an ID card side; ``card_found`` False when there is no card."""
    found = imaging.find_document(pixels, ID_CARD)
    if found is None:
        return {"card_found": False}
    native = found.native
    front = kind in policy.FRONTS
    text = crop(native, ID_CARD_TEXT_ZONE if front else ID_CARD_BACK_TEXT_ZONE)
    mask = _without_corners(native.shape[:2])
    if front:
        left, top, right, bottom = zone_box(ID_CARD_PORTRAIT_ZONE, mask.shape[1], mask.shape[0])
        mask[top:bottom, left:right] = 0
    portraits, others = _faces_on_card(found.rectified, faces)
    return {
        "card_found": True,
        "method": found.method,
        "corners": [[round(x, 1), round(y, 1)] for x, y in found.corners],
        "sharpness": _rounded(imaging.sharpness(text, edges_only=True)),
        "glare": round(imaging.specular_share(native, mask), 4),
        "faces": portraits,
        "other_faces": others,
    }


def _faces_on_card(rectified: np.ndarray, faces: FaceMatcher) -> tuple[int, int]:
    """Count the faces of a rectified card in its portrait's place, and elsewhere.

    The portrait zone is searched first (a front's face is there: cheap); only when it
    holds none is the whole card searched (a back, or a photo of a person).
    """
    if faces.find_faces(crop(rectified, ID_CARD_PORTRAIT_ZONE), small_faces=False):
        return 1, 0
    return _faces_by_place(faces.find_faces(rectified, small_faces=False))


def _faces_by_place(boxes: list[FaceBox]) -> tuple[int, int]:
    """Count the faces of a rectified card inside its portrait zone, and elsewhere."""
    width, height = ID_CARD.canonical_size()
    left, top, right, bottom = zone_box(ID_CARD_PORTRAIT_ZONE, width, height)
    inside = 0
    for box in boxes:
        x, y = (box.left + box.right) / 2, (box.top + box.bottom) / 2
        inside += left <= x <= right and top <= y <= bottom
    return inside, len(boxes) - inside


def measure_face_photo(
    pixels: np.ndarray, faces: FaceMatcher, imaging: DocumentImaging
) -> Measures:
    """Find the faces of a selfie and measure the largest on its own box."""
    boxes = faces.find_faces(pixels)
    measures: Measures = {"faces": len(boxes)}
    if not boxes:
        return measures
    box = boxes[0]
    region = _inside(pixels, box)
    measures.update(
        face_box=[box.left, box.top, box.right, box.bottom],
        face_width=box.width,
        sharpness=_rounded(imaging.sharpness(region)),
        glare=round(imaging.specular_share(region), 4),
    )
    return measures


def measure(
    pixels: np.ndarray, kind: str, faces: FaceMatcher, imaging: DocumentImaging
) -> Measures:
    """Return the measures of an upload of ``kind`` (size and the kind's own measures)."""
    height, width = pixels.shape[:2]
    measures: Measures = {"width": width, "height": height}
    if kind in ID_CARD_SIDES:
        measures.update(measure_id_card(pixels, kind, faces, imaging))
    elif kind in FACE_KINDS:
        measures.update(measure_face_photo(pixels, faces, imaging))
    elif kind in PAGE_KINDS:
        measures.update(measure_page(pixels, imaging))
    return measures


def measure_page(pixels: np.ndarray, imaging: DocumentImaging) -> Measures:
    """Find a page (A4 or A3, either way up) and measure its text's sharpness and its glare.

    A page not found is measured whole (``page_found`` False): a scan cropped oddly is still
    read by OCR, which decides.
    """
    found = next(
        (hit for shape in PAGE_SHAPES if (hit := imaging.find_document(pixels, shape))), None
    )
    region = found.native if found is not None else pixels
    measures: Measures = {
        "page_found": found is not None,
        "sharpness": _rounded(imaging.sharpness(region, edges_only=True)),
        "glare": round(imaging.specular_share(region), 4),
    }
    if found is not None:
        measures["method"] = found.method
        measures["corners"] = [[round(x, 1), round(y, 1)] for x, y in found.corners]
    return measures


def upload_problem(kind: str, measures: Measures) -> str | None:
    """The failure code an upload of ``kind`` with these measures is refused with, or None."""
    if kind in FACE_KINDS:
        return policy.face_photo_problem(measures)
    if kind in ID_CARD_SIDES:
        return policy.id_card_problem(kind, measures)
    if kind in PAGE_KINDS:
        return policy.page_problem(measures)
    return None


CORNER_SHARE = 0.04
"""The rounded corners of a card (3 mm of 85.6) show the scanner's white: not glare."""


def _without_corners(shape: tuple[int, int]) -> np.ndarray:
    """A mask of a rectified card without its four rounded corners."""
    mask = np.ones(shape, dtype=np.uint8)
    side = max(1, round(CORNER_SHARE * shape[1]))
    mask[:side, :side] = mask[:side, -side:] = mask[-side:, :side] = mask[-side:, -side:] = 0
    return mask


def _inside(pixels: np.ndarray, box: FaceBox) -> np.ndarray:
    """The part of ``pixels`` inside a face box (clipped to the image)."""
    height, width = pixels.shape[:2]
    left, right = max(0, box.left), min(width, box.right)
    top, bottom = max(0, box.top), min(height, box.bottom)
    return pixels[top:bottom, left:right]


def _rounded(value: float | None) -> float | None:
    """Round a measure for the record (None stays None)."""
    return None if value is None else round(value, 4)
