"""OCR seconds per ID card front (``BENCH_ONLY=ocr python -m benchmarks``).

As the pipeline reads a card: photos of generated card fronts (``tests/cards.py``:
1280×960 JPEGs, the card over 60–85 % of the width, turned by a few degrees, on a textured
background) are found once (as on upload, not timed); then, timed, the stored JPEG is
decoded and rectified at the recorded corners and its name and number zones are read
(:func:`kyc_service.services.card_reading.read_front`, the whole card only when the zones
give no valid number), after one warm-up read that loads the models. Reported: mean wall
seconds and mean process CPU seconds (every thread) per card, and how many cards had both
name and number read back exactly.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from adapters.opencv_images import OpenCvDocumentImaging, find_card
from adapters.rapidocr_reader import RapidOcrDocumentReader
from benchmarks.servers import ROOT
from benchmarks.settings import BenchSettings
from kyc_service.domain.id_card_text import parse_front
from kyc_service.services.card_reading import read_front, rectified_card
from tests.cards import Person, card_front, person, photo_of, to_jpeg

CARDS = 10


def faces_folder() -> Path | None:
    """Return the shared face photos' folder (``KYC_TEST_DATA``/faces), or None if absent."""
    data = Path(os.environ.get("KYC_TEST_DATA", ROOT / "tests" / "data"))
    folder = data / "faces"
    return folder if folder.is_dir() else None


def card_photos(count: int, faces: Path | None) -> list[tuple[Person, bytes]]:
    """Return ``count`` people and a JPEG photo of each one's card front."""
    photos = []
    for seed in range(count):
        holder = person(seed)
        angle = (-4.0, -2.0, 0.0, 2.0, 4.0)[seed % 5]
        scale = 0.6 + 0.25 * (seed % 4) / 3
        image = photo_of(card_front(holder, faces), angle=angle, scale=scale, seed=seed)
        photos.append((holder, to_jpeg(image)))
    return photos


def bench_ocr(settings: BenchSettings) -> dict[str, Any]:
    """Time ``read_lines`` on generated card fronts; return the per-card figures."""
    count = int(os.environ.get("BENCH_OCR_CARDS", CARDS))
    faces = faces_folder()
    photos = card_photos(count + 1, faces)
    reader = RapidOcrDocumentReader.from_settings({})
    reader.warm_up()
    walls, cpus, read_back = [], [], 0
    for holder, data in photos[1:]:
        corners = find_card(data)
        wall, cpu = time.perf_counter(), time.process_time()
        lines = read_front(reader, rectified_card(data, corners, OpenCvDocumentImaging())[0])
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        read_back += parse_front(lines) == (holder.name, holder.id_number)
    figures = {
        "ocr_s_per_card": round(statistics.mean(walls), 3),
        "ocr_cpu_s_per_card": round(statistics.mean(cpus), 3),
        "ocr_cards": count,
        "ocr_cards_read": read_back,
    }
    print(
        f"  ocr      {count} card fronts: {figures['ocr_s_per_card']:.3f} s/card wall "
        f"(max {max(walls):.3f}), {figures['ocr_cpu_s_per_card']:.3f} s/card CPU, "
        f"{read_back}/{count} read back exactly"
        + ("" if faces else " (no face photos: placeholder portraits)"),
        flush=True,
    )
    return figures
