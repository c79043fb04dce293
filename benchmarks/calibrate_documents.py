"""Calibrate the document_quality thresholds: ``python -m benchmarks.calibrate_documents``.

Generates photos of ID cards (``tests/cards.py``: fronts and backs of several people with
several faces, on four backgrounds, turned −15…15°, spanning 50–90 % of a 1280×960 frame,
some keystoned), spoils each with Gaussian blur and with a blown-out glare ellipse, and
measures every JPEG as an upload is measured (:func:`kyc_service.imaging.prepare_upload`:
sharpness and glare on the 1000-pixel normalised copy) and whether
:func:`kyc_service.imaging.find_card` finds the card. The shared face photos are measured
as selfies. It prints the range of each measure per variant and the thresholds that the
rule of :mod:`kyc_service.domain.document_policy` gives (the geometric mean of the worst
acceptable and the best spoiled value). ``--ocr`` also reads a few fronts of each variant
with the OCR adapter, to show where reading starts to fail (slow: about 2 s a read).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.ocr import faces_folder
from kyc_service.domain.document_policy import MAX_GLARE, MAX_SELFIE_GLARE, MIN_SHARPNESS
from kyc_service.domain.id_card_text import parse_front
from kyc_service.imaging import UploadLimits, find_card, prepare_upload
from tests.cards import (
    BACKGROUNDS,
    Person,
    blurred,
    card_back,
    card_front,
    glared,
    person,
    photo_of,
    to_jpeg,
)

LIMITS = UploadLimits(max_bytes=20 * 1024 * 1024, max_pixels=40_000_000)
PEOPLE = 12
BLUR_RADII = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
GLARE_STRENGTHS = (0.1, 0.2, 0.3, 0.4, 0.6)
ACCEPTABLE_BLUR = 1.0
"""Blur radii (frame pixels) up to this are in focus: text crisp to the eye."""
BLURRED = 2.0
"""Blur radii from this on are out of focus."""
ACCEPTABLE_GLARE = 0.1
"""Glare strengths up to this are a small highlight (under 0.5 % of the frame)."""
GLARED = 0.2
"""Glare strengths from this on hide a field of a card spanning half the frame."""


@dataclass(frozen=True)
class Sample:
    """One measured photo: what was done to it and what was measured."""

    variant: str
    amount: float
    sharpness: float
    glare: float
    card_found: bool
    read_back: bool | None = None


def card_photos(faces: Path | None) -> Iterator[tuple[Person, bool, Image.Image]]:
    """Yield (holder, is_front, photo) for every generated card photo."""
    for seed in range(PEOPLE):
        rng = random.Random(1000 + seed)
        holder = person(seed)
        sides = [(True, card_front(holder, faces))]
        if seed % 3 == 0:
            sides.append((False, card_back(holder)))
        for front, card in sides:
            background = BACKGROUNDS[(seed + (not front)) % len(BACKGROUNDS)]
            yield holder, front, _placed(card, rng, background, seed)


def _placed(card: Image.Image, rng: random.Random, background: str, seed: int) -> Image.Image:
    """Photograph ``card`` at a random angle and scale, shrunk until it fits the frame."""
    angle, scale = rng.uniform(-15, 15), rng.uniform(0.5, 0.9)
    tilt = rng.choice((0.0, 0.0, 0.08))
    while True:
        try:
            return photo_of(card, angle, scale, background, tilt=tilt, seed=seed)
        except ValueError:
            scale -= 0.02


def measure(
    variant: str, amount: float, image: Image.Image, holder: Person | None, reader: Any
) -> Sample:
    """Measure one photo as an upload would be; OCR it too when a reader is given."""
    data = to_jpeg(image)
    prepared = prepare_upload(data, LIMITS)
    read_back = None
    if reader is not None and holder is not None:
        read_back = parse_front(reader.read_lines(data)) == (holder.name, holder.id_number)
    found = find_card(data) is not None
    return Sample(variant, amount, prepared.sharpness, prepared.glare, found, read_back)


def samples(faces: Path | None, reader: Any, ocr_every: int) -> list[Sample]:
    """Measure every card photo in every variant; OCR every ``ocr_every``-th front."""
    measured = []
    for index, (holder, front, photo) in enumerate(card_photos(faces)):
        ocr = reader if (front and reader is not None and index % ocr_every == 0) else None
        for radius in BLUR_RADII:
            measured.append(measure("blur", radius, blurred(photo, radius), holder, ocr))
        for strength in GLARE_STRENGTHS:
            centre = (0.4 + 0.2 * ((index * 7) % 5) / 4, 0.35 + 0.2 * ((index * 3) % 5) / 4)
            spoiled = glared(photo, strength, centre)
            measured.append(measure("glare", strength, spoiled, holder, ocr))
    for path in sorted(faces.glob("*.jpg")) if faces else []:
        prepared = prepare_upload(path.read_bytes(), LIMITS)
        measured.append(Sample("selfie", 0.0, prepared.sharpness, prepared.glare, False))
    return measured


def _span(values: list[float], digits: int) -> str:
    """Format min / median / max."""
    return " / ".join(
        f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values))
    )


def report(measured: list[Sample]) -> None:
    """Print each variant's ranges, then the thresholds the rule gives."""
    print(
        f"{'variant':<14}{'n':>4}  {'sharpness min/med/max':<26}{'glare min/med/max':<28}"
        f"{'card found':<12}read back"
    )
    groups: dict[tuple[str, float], list[Sample]] = {}
    for sample in measured:
        groups.setdefault((sample.variant, sample.amount), []).append(sample)
    for (variant, amount), group in groups.items():
        reads = [s.read_back for s in group if s.read_back is not None]
        print(
            f"{variant + ' ' + format(amount, 'g'):<14}{len(group):>4}  "
            f"{_span([s.sharpness for s in group], 1):<26}{_span([s.glare for s in group], 4):<28}"
            f"{sum(s.card_found for s in group):>3}/{len(group):<8}"
            + (f"{sum(reads)}/{len(reads)}" if reads else "-")
        )
    _thresholds(measured)


