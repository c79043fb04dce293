"""The document_quality check: from each upload's measures to a verdict.

The measures (:mod:`kyc_service.services.document_measures`) are taken where it matters,
at the resolution the camera recorded, never on an enlarged copy: on an ID card, after the
card is found and rectified, its printed fields (sharpness) and its surface without the
portrait and the rounded corners (glare); on a selfie, the face box. ``sharpness`` is 1 −
the blur effect (0–1, higher is sharper; :mod:`kyc_service.imaging.quality`; on print,
near edges only), ``glare`` the share of the region under its largest blown-out patch,
``face_width`` the selfie's face box width in pixels.

Calibration (rerun: ``python -m benchmarks.calibrate_documents``), on photographs nobody
here took (``tests/data/photos`` and ``tests/data/faces``: 48 photos of 15 people, press,
event and studio shots, 400–4352 px, white, plain and blurred backgrounds) and on drawn
cards (``tests/cards.py``: 4 people, fronts and backs, 56 flat scans edge to edge or with a
2–5 % white or grey margin, 512 photos on wood, fabric, a dark desk and paper, −20…20°,
keystoned, 30–95 % of the frame's width), each also degraded at its own resolution
(Gaussian σ 2 and 4, a 15-pixel motion blur, JPEG quality 10, an over-exposed specular
patch on the face or on the card's number). Min … median … max per set:

========================  ===  =====================  ===============  =====================
set                       n    sharpness              glare            refused
========================  ===  =====================  ===============  =====================
real photos as selfies    48   0.505 … 0.650 … 0.777  0 … 0.0097       multiple_faces 1
  Gaussian σ 2            48   0.235 … 0.292 … 0.472  0 … 0.0089       image_blurry 46
  Gaussian σ 4            48   0.133 … 0.203 … 0.295  0 … 0.0076       image_blurry 47
  motion blur 15 px       48   0.180 … 0.264 … 0.461  0 … 0.0078       image_blurry 46
  JPEG quality 10         48   0.527 … 0.598 … 0.730  0 … 0.0089       none
  specular patch on face  48   0.488 … 0.637 … 0.770  0.0370 … 0.0668  image_glare 46 (*)
card scans (front, back)  56   0.717 … 0.727 … 0.741  0 … 0.0025       none
card photos (f, b)        512  0.680 … 0.733 … 0.812  0 … 0.0000       none
  Gaussian σ 2            52   0.311 … 0.343 … 0.511  0 … 0.0001       image_blurry 52
  Gaussian σ 4            52   0.141 … 0.153 … 0.247  0 … 0.0000       image_blurry 52
  motion blur 15 px       52   0.266 … 0.351 … 0.453  0 … 0.0000       image_blurry 52
  JPEG quality 10         52   0.650 … 0.696 … 0.778  0 … 0.0046       none
  specular on the number  28   0.682 … 0.733 … 0.807  0.0187 … 0.0270  image_glare 28
========================  ===  =====================  ===============  =====================

(*) of the other two, ``two_people`` shows two faces and one patch hid the face from the
detector (``no_face_found``). Every card was found (568/568), its corners within 3.0 px of
the true ones (mean 1.94 px). The blur degradations of the real photos that pass are two
σ 2 / motion copies of ``img40`` (4600 px, a face 1287 px wide, where a 2-pixel blur is
a 0.15 % smear): 139 of 141 blurred selfies caught (98.6 %), 156 of 156 cards.

How the thresholds were chosen (each between the worst image that must pass and the best
that must fail, leaning towards the honest photo, since refusing a person is the error the
last calibration made):

- :data:`MIN_FACE_SHARPNESS` 0.45: every real photo measures ≥ 0.505 (×1.12 margin), the
  blurred copies ≤ 0.472 (one) and ≤ 0.40 for 137 of 141.
- :data:`MIN_CARD_SHARPNESS` 0.55: drawn cards ≥ 0.680 (×1.24), blurred ≤ 0.511 (×1.08).
- :data:`MAX_FACE_GLARE` 0.02: real faces ≤ 0.0097 (a shiny forehead, a studio light),
  a patch ≥ 0.037 (geometric mean 0.019).
- :data:`MAX_CARD_GLARE` 0.01: cards ≤ 0.0046, a patch on the number ≥ 0.0187.
- :data:`MIN_FACE_WIDTH` 80 px: face matching through the service on the 112 labelled
  pairs of ``tests/data/photos/pairs.csv``, the probe shrunk until its face box is N px
  wide: 160 px and full size: 65 pass, 5 review, 0 wrong; 100 px: 64 / 6 / 0; 80 px:
  66 / 4 / 0; 64 px: 63 / 7 / 0; 48 px: 60 / 10 / 0; 32 px: 46 / 24 / 0. From 80 px down
  the matcher still decides nothing wrongly, but under it more and more same-person pairs
  fall into the grey zone: 80 px is where matching is as good as at full size. Every real
  photo's face is ≥ 100 px (img27 100 px, img43 103 px), so none is refused as too small.

The failures are checked in this order: ``document_not_detected`` (no card was found, or
a face outside the portrait's place shows it is a photo of a person: nothing else can be
measured), ``no_face_found`` / ``multiple_faces`` / ``face_too_small``,
``image_blurry``, ``image_glare``, then the side of the card (``document_side_swapped``: a
front must show a portrait in its zone, a back must not).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kyc_service.domain.checks import CheckResult, CheckStatus, check

CHECK_NAME = "document_quality"

MIN_FACE_SHARPNESS = 0.45
"""Below, on the face box: the selfie is out of focus (``image_blurry``)."""
MIN_CARD_SHARPNESS = 0.55
"""Below, on the card's printed fields: the card is out of focus (``image_blurry``)."""
MAX_FACE_GLARE = 0.02
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
FRONTS = ("id_card_front", "legal_rep_id_card_front", "agent_id_card_front")
BACKS = ("id_card_back", "legal_rep_id_card_back", "agent_id_card_back")
FRONT = FRONTS[0]
BACK = BACKS[0]
FACE_KINDS = ("selfie", "legal_rep_photo")
PAGE_KINDS = ("certificate", "power_of_attorney")
MIN_PAGE_SHARPNESS = 0.35
"""A page (certificate, power of attorney) is refused as blurry only well below a card's
threshold: its text is larger, and OCR decides whether it can be read (a soft failure)."""

