"""Issue 5: the face_match check against a naive use of face_recognition; peak RSS.

For every pair of single-face photos of ``$KYC_TEST_DATA/faces`` (default
``tests/data/faces``), in one run:

- the service's check (``FaceRecognitionMatcher.compare`` then ``face_match_check``): the
  share of pairs decided right (same person → passed, different → ``face_mismatch``) and
  its CPU seconds per pair;
- a naive use of face_recognition on the same files, with nothing cached across pairs
  (``load_image_file`` at full resolution, ``face_locations``, ``face_encodings``,
  ``face_distance``, same person when the distance is ≤ 0.6): accuracy and CPU per pair;
- the peak RSS of a fresh process that loads the face and the OCR models, reads a generated
  ID-card-sized image and compares the two largest photos.

CPU time (``time.process_time``) is used, not wall time, so other load on the machine
barely moves the figures. ``python -m benchmarks.faces rss`` runs the RSS probe alone.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.servers import ROOT
from benchmarks.settings import BenchSettings
from kyc_service.domain.checks import CheckResult

FACE_DATA = Path(os.environ.get("KYC_TEST_DATA", ROOT / "tests" / "data")) / "faces"
MULTI_FACE = frozenset({"two_people"})
"""Photos showing more than one face: not part of the pairs."""
NAIVE_TOLERANCE = 0.6
"""face_recognition's usual distance tolerance for "same person"."""
TARGET_RATIO = 0.35
TARGET_RSS_MB = 600

Pair = tuple[str, str]


def face_photos(folder: Path = FACE_DATA) -> dict[str, Path]:
    """Return the single-face photos by name (the file name without extension)."""
    if not folder.is_dir():
        raise RuntimeError(f"face photos not found at {folder} (set KYC_TEST_DATA)")
    return {p.stem: p for p in sorted(folder.glob("*.jpg")) if p.stem not in MULTI_FACE}


def person(name: str) -> str:
    """Return who a photo shows: the part of its name before the first underscore."""
    return name.split("_", 1)[0]


def same_person(pair: Pair) -> bool:
    """Tell whether both photos of ``pair`` show the same person."""
    return person(pair[0]) == person(pair[1])


def face_pairs(names: list[str]) -> list[Pair]:
    """Return every unordered pair of distinct photos."""
    return list(itertools.combinations(sorted(names), 2))


