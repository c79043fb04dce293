"""Re-measure the image checks' calibration: ``python -m benchmarks.calibrate_documents``.

Every set of :mod:`tests.image_sets` (real photos as selfies, drawn cards as scans
and as photos, each as it is and degraded) goes through the service's measuring and
verdict. Printed per set and variant: how many images, the range of each measure, how many
were refused and with which codes, and for cards how often the card was found and how far
its corners were from the true ones. The tables in ``kyc_service/domain/document_policy.py``
come from this output. ``--people N`` draws N card holders (default 4).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter, defaultdict
from typing import Any

from kyc_service.domain import document_policy as policy
from tests.image_sets import (
    Verdict,
    card_samples,
    degraded_cards,
    judge,
    selfie_samples,
)


def matcher() -> Any:
    """The face adapter, as the service builds it, with its models loaded."""
    from adapters.face_recognition_matcher import FaceRecognitionMatcher

    built = FaceRecognitionMatcher.from_settings({})
    built.warm_up()
    return built


def span(values: list[float]) -> str:
    """Min … median … max of a measure, or a dash."""
    if not values:
        return "—"
    return f"{min(values):.3f} … {statistics.median(values):.3f} … {max(values):.3f}"


def table(title: str, verdicts: list[Verdict], key: Any) -> None:
    """Print one row per group of verdicts: measures' ranges and refusals."""
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        groups[key(verdict)].append(verdict)
    print(f"\n{title}")
    header = (
        f"{'set':28} {'n':>4}  {'sharpness min … median … max':32} {'glare min … max':>17}  refused"
    )
    print(header)
    print("-" * len(header))
    for name, group in groups.items():
        sharp = [v.measures["sharpness"] for v in group if v.measures.get("sharpness") is not None]
        glare = [v.measures["glare"] for v in group if v.measures.get("glare") is not None]
        refused = Counter(v.problem for v in group if v.problem)
        codes = ", ".join(f"{code} {count}" for code, count in refused.most_common()) or "none"
        top = f"{min(glare):.4f} … {max(glare):.4f}" if glare else "—"
        print(f"{name:28} {len(group):>4}  {span(sharp):32} {top:>17}  {codes}")


def selfie_report(face: Any) -> list[Verdict]:
    """Judge the real photos as selfies; print the table and the small or refused faces."""
    verdicts = [judge(sample, face) for sample in selfie_samples(face)]
    table("Real photos as selfies (face box)", verdicts, lambda v: v.sample.variant)
    print("\noriginals refused, or faces under 120 px:")
    for verdict in verdicts:
        width = verdict.measures.get("face_width")
        if verdict.sample.variant == "original" and (verdict.problem or (width or 0) < 120):
            print(
                f"  {verdict.sample.name:24} face {width} px, sharpness "
                f"{verdict.measures.get('sharpness')}, glare {verdict.measures.get('glare')}"
                f" → {verdict.problem or 'accepted'}"
            )
    return verdicts


def card_report(face: Any, people: int) -> list[Verdict]:
    """Judge drawn cards as scans and photos, then their degraded copies; print tables."""
    originals = list(card_samples(people))
    verdicts = [judge(sample, face) for sample in originals]
    table(
        "Drawn ID cards as uploaded (text zone of the rectified card)",
        verdicts,
        lambda v: f"{v.sample.group} {v.sample.kind.removeprefix('id_card_')}",
    )
    errors = [v.corner_error for v in verdicts if v.corner_error is not None]
    found = sum(1 for v in verdicts if v.measures.get("card_found"))
    print(
        f"\ncards found {found}/{len(verdicts)}; corner error max {max(errors):.1f} px, "
        f"mean {statistics.mean(errors):.2f} px"
    )
    subset = originals[:: max(1, len(originals) // 48)]
    degraded = [judge(sample, face) for sample in degraded_cards(subset)]
    table("Drawn ID cards degraded", degraded, lambda v: f"{v.sample.variant}")
    return verdicts + degraded


def main(argv: list[str] | None = None) -> int:
    """Print the calibration tables and the thresholds in force."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--only", choices=("selfies", "cards"))
    arguments = parser.parse_args(argv)
    face = matcher()
    if arguments.only != "cards":
        selfie_report(face)
    if arguments.only != "selfies":
        card_report(face, arguments.people)
    print(
        f"\nthresholds: MIN_FACE_WIDTH {policy.MIN_FACE_WIDTH}, MIN_FACE_SHARPNESS "
        f"{policy.MIN_FACE_SHARPNESS}, MAX_FACE_GLARE {policy.MAX_FACE_GLARE}, "
        f"MIN_CARD_SHARPNESS {policy.MIN_CARD_SHARPNESS}, MAX_CARD_GLARE "
        f"{policy.MAX_CARD_GLARE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