Measures = Mapping[str, Any]


def _below(value: Any, threshold: float) -> bool:
    """A measure under a threshold (a missing measure is not a failure)."""
    return value is not None and value < threshold


def _above(value: Any, threshold: float) -> bool:
    """A measure over a threshold (a missing measure is not a failure)."""
    return value is not None and value > threshold


def face_photo_problem(measures: Measures) -> str | None:
    """The failure code of a selfie's measures, or None when it is good to compare.

    A record measured before the face box was (no ``face_width``) was judged when it was
    uploaded, on other scales: only its face count is read again.
    """
    faces = measures.get("faces")
    if faces == 0:
        return NO_FACE
    if faces is not None and faces > 1:
        return MULTIPLE_FACES
    if "face_width" not in measures:
        return None
    if _below(measures.get("face_width"), MIN_FACE_WIDTH):
        return FACE_TOO_SMALL
    if _below(measures.get("sharpness"), MIN_FACE_SHARPNESS):
        return BLURRY
    if _above(measures.get("glare"), MAX_FACE_GLARE):
        return GLARE
    return None


def id_card_problem(kind: str, measures: Measures) -> str | None:
    """The failure code of an ID card side's measures, or None when it is good to read.

    A record measured before the card was rectified (no ``method``) was judged when it was
    uploaded, on other scales: only a missing card is read again.
    """
    if measures.get("card_found") is False or measures.get("other_faces"):
        return NOT_DETECTED
    if "method" not in measures:
        return None
    if _below(measures.get("sharpness"), MIN_CARD_SHARPNESS):
        return BLURRY
    if _above(measures.get("glare"), MAX_CARD_GLARE):
        return GLARE
    faces = measures.get("faces")
    if kind in FRONTS and faces == 0:
        return SIDE_SWAPPED
    if kind in BACKS and faces:
        return SIDE_SWAPPED
    return None


def page_problem(measures: Measures) -> str | None:
    """The failure code of a page's measures (certificate, power of attorney), or None.

    Only blur refuses a page: its glare is recorded but not judged, since the blown-out
    patch measure cannot tell white paper from a reflection (a clean scan on 255-white
    paper measured 0.89); OCR and the seal check decide what cannot be read.
    """
    if _below(measures.get("sharpness"), MIN_PAGE_SHARPNESS):
        return BLURRY
    return None


def problem(kind: str, measures: Measures) -> str | None:
    """The failure code of one document's measures, or None."""
    if kind in FACE_KINDS:
        return face_photo_problem(measures)
    if kind in PAGE_KINDS:
        return page_problem(measures)
    return id_card_problem(kind, measures)


def quality_problems(measures: Mapping[str, Measures]) -> list[tuple[str, str]]:
    """Return (kind, failure code) for every document with a problem."""
    found = [(kind, problem(kind, measured)) for kind, measured in measures.items()]
    return [(kind, code) for kind, code in found if code is not None]


def document_quality_check(measures: Mapping[str, Measures]) -> CheckResult:
    """Return the document_quality check's result for the measures of each document kind.

    With no documents the check is skipped.
    """
    if not measures:
        return check(CHECK_NAME, CheckStatus.SKIPPED)
    problems = quality_problems(measures)
    if problems:
        return check(CHECK_NAME, CheckStatus.FAILED, problems[0][1])
    return check(CHECK_NAME, CheckStatus.PASSED)
