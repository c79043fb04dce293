"""The face_match check: from a face comparison's similarity to the check's outcome.

The similarity is ``1 − distance`` between the two faces' 128-d encodings, in 0–1; the
encoder's own "same person" tolerance, distance 0.6, is similarity 0.40.

Calibration, on every pair of single-face photos of the shared test data
(``../shared/data/faces``: 11 photos of 5 people, 9 same-person and 46 different-person
pairs, the cut-off ``obama_partial_face`` included), through the service's own fast path
(the face adapter; rerun with ``BENCH_ONLY=faces python -m benchmarks``):

- lowest same-person similarity: 0.562 (obama_2 / obama_3);
- highest different-person similarity: 0.221 (harington_2 / leslie_2);
- a naive full-resolution baseline measures 0.572 and 0.256.

How the thresholds were chosen: both sit inside the measured gap (0.221 … 0.562), with a
margin on each side, and they bracket the encoder's 0.40, so that what the encoder itself
calls a borderline match goes to a person instead of being decided here:

- :data:`PASS_SIMILARITY` 0.50 (distance ≤ 0.50): 0.062 under the lowest same-person score,
  and stricter than the 0.6 tolerance, because a false accept is the costly error in KYC;
- :data:`FAIL_SIMILARITY` 0.35 (distance ≥ 0.65): 0.13 over the highest different-person
  score; below it the faces are of different people (``face_mismatch``, rejected);
- in between: ``face_uncertain``, a soft failure that sends the verification to review.

The partial face (cut off at the image edge) is still found and matches the other photos
of its person at 0.62–0.75, so it passes; a face too cut off to be found is
``no_face_found``.
"""

from __future__ import annotations

from kyc_service.domain.checks import CheckResult, CheckStatus, check
from kyc_service.domain.results import FaceComparison

CHECK_NAME = "face_match"
PASS_SIMILARITY = 0.50
"""At or above: the same person (check passed)."""
FAIL_SIMILARITY = 0.35
"""Below: different people (``face_mismatch``). In between: ``face_uncertain`` (review)."""
MISMATCH = "face_mismatch"
UNCERTAIN = "face_uncertain"
NO_FACE = "no_face_found"


def face_match_check(comparison: FaceComparison) -> CheckResult:
    """Return the face_match check's record for a comparison of ID card portrait and selfie."""
    if comparison.problem is not None or comparison.similarity is None:
        return check(CHECK_NAME, CheckStatus.FAILED, comparison.problem or NO_FACE)
    score = round(comparison.similarity, 4)
    if comparison.similarity >= PASS_SIMILARITY:
        return check(CHECK_NAME, CheckStatus.PASSED, score=score)
    code = MISMATCH if comparison.similarity < FAIL_SIMILARITY else UNCERTAIN
    return check(CHECK_NAME, CheckStatus.FAILED, code, score)
