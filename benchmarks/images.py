"""Issue 8: the image checks on data nobody here made (``BENCH_ONLY=images``).

Through the service's own measuring and verdict, with the real face adapter:

- ``selfie_refusal_rate``: real photos (``tests/data``) whose face is at least
  ``MIN_FACE_WIDTH``, refused as selfies (goal 0);
- ``scan_accept_rate``, ``photo_accept_rate``: drawn ID cards as flat scans and as photos,
  accepted (goal 1.0);
- ``blur_catch_rate``: Gaussian σ 2 / σ 4 and 15-pixel motion-blurred copies of the real
  photos and of the cards refused as ``image_blurry`` (goal ≥ 0.95);
- ``photos_face_accuracy``: the labelled pairs of ``tests/data/photos/pairs.csv``, the
  first photo printed on a drawn card (flat scan, found and rectified), the second as the
  selfie; correct decisions over decided pairs, with ``photos_face_review`` (grey zone)
  and ``photos_face_false_accepts`` beside it.
"""

from __future__ import annotations

import csv
import time
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from adapters.opencv_images import find_document
from benchmarks.settings import BenchSettings
from kyc_service.domain.document_policy import MIN_FACE_WIDTH
from kyc_service.domain.face_policy import face_match_check
from kyc_service.services.card_reading import card_portrait
from tests import cards
from tests.image_sets import (
    BLURS,
    DATA,
    card_samples,
    degraded_cards,
    judge,
    selfie_samples,
)


def _matcher() -> Any:
    """The face adapter with its models loaded."""
    from adapters.face_recognition_matcher import FaceRecognitionMatcher

    matcher = FaceRecognitionMatcher.from_settings({})
    matcher.warm_up()
    return matcher


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def _selfie_figures(matcher: Any) -> tuple[dict[str, Any], list[bool]]:
    """The refusal rate of real photos and whether each blurred copy was caught."""
    verdicts = [judge(sample, matcher) for sample in selfie_samples(matcher)]
    single = [v for v in verdicts if v.sample.name != "two_people.jpg"]
    originals = [
        v
        for v in single
        if v.sample.variant == "original" and v.measures.get("face_width", 0) >= MIN_FACE_WIDTH
    ]
    refused = [v.sample.name for v in originals if v.problem]
    caught = [v.problem == "image_blurry" for v in single if v.sample.variant in BLURS]
    figures = {
        "selfie_refusal_rate": _rate(len(refused), len(originals)),
        "selfies_measured": len(originals),
        "selfies_refused": refused,
    }
    return figures, caught


def _card_figures(matcher: Any) -> tuple[dict[str, Any], list[bool]]:
    """Acceptance of card scans and photos, and whether each blurred copy was caught."""
    originals = list(card_samples(people=2))
    verdicts = [judge(sample, matcher) for sample in originals]
    scans = [v.problem is None for v in verdicts if v.sample.group == "scan"]
    photos = [v.problem is None for v in verdicts if v.sample.group == "photo"]
    degraded = [judge(s, matcher) for s in degraded_cards(originals[::6]) if s.variant in BLURS]
    figures = {
        "scan_accept_rate": _rate(sum(scans), len(scans)),
        "photo_accept_rate": _rate(sum(photos), len(photos)),
        "card_scans": len(scans),
        "card_photos": len(photos),
    }
    return figures, [v.problem == "image_blurry" for v in degraded]


def _upright(name: str) -> Image.Image:
    with Image.open(DATA / "photos" / name) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def _face_figures(matcher: Any) -> dict[str, Any]:
    """Face match of card portraits (flat scans) against selfies on the labelled pairs."""
    with open(DATA / "photos" / "pairs.csv", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    correct = decided = review = false_accepts = 0
    holder = cards.person(0)
    for pair in pairs:
        printed = _upright(pair["file_x"])
        box = matcher.find_faces(np.asarray(printed))[0]
        photo = cards.portrait_around(printed, (box.left, box.top, box.right, box.bottom))
        scan, _ = cards.flat_scan(cards.card_front(holder, photo=photo))
        found = find_document(np.asarray(scan))
        selfie = (DATA / "photos" / pair["file_y"]).read_bytes()
        record = face_match_check(matcher.compare(card_portrait(found.rectified), selfie))
        same = pair["same"] == "yes"
        if record.code == "face_uncertain":
            review += 1
            continue
        decided += 1
        passed = record.status == "passed"
        correct += passed == same
        false_accepts += passed and not same
    return {
        "photos_face_accuracy": _rate(correct, decided),
        "photos_face_pairs": len(pairs),
        "photos_face_review": review,
        "photos_face_false_accepts": false_accepts,
    }


def bench_images(settings: BenchSettings) -> dict[str, Any]:
    """Run the image-check measurements; return their figures."""
    started = time.perf_counter()
    matcher = _matcher()
    figures, caught = _selfie_figures(matcher)
    card_figures, card_caught = _card_figures(matcher)
    figures.update(card_figures)
    figures["blur_catch_rate"] = _rate(sum(caught + card_caught), len(caught + card_caught))
    figures.update(_face_figures(matcher))
    figures["failures"] = 0
    print(
        f"  images   selfie refusals {figures['selfie_refusal_rate']} of "
        f"{figures['selfies_measured']}, scans {figures['scan_accept_rate']}, photos "
        f"{figures['photo_accept_rate']}, blur caught {figures['blur_catch_rate']}, face "
        f"accuracy {figures['photos_face_accuracy']} ({figures['photos_face_review']} to "
        f"review, {figures['photos_face_false_accepts']} false accepts) "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return figures
