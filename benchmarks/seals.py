"""Issue 11: red official seal detection on drawn pages (``BENCH_ONLY=seals``).

Through the ``opencv`` imaging adapter's ``find_seal``, on sets drawn for this benchmark
(``tests/cards.py``, other pages than the tests'): :data:`SET_SIZE` sealed pages (powers
of attorney and business licences; seals of 28–45 mm, turned 0–360°, ink opacity 0.6–1.0,
fresh or faded red) and :data:`SET_SIZE` pages without a red seal (no stamp, black or blue
ink, red boxes, red logos, a grey photocopied seal, a photocopy, a licence's red emblem),
each half flat scans, half phone photos on a desk, at 3–7 px/mm (A4 630–1470 px wide):

- ``seal_hit_rate``: sealed pages found (goal ≥ 0.98);
- ``seal_false_alarms``: pages without a red seal on which one was found (goal 0);
- ``seal_s_per_page``: mean CPU seconds of one search, over both sets;
- ``seal_s_per_2000px_page``: the same on flat scans of A4 at 7 px/mm (1470 × 2079).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from adapters.opencv_images import OpenCvDocumentImaging
from benchmarks.settings import BenchSettings
from kyc_service.domain.results import SealFinding
from tests import cards

SET_SIZE = 200
FIRST_PAGE = 10_000
"""The sets start here: pages the tests (which start at 0) never see."""
RESOLUTIONS = (3.0, 4.0, 5.0, 7.0)
LARGE_PAGES = 20


def _search(
    imaging: OpenCvDocumentImaging, samples: list[cards.SealSample]
) -> tuple[list[SealFinding], float]:
    """Each sample's finding, and the CPU seconds all the searches took."""
    findings = []
    spent = 0.0
    for sample in samples:
        pixels = np.asarray(sample.image)
        started = time.process_time()
        findings.append(imaging.find_seal(pixels))
        spent += time.process_time() - started
    return findings, spent


def _large_page_seconds(imaging: OpenCvDocumentImaging) -> float:
    """Mean CPU seconds of a search on a sealed A4 flat scan about 2000 pixels long."""
    spent = 0.0
    for index in range(LARGE_PAGES):
        sheet = cards.power_of_attorney(px_per_mm=7.0, seed=index, angle=17.0 * index)
        pixels = np.asarray(cards.low_quality_jpeg(sheet, 85))
        started = time.process_time()
        imaging.find_seal(pixels)
        spent += time.process_time() - started
    return spent / LARGE_PAGES


def bench_seals(settings: BenchSettings) -> dict[str, Any]:
    """Draw the sets, search every page for a seal; return the figures."""
    if not cards.CJK_FONT.exists():
        raise RuntimeError(f"CJK font not found at {cards.CJK_FONT} (fonts-wqy-microhei)")
    started = time.perf_counter()
    imaging = OpenCvDocumentImaging()
    sealed = cards.seal_samples(SET_SIZE, True, FIRST_PAGE, RESOLUTIONS)
    distractors = cards.seal_samples(SET_SIZE, False, FIRST_PAGE, RESOLUTIONS)
    found, sealed_seconds = _search(imaging, sealed)
    alarms, distractor_seconds = _search(imaging, distractors)
    missed = [s.name for s, f in zip(sealed, found, strict=True) if not f.found]
    false = [s.name for s, f in zip(distractors, alarms, strict=True) if f.found]
    figures = {
        "seal_hit_rate": round(1 - len(missed) / len(sealed), 4),
        "seal_false_alarms": len(false),
        "seal_s_per_page": round((sealed_seconds + distractor_seconds) / (2 * SET_SIZE), 4),
        "seal_s_per_2000px_page": round(_large_page_seconds(imaging), 4),
        "seal_pages": {"sealed": len(sealed), "without_seal": len(distractors)},
        "seal_missed": missed,
        "seal_false_alarm_pages": false,
        "failures": 0,
    }
    print(
        f"  seals    hit rate {figures['seal_hit_rate']} of {len(sealed)} sealed pages, "
        f"{figures['seal_false_alarms']} false alarms on {len(distractors)} without, "
        f"{figures['seal_s_per_page']} CPU s/page "
        f"({figures['seal_s_per_2000px_page']} on 2000 px pages) "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return figures