def _thresholds(measured: list[Sample]) -> None:
    """Print the geometric-mean thresholds between acceptable and spoiled photos."""
    blur = [s for s in measured if s.variant == "blur"]
    sharp_low = min(s.sharpness for s in blur if s.amount <= ACCEPTABLE_BLUR)
    blurred_high = max(s.sharpness for s in blur if s.amount >= BLURRED)
    clean = [s.glare for s in measured if s.variant == "blur" and s.amount == 0.0]
    clean += [s.glare for s in measured if s.variant == "glare" and s.amount <= ACCEPTABLE_GLARE]
    glared_low = min(s.glare for s in measured if s.variant == "glare" and s.amount >= GLARED)
    selfies = [s for s in measured if s.variant == "selfie"]
    print(
        f"sharpness: in focus (blur <= {ACCEPTABLE_BLUR:g}) >= {sharp_low:.1f}; "
        f"blurred (>= {BLURRED:g}) <= {blurred_high:.1f}; "
        f"rule gives {math.sqrt(sharp_low * blurred_high):.1f}; MIN_SHARPNESS = {MIN_SHARPNESS}"
    )
    print(
        f"glare: acceptable (none or <= {ACCEPTABLE_GLARE:g}) <= {max(clean):.4f}; "
        f"glared (>= {GLARED:g}) >= {glared_low:.4f}; "
        f"rule gives {math.sqrt(max(max(clean), 1e-4) * glared_low):.4f}; MAX_GLARE = {MAX_GLARE}"
    )
    if selfies:
        print(
            f"selfies: sharpness >= {min(s.sharpness for s in selfies):.1f}, "
            f"glare <= {max(s.glare for s in selfies):.4f}; MAX_SELFIE_GLARE = {MAX_SELFIE_GLARE}"
        )


def main(argv: list[str] | None = None) -> int:
    """Generate, measure and report; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr", action="store_true", help="also OCR some fronts (slow)")
    parser.add_argument("--ocr-every", type=int, default=3, help="OCR every n-th photo")
    arguments = parser.parse_args(argv)
    reader = None
    if arguments.ocr:
        from adapters.rapidocr_reader import RapidOcrDocumentReader

        reader = RapidOcrDocumentReader.from_settings({})
    faces = faces_folder()
    if faces is None:
        print("no face photos (KYC_TEST_DATA/faces): placeholder portraits, no selfies")
    report(samples(faces, reader, arguments.ocr_every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
