"""The document_quality check: from each upload's measures to a verdict.

The measures (:mod:`kyc_service.services.document_measures`) are taken where it matters:
on an ID card, its printed fields and its surface after the card was found and rectified;
on a selfie, the face box. ``sharpness`` is 1 − the blur effect (0–1, higher is sharper;
:mod:`kyc_service.imaging.quality`), ``glare`` the share of the region under its largest
blown-out patch, ``face_width`` the selfie's face box width in pixels.

Calibration: see CALIBRATION below (rerun: ``python -m benchmarks.calibrate_documents``).

The failures are checked in this order: ``document_not_detected`` (no card was found:
nothing else can be measured), ``face_too_small``, ``image_blurry``, ``image_glare``,
then the side of the card (``document_side_swapped``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kyc_service.domain.verification import CheckStatus, check

CHECK_NAME = "document_quality"

MIN_FACE_SHARPNESS = 0.45
"""Below, on the face box: the selfie is out of focus (``image_blurry``)."""
MIN_CARD_SHARPNESS = 0.45
"""Below, on the card's printed fields: the card is out of focus (``image_blurry``)."""
MAX_FACE_GLARE = 0.04
"""Above: a blown-out patch covers too much of the face (``image_glare``)."""
MAX_CARD_GLARE = 0.01
"""Above: a blown-out patch covers too much of the card (``image_glare``)."""
MIN_FACE_WIDTH = 80
"""Below (pixels of the face box): the face is too small to compare (``face_too_small``)."""

BLURRY = "image_blurry"
GLARE = "image_glare"
NOT_DETECTED = "document_not_detected"
FACE_TOO_SMALL = "face_too_small"
NO_FACE = "no_face_found"
MULTIPLE_FACES = "multiple_faces"
SIDE_SWAPPED = "document_side_swapped"
FRONT = "id_card_front"
BACK = "id_card_back"
FACE_KINDS = ("selfie", "legal_rep_photo")

Measures = Mapping[str, Any]

CALIBRATION = """(filled in by benchmarks.calibrate_documents; see the module docstring)"""


def _below(value: Any, threshold: float) -> bool:
    """A measure under a threshold (a missing measure is not a failure)."""
    return value is not None and value < threshold


def _above(value: Any, threshold: float) -> bool:
    """A measure over a threshold (a missing measure is not a failure)."""
    return value is not None and value > threshold


def face_photo_problem(measures: Measures) -> str | None:
    """The failure code of a selfie's measures, or None when it is good to compare."""
    faces = measures.get("faces")
    if faces == 0:
        return NO_FACE
    if faces is not None and faces > 1:
        return MULTIPLE_FACES
    if _below(measures.get("face_width"), MIN_FACE_WIDTH):
        return FACE_TOO_SMALL
    if _below(measures.get("sharpness"), MIN_FACE_SHARPNESS):
        return BLURRY
    if _above(measures.get("glare"), MAX_FACE_GLARE):
        return GLARE
    return None


def id_card_problem(kind: str, measures: Measures) -> str | None:
    """The failure code of an ID card side's measures, or None when it is good to read."""
    if measures.get("card_found") is False:
        return NOT_DETECTED
    if _below(measures.get("sharpness"), MIN_CARD_SHARPNESS):
        return BLURRY
    if _above(measures.get("glare"), MAX_CARD_GLARE):
        return GLARE
    faces = measures.get("faces")
    if kind == FRONT and faces == 0:
        return SIDE_SWAPPED
    if kind == BACK and faces:
        return SIDE_SWAPPED
    return None


def problem(kind: str, measures: Measures) -> str | None:
    """The failure code of one document's measures, or None."""
    if kind in FACE_KINDS:
        return face_photo_problem(measures)
    return id_card_problem(kind, measures)


def quality_problems(measures: Mapping[str, Measures]) -> list[tuple[str, str]]:
    """Return (kind, failure code) for every document with a problem."""
    found = [(kind, problem(kind, measured)) for kind, measured in measures.items()]
    return [(kind, code) for kind, code in found if code is not None]


def document_quality_check(measures: Mapping[str, Measures]) -> dict:
    """Return the document_quality check's record for the measures of each document kind.

    With no documents the check is skipped.
    """
    if not measures:
        return check(CHECK_NAME, CheckStatus.SKIPPED)
    problems = quality_problems(measures)
    if problems:
        return check(CHECK_NAME, CheckStatus.FAILED, problems[0][1])
    return check(CHECK_NAME, CheckStatus.PASSED)
