"""The face_match check end to end: the face adapter's fast path and the calibrated policy.

Every pair of single-face photos of the shared test data goes through
``face_match_check(matcher.compare(a, b))``: same person passes, different people fail
with ``face_mismatch``. Without the photos (``KYC_TEST_DATA``) these tests are skipped
locally and fail under CI. The policy's own tests need no model.
"""

from __future__ import annotations

import ast
import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from adapters import face_recognition_matcher
from adapters.face_recognition_matcher import FaceRecognitionMatcher
from kyc_service.domain import face_policy
from kyc_service.domain.face_policy import FAIL_SIMILARITY, PASS_SIMILARITY, face_match_check
from kyc_service.domain.results import FaceComparison
from kyc_service.domain.verification import SOFT_FAILURES, CheckStatus, Status, check, decide
from tests.conftest import TEST_DATA

FACES = TEST_DATA / "faces"
PEOPLE = {
    "obama": ("obama_1", "obama_2", "obama_3", "obama_partial_face"),
    "biden": ("biden_1", "biden_2"),
    "harington": ("harington_1", "harington_2"),
    "leslie": ("leslie_1", "leslie_2"),
    "lacamoire": ("lacamoire_1",),
}
"""The single-face photos of ``faces/`` by person (see the data folder's README)."""
PHOTOS = sorted(name for names in PEOPLE.values() for name in names)
OWNER = {name: who for who, names in PEOPLE.items() for name in names}
PAIRS = list(itertools.combinations(PHOTOS, 2))
SAME = [pair for pair in PAIRS if OWNER[pair[0]] == OWNER[pair[1]]]
DIFFERENT = [pair for pair in PAIRS if OWNER[pair[0]] != OWNER[pair[1]]]
ORIENTATION = 0x0112


def jpeg(image: Image.Image, exif: Image.Exif | None = None) -> bytes:
    """Encode ``image`` as JPEG bytes, with ``exif`` when given."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92, **({"exif": exif} if exif else {}))
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    """Decode image bytes into an RGB Pillow image."""
    return Image.open(io.BytesIO(data)).convert("RGB")


def pair_id(pair: tuple[str, str]) -> str:
    """A readable test id for a pair of photos."""
    return f"{pair[0]}~{pair[1]}"


@pytest.fixture(scope="module")
def blank() -> bytes:
    """A generated photo-like image with no face in it."""
    image = Image.new("RGB", (640, 480), (236, 240, 245))
    ImageDraw.Draw(image).rectangle((160, 140, 480, 340), fill=(40, 90, 160))
    return jpeg(image)


def checked(matcher: FaceRecognitionMatcher, reference: bytes, probe: bytes) -> dict:
    """Run the service's face_match check on an ID card portrait and a selfie."""
    return face_match_check(matcher.compare(reference, probe))


def passed(record: dict) -> None:
    """Assert that a face_match record passed with a score at or above the threshold."""
    assert record.status == "passed", record
    assert record.code is None
    assert record.score >= PASS_SIMILARITY


# --- every pair of the shared photos -------------------------------------------------------


def test_the_pairs_cover_every_single_face_photo(face: dict[str, bytes]) -> None:
    assert set(face) - {"two_people"} == set(PHOTOS)
    assert (len(SAME), len(DIFFERENT)) == (9, 46)


@pytest.mark.parametrize("pair", SAME, ids=pair_id)
def test_same_person_passes(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes], pair: tuple[str, str]
) -> None:
    passed(checked(matcher, face[pair[0]], face[pair[1]]))


@pytest.mark.parametrize("pair", DIFFERENT, ids=pair_id)
def test_different_people_fail_with_face_mismatch(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes], pair: tuple[str, str]
) -> None:
    record = checked(matcher, face[pair[0]], face[pair[1]])
    assert (record.status, record.code) == ("failed", "face_mismatch"), record
    assert record.score < FAIL_SIMILARITY


def test_the_partial_face_is_found_and_matches_its_person(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes]
) -> None:
    """Measured: the face cut off at the edge is still found, and it is clearly Obama's."""
    assert matcher.count_faces(face["obama_partial_face"]) == 1
    for other in ("obama_1", "obama_2", "obama_3"):
        passed(checked(matcher, face[other], face["obama_partial_face"]))
    record = checked(matcher, face["biden_1"], face["obama_partial_face"])
    assert record.code == "face_mismatch"


# --- faces that cannot be compared ---------------------------------------------------------


def test_two_faces_in_the_selfie_is_multiple_faces(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes]
) -> None:
    record = checked(matcher, face["obama_1"], face["two_people"])
    assert record == check("face_match", CheckStatus.FAILED, "multiple_faces")
    assert matcher.count_faces(face["two_people"]) == 2


