"""The document_quality check: from each document's image measures to the check's outcome.

The measures are those taken when an image is uploaded (:mod:`kyc_service.imaging`):
``sharpness``, the variance of the Laplacian of the grey image resized to a 1000-pixel long
side; ``glare``, the share of that image's pixels blown out (≥ 250) in all three channels;
and, for an ID card side, ``card_found``, whether a card-shaped quadrilateral was found in
the photo (``find_card``; None for a selfie, where it does not apply).

Calibration (rerun with ``python -m benchmarks.calibrate_documents [--ocr]``): 16 generated
card photos (``tests/cards.py``: 12 people, fronts with 10 different face photos as
portraits, 4 backs, on wood, fabric, a dark desk and paper, turned −15…15°, the card
spanning 50–90 % of a 1280×960 frame, a third keystoned), each spoiled with a Gaussian blur
of radius 0–4 frame pixels and with a blown-out ellipse of strength 0.1–0.6
(``tests.cards.glared``), re-encoded as JPEG and measured as uploads are; five fronts of
each variant also read with the OCR adapter (name and number both right):

======================  ====================  =================  ==========  =========
variant                 sharpness min … max   glare min … max    card found  OCR reads
======================  ====================  =================  ==========  =========
sharp (blur 0)          358.6 … 709.1         0 … 0.0038         16/16       5/5
blur 0.5                204.4 … 348.8         0 … 0.0038         16/16       5/5
blur 1                  52.9 … 115.3          0 … 0.0033         16/16       5/5
blur 1.5                14.6 … 41.2           0 … 0.0032         16/16       5/5
blur 2                  6.1 … 18.6            0 … 0.0027         16/16       5/5
blur 3                  2.2 … 6.3             0 … 0.0021         16/16       3/5
blur 4                  1.4 … 3.6             0 … 0.0016         16/16       0/5
glare 0.1               347.5 … 709.3         0.0027 … 0.0065    16/16       5/5
glare 0.2               327.6 … 706.1         0.0109 … 0.0146    16/16       4/5
glare 0.3               298.5 … 704.3         0.0246 … 0.0275    16/16       4/5
glare 0.4               258.8 … 696.4         0.0439 … 0.0464    15/16       4/5
glare 0.6               187.5 … 617.5         0.0988 … 0.1009    14/16       2/5
selfies (shared faces)  56.6 … 331.2          0 … 0.0569         —           —
======================  ====================  =================  ==========  =========

How the thresholds were chosen. Each sits at about the geometric mean of the worst photo
that must pass and the best photo that must fail, so that both sides keep the same ratio
of margin:

- :data:`MIN_SHARPNESS` 30: photos blurred by up to 1 pixel, whose text is still crisp,
  measure at least 52.9; from a 2-pixel blur on, at most 18.6 (the rule gives 31.4). OCR
  itself only starts to fail at a 3-pixel blur (sharpness 6 or less), so a photo that
  passes is read with a wide margin, and the rest of the margin is for the face comparison
  and for the reviewer. The least sharp shared face photo (a selfie with a blurred
  background) measures 56.6, so selfies share the threshold.
- :data:`MAX_GLARE` 0.008 (0.8 % of the photo blown out): unspoiled cards (white in their
  portraits) and a highlight of strength 0.1 measure at most 0.0065; a glare of strength
  0.2, which already hid the name or number from OCR on one card in five, measures at
  least 0.0109 (the rule gives 0.0084). The margin is narrow (×1.2 and ×1.4) because the
  measure counts the whole photo, not the card's area alone.
- :data:`MAX_SELFIE_GLARE` 0.15: a selfie against a white wall or window is blown out
  around the face, not on it: the shared face photos reach 0.0569 (a studio backdrop),
  so only a selfie more than 15 % blown out, an overexposed one, fails.

The failures are checked in this order over every document: ``image_blurry``, then
``image_glare``, then ``document_not_detected`` (an ID card side where no card was found).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kyc_service.domain.verification import FACE_DOCUMENT, CheckStatus, check

CHECK_NAME = "document_quality"
MIN_SHARPNESS = 30.0
"""Below: the image is out of focus (``image_blurry``)."""
MAX_GLARE = 0.008
"""Above: too much of a document photo is blown out (``image_glare``)."""
MAX_SELFIE_GLARE = 0.15
"""Above: the selfie is overexposed (``image_glare``)."""
BLURRY = "image_blurry"
GLARE = "image_glare"
NOT_DETECTED = "document_not_detected"

Measures = Mapping[str, Any]


def max_glare(kind: str) -> float:
    """Return the most glare allowed in a document of ``kind``."""
    return MAX_SELFIE_GLARE if kind == FACE_DOCUMENT else MAX_GLARE


def is_blurry(kind: str, measures: Measures) -> bool:
    """Tell whether the image is out of focus (a missing measure is not a failure)."""
    sharpness = measures.get("sharpness")
    return sharpness is not None and sharpness < MIN_SHARPNESS


def has_glare(kind: str, measures: Measures) -> bool:
    """Tell whether too much of the image is blown out for a document of ``kind``."""
    glare = measures.get("glare")
    return glare is not None and glare > max_glare(kind)


def card_missing(kind: str, measures: Measures) -> bool:
    """Tell whether an ID card side shows no card (``card_found`` None: not applicable)."""
    return measures.get("card_found") is False


CHECKS = ((BLURRY, is_blurry), (GLARE, has_glare), (NOT_DETECTED, card_missing))


def quality_problems(measures: Mapping[str, Measures]) -> list[tuple[str, str]]:
    """Return (kind, failure code) for every problem of every document, blur first."""
    return [
        (kind, code)
        for code, failing in CHECKS
        for kind, measured in measures.items()
        if failing(kind, measured)
    ]


def document_quality_check(measures: Mapping[str, Measures]) -> dict:
    """Return the document_quality check's record for the measures of each document kind.

    ``measures`` maps a kind (``id_card_front``, ``id_card_back``, ``selfie``) to its
    ``sharpness``, ``glare`` and ``card_found``. With no documents the check is skipped.
    """
    if not measures:
        return check(CHECK_NAME, CheckStatus.SKIPPED)
    problems = quality_problems(measures)
    if problems:
        return check(CHECK_NAME, CheckStatus.FAILED, problems[0][1])
    return check(CHECK_NAME, CheckStatus.PASSED)