def cpu_seconds(run: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``run``; return the CPU seconds it took and its result."""
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def service_checks(photos: dict[str, Path], pairs: list[Pair]) -> tuple[float, list[dict]]:
    """Run the service's face_match check on every pair; return CPU seconds and the checks."""
    from adapters.face_recognition_matcher import FaceRecognitionMatcher, face_library
    from kyc_service.domain.face_policy import face_match_check

    face_library()
    matcher = FaceRecognitionMatcher.from_settings({})
    data = {name: path.read_bytes() for name, path in photos.items()}
    return cpu_seconds(
        lambda: [face_match_check(matcher.compare(data[a], data[b])) for a, b in pairs]
    )


def naive_distance(library: Any, first: Path, second: Path) -> float | None:
    """Compare two photos the naive way; return the distance (None: a face is missing)."""
    encodings = []
    for path in (first, second):
        image = library.load_image_file(str(path))
        found = library.face_encodings(image, library.face_locations(image))
        if not found:
            return None
        encodings.append(found[0])
    return float(library.face_distance([encodings[0]], encodings[1])[0])


def naive_distances(photos: dict[str, Path], pairs: list[Pair]) -> tuple[float, list[float | None]]:
    """Compare every pair the naive way; return CPU seconds and the distances."""
    from adapters.face_recognition_matcher import face_library

    library = face_library()
    return cpu_seconds(lambda: [naive_distance(library, photos[a], photos[b]) for a, b in pairs])


def service_right(pair: Pair, outcome: CheckResult) -> bool:
    """Tell whether the service decided ``pair`` right."""
    if same_person(pair):
        return outcome.status == "passed"
    return outcome.status == "failed" and outcome.code == "face_mismatch"


def naive_right(pair: Pair, distance: float | None) -> bool:
    """Tell whether the naive comparison decided ``pair`` right."""
    if distance is None:
        return False
    return (distance <= NAIVE_TOLERANCE) == same_person(pair)


def score_extremes(pairs: list[Pair], scores: list[float | None]) -> dict[str, Any]:
    """Return the lowest same-person and highest different-person score, with their pairs."""
    same = [(s, p) for p, s in zip(pairs, scores, strict=True) if s is not None and same_person(p)]
    other = [
        (s, p) for p, s in zip(pairs, scores, strict=True) if s is not None and not same_person(p)
    ]
    return {"min_same": min(same, default=None), "max_different": max(other, default=None)}


def describe(label: str, extremes: dict[str, Any]) -> str:
    """Format the score extremes of one method as a human-readable line."""
    parts = []
    for key in ("min_same", "max_different"):
        if extremes[key] is not None:
            score, (a, b) = extremes[key]
            parts.append(f"{key} {score:.3f} ({a} / {b})")
    return f"  {label} similarity: " + ", ".join(parts)


def ocr_card_pixels() -> Any:
    """Return a generated ID-card-sized image (856 × 540 px, 10 px/mm) with a line of text."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    card = Image.new("RGB", (856, 540), (226, 236, 244))
    draw = ImageDraw.Draw(card)
    font = ImageFont.load_default(size=40)
    draw.text((60, 420), "440305198808153214", fill=(20, 20, 20), font=font)
    draw.text((60, 80), "ZHANG SAN", fill=(20, 20, 20), font=font)
    return np.asarray(card)


def rss_probe() -> dict[str, float]:
    """Load the face and OCR models, read one card, compare two photos; return peak RSS."""
    from adapters.face_recognition_matcher import FaceRecognitionMatcher, face_library
    from adapters.rapidocr_reader import ocr_engine

    face_library()
    ocr_engine()(ocr_card_pixels())
    largest = sorted(face_photos().values(), key=lambda p: p.stat().st_size)[-2:]
    comparison = FaceRecognitionMatcher.from_settings({}).compare(
        largest[0].read_bytes(), largest[1].read_bytes()
    )
    if comparison.similarity is None:
        raise RuntimeError(f"the RSS probe's face compare failed: {comparison}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_rss_mb": round(peak_kib / 1024, 1)}


def peak_rss_mb() -> float:
    """Run :func:`rss_probe` in a fresh interpreter; return its peak RSS in MiB."""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "benchmarks.faces", "rss"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"RSS probe failed: {result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def verdict(value: float, goal: float) -> str:
    """Say whether ``value`` meets a ≤ ``goal``."""
    return f"{'meets' if value <= goal else 'MISSES'} the goal of <= {goal:g}"


def bench_faces(settings: BenchSettings) -> dict[str, Any]:
    """Measure the face check and the naive baseline on every pair; return the figures."""
    photos = face_photos()
    pairs = face_pairs(list(photos))
    same = sum(map(same_person, pairs))
    print(
        f"face pairs of {FACE_DATA.resolve()}: {len(pairs)} ({same} same-person, "
        f"{len(pairs) - same} different-person)",
        flush=True,
    )
    service_cpu, checks = service_checks(photos, pairs)
    naive_cpu, distances = naive_distances(photos, pairs)
    figures = summarise(pairs, service_cpu, checks, naive_cpu, distances)
    figures["peak_rss_mb"] = peak_rss_mb()
    report(figures, pairs, checks, distances)
    return figures


def summarise(
    pairs: list[Pair],
    service_cpu: float,
    checks: list[CheckResult],
    naive_cpu: float,
    distances: list[float | None],
) -> dict[str, Any]:
    """Turn the raw measurements into the tracked figures."""
    service_pair = service_cpu / len(pairs)
    naive_pair = naive_cpu / len(pairs)
    right = sum(service_right(p, c) for p, c in zip(pairs, checks, strict=True))
    naive = sum(naive_right(p, d) for p, d in zip(pairs, distances, strict=True))
    return {
        "face_pairs": len(pairs),
        "face_accuracy": round(right / len(pairs), 4),
        "naive_accuracy": round(naive / len(pairs), 4),
        "face_cpu_per_pair_s": round(service_pair, 4),
        "naive_cpu_per_pair_s": round(naive_pair, 4),
        "face_ratio": round(service_pair / naive_pair, 3),
    }


def report(
    figures: dict[str, Any],
    pairs: list[Pair],
    checks: list[CheckResult],
    distances: list[float | None],
) -> None:
    """Print the human-readable lines: accuracy, CPU, score extremes, RSS."""
    print(
        f"  service: accuracy {figures['face_accuracy']:.2%}, "
        f"{figures['face_cpu_per_pair_s']:.3f} CPU s/pair; naive: accuracy "
        f"{figures['naive_accuracy']:.2%}, {figures['naive_cpu_per_pair_s']:.3f} CPU s/pair",
        flush=True,
    )
    print(describe("service", score_extremes(pairs, [c.score for c in checks])), flush=True)
    naive_scores = [None if d is None else 1.0 - d for d in distances]
    print(describe("naive  ", score_extremes(pairs, naive_scores)), flush=True)
    for pair, outcome in zip(pairs, checks, strict=True):
        if not service_right(pair, outcome):
            print(f"  WRONG: {pair} -> {outcome}", flush=True)
    for key, goal in (("face_ratio", TARGET_RATIO), ("peak_rss_mb", TARGET_RSS_MB)):
        print(f"  {key} = {figures[key]:g} — {verdict(figures[key], goal)}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["rss"]:
        raise SystemExit("usage: python -m benchmarks.faces rss")
    print(json.dumps(rss_probe()), flush=True)
