"""The image sets the image checks are calibrated and benchmarked on, and their verdicts.

- **Real photos** (``tests/data/photos`` and ``tests/data/faces``: 48 photographs nobody
  here took) as selfies, as they are and degraded at their own resolution: Gaussian blur
  σ 2 and 4, a 15-pixel motion blur, JPEG quality 10, and an over-exposed specular patch
  on the face.
- **Drawn ID cards** (``tests/cards.py``) as flat scans (edge to edge; a 2–5 % margin,
  white or grey) and as photos (four surfaces, −20…20°, keystoned, 30–95 % of the frame's
  width), and the same degradations (the patch on the card's number).

Each image goes through the service's own measuring (:func:`kyc_service.services.
document_measures.measure` with the face adapter) and verdict (``upload_problem``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from adapters.opencv_images import OpenCvDocumentImaging
from kyc_service.services.document_measures import measure, upload_problem
from tests.cards import (
    BACKGROUNDS,
    FRAME_SIZE,
    NUMBER_CENTRE,
    card_back,
    card_front,
    flat_scan,
    gaussian,
    low_quality_jpeg,
    motion_blurred,
    person,
    photo_of,
    placement,
    specular,
)

IMAGING = OpenCvDocumentImaging()
"""The document finder and quality measures, as the service builds them."""
DATA = Path(os.environ.get("KYC_TEST_DATA", Path(__file__).resolve().parent / "data"))
SCAN_MARGINS = (0.0, 0.02, 0.035, 0.05)
SCAN_COLOURS = ((255, 255, 255), (205, 205, 205))
ANGLES = (-20.0, -10.0, 0.0, 10.0, 20.0)
SCALES = (0.3, 0.5, 0.7, 0.95)
BLURS = ("gaussian_2", "gaussian_4", "motion_15")
DEGRADATIONS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "gaussian_2": lambda image: gaussian(image, 2.0),
    "gaussian_4": lambda image: gaussian(image, 4.0),
    "motion_15": lambda image: motion_blurred(image, 15),
    "jpeg_10": lambda image: low_quality_jpeg(image, 10),
}


@dataclass
class Sample:
    """One image to judge: what it is, the kind it is uploaded as, and where its card is."""

    name: str
    variant: str
    kind: str
    image: Image.Image
    corners: np.ndarray | None = None
    group: str = ""


@dataclass
class Verdict:
    """What the service measured on a sample, and the code it refuses it with (or None)."""

    sample: Sample
    measures: dict[str, Any]
    problem: str | None

    @property
    def corner_error(self) -> float | None:
        """The largest distance in pixels from a found corner to the true one."""
        found = self.measures.get("corners")
        if found is None or self.sample.corners is None:
            return None
        return float(np.abs(np.asarray(found) - self.sample.corners).max())


def real_photos() -> list[tuple[str, Image.Image]]:
    """Every real photograph of the test data, upright, by file name."""
    found = []
    for folder in ("photos", "faces"):
        for path in sorted((DATA / folder).glob("*.jpg")):
            with Image.open(path) as opened:
                found.append((path.name, ImageOps.exif_transpose(opened).convert("RGB")))
    if not found:
        raise RuntimeError(f"no photos under {DATA} (set KYC_TEST_DATA)")
    return found


def selfie_samples(matcher: Any) -> Iterator[Sample]:
    """The real photos as selfies: as they are, degraded, and with a patch on the face."""
    for name, image in real_photos():
        yield Sample(name, "original", "selfie", image)
        for variant, degrade in DEGRADATIONS.items():
            yield Sample(name, variant, "selfie", degrade(image))
        boxes = matcher.find_faces(np.asarray(image))
        if boxes:
            box = boxes[0]
            centre = ((box.left + box.right) / 2, box.top + 0.4 * box.height)
            yield Sample(name, "specular", "selfie", specular(image, centre, 0.2 * box.width))


def card_samples(people: int = 4) -> Iterator[Sample]:
    """Drawn card fronts and backs as flat scans and as photos, each with its true corners."""
    faces = DATA / "faces"
    for seed in range(people):
        holder = person(seed)
        for kind, card in (
            ("id_card_front", card_front(holder, faces)),
            ("id_card_back", card_back(holder)),
        ):
            yield from _scans(f"p{seed}", kind, card)
            yield from _photos(f"p{seed}", kind, card, seed)


def _scans(name: str, kind: str, card: Image.Image) -> Iterator[Sample]:
    """A card as flat scans: edge to edge, and with margins of several widths and colours."""
    for margin in SCAN_MARGINS:
        for colour in SCAN_COLOURS if margin else SCAN_COLOURS[:1]:
            scan, corners = flat_scan(card, margin, colour)
            label = f"{name}-scan-{margin:.3f}-{colour[0]}"
            yield Sample(label, "original", kind, scan, corners, "scan")


def _photos(name: str, kind: str, card: Image.Image, seed: int) -> Iterator[Sample]:
    """A card photographed on each surface, turned, keystoned, at several sizes."""
    for index, background in enumerate(BACKGROUNDS):
        for angle in ANGLES:
            for scale in SCALES:
                tilt = 0.12 if (index + int(angle)) % 20 == 0 else 0.0
                try:
                    photo = photo_of(card, angle, scale, background, tilt, seed=seed + index)
                except ValueError:
                    continue  # does not fit the frame at that angle
                corners = placement(card.size, FRAME_SIZE, angle, scale, tilt)
                label = f"{name}-{background}-{angle:+.0f}-{scale}-{tilt}"
                yield Sample(label, "original", kind, photo, corners, "photo")


def degraded_cards(samples: list[Sample]) -> Iterator[Sample]:
    """Each card sample degraded: blurs, JPEG 10, and (fronts) a patch on the number."""
    for sample in samples:
        for variant, degrade in DEGRADATIONS.items():
            yield Sample(
                sample.name,
                variant,
                sample.kind,
                degrade(sample.image),
                sample.corners,
                sample.group,
            )
        if sample.kind == "id_card_front" and sample.corners is not None:
            centre, width = _on_card(sample.corners, NUMBER_CENTRE)
            patched = specular(sample.image, centre, 0.08 * width)
            yield Sample(
                sample.name, "specular", sample.kind, patched, sample.corners, sample.group
            )


def _on_card(corners: np.ndarray, point: tuple[float, float]) -> tuple[tuple[float, float], float]:
    """A point given as shares of the card, in image pixels; and the card's width there."""
    top = corners[0] + point[0] * (corners[1] - corners[0])
    bottom = corners[3] + point[0] * (corners[2] - corners[3])
    at = top + point[1] * (bottom - top)
    width = float(np.linalg.norm(corners[1] - corners[0]))
    return (float(at[0]), float(at[1])), width


def judge(sample: Sample, matcher: Any) -> Verdict:
    """Measure a sample as an upload is measured (after a JPEG round trip), and judge it."""
    buffer = io.BytesIO()
    sample.image.save(buffer, format="JPEG", quality=92)
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        pixels = np.asarray(decoded.convert("RGB"))
    measures = measure(pixels, sample.kind, matcher, IMAGING)
    return Verdict(sample, measures, upload_problem(sample.kind, measures))