@pytest.mark.parametrize("side", ["probe", "reference"])
def test_no_face_is_no_face_found(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes], blank: bytes, side: str
) -> None:
    images = (face["obama_1"], blank) if side == "probe" else (blank, face["obama_1"])
    record = checked(matcher, *images)
    assert (record.status, record.code, record.score) == ("failed", "no_face_found", None)
    assert matcher.count_faces(blank) == 0


# --- sizes and orientation -----------------------------------------------------------------


@pytest.mark.parametrize("reference", ["obama_1", "obama_2"])
def test_a_half_size_copy_still_matches(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes], reference: str
) -> None:
    original = opened(face["obama_2"])
    half = original.resize((original.width // 2, original.height // 2), Image.Resampling.LANCZOS)
    passed(checked(matcher, face[reference], jpeg(half)))


def test_a_small_face_in_a_large_photo_is_found(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes]
) -> None:
    """A face 7 % of the long side (an ID card's portrait in a photo) needs the retry pass."""
    portrait = opened(face["obama_1"])
    scale = 112 / 270  # obama_1's face box is about 270 px wide
    canvas = Image.new("RGB", (1600, 1200), (120, 130, 140))
    size = (round(portrait.width * scale), round(portrait.height * scale))
    canvas.paste(portrait.resize(size, Image.Resampling.LANCZOS), (600, 300))
    photo = jpeg(canvas)
    assert matcher.count_faces(photo) == 1
    passed(checked(matcher, photo, face["obama_2"]))


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
        (3, Image.Transpose.ROTATE_180),
    ],
)
def test_exif_orientation_is_honoured(
    matcher: FaceRecognitionMatcher,
    face: dict[str, bytes],
    orientation: int,
    stored_as: Image.Transpose,
) -> None:
    """A phone stores the pixels turned and says so in EXIF; the upright face must be found."""
    turned = opened(face["obama_2"]).transpose(stored_as)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    assert matcher.count_faces(jpeg(turned)) == 0  # without the tag the face lies sideways
    passed(checked(matcher, face["obama_1"], jpeg(turned, exif)))


# --- nothing kept --------------------------------------------------------------------------


def holds_arrays(value: object) -> bool:
    """Tell whether ``value`` is, or directly contains, a NumPy array."""
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, dict):
        return any(holds_arrays(item) for item in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(isinstance(item, np.ndarray) for item in value)
    return False


def test_encodings_are_not_kept(matcher: FaceRecognitionMatcher, face: dict[str, bytes]) -> None:
    """After a compare the matcher (and its module) holds settings only, no encodings."""
    before = dict(vars(matcher))
    passed(checked(matcher, face["obama_1"], face["obama_2"]))
    assert vars(matcher) == before
    assert all(isinstance(value, int | float | str) for value in vars(matcher).values())
    assert not [
        name for name, value in vars(face_recognition_matcher).items() if holds_arrays(value)
    ]


# --- the policy, without models ------------------------------------------------------------


def test_thresholds_leave_a_grey_zone() -> None:
    assert 0.0 < FAIL_SIMILARITY < PASS_SIMILARITY < 1.0
    assert "face_uncertain" in SOFT_FAILURES
    assert "face_mismatch" not in SOFT_FAILURES


@pytest.mark.parametrize(
    ("similarity", "status", "code"),
    [
        (0.93, "passed", None),
        (PASS_SIMILARITY, "passed", None),
        (PASS_SIMILARITY - 0.001, "failed", "face_uncertain"),
        (FAIL_SIMILARITY, "failed", "face_uncertain"),
        (FAIL_SIMILARITY - 0.001, "failed", "face_mismatch"),
        (0.0, "failed", "face_mismatch"),
    ],
)
def test_score_bands(similarity: float, status: str, code: str | None) -> None:
    record = face_match_check(FaceComparison(similarity))
    assert record.to_record() == {
        "name": "face_match",
        "status": status,
        "code": code,
        "score": round(similarity, 4),
    }


@pytest.mark.parametrize("problem", ["no_face_found", "multiple_faces"])
def test_problems_become_the_failure_code(problem: str) -> None:
    record = face_match_check(FaceComparison(None, problem))
    assert record.to_record() == {
        "name": "face_match",
        "status": "failed",
        "code": problem,
        "score": None,
    }


@pytest.mark.parametrize(
    ("similarity", "verification"),
    [(0.7, Status.VERIFIED), (0.42, Status.IN_REVIEW), (0.2, Status.REJECTED)],
)
def test_the_check_decides_the_verification(similarity: float, verification: Status) -> None:
    assert decide([face_match_check(FaceComparison(similarity))])[0] == verification


def test_the_policy_is_pure_domain_code() -> None:
    tree = ast.parse(Path(face_policy.__file__).read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert all(not name.startswith("adapters") for name in imported if name), imported
