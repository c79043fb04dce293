"""The image adapters with their real models: dlib face matching and RapidOCR.

Slower than the rest; each model loads once per module. The face photos come from the
shared test data folder (``KYC_TEST_DATA``); without it the face tests are skipped
locally and fail under CI.
"""

from __future__ import annotations

import io
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import stdnum.cn.ric
from PIL import Image, ImageDraw, ImageFont

from adapters.face_recognition_matcher import FaceRecognitionMatcher
from adapters.rapidocr_reader import RapidOcrDocumentReader
from kyc_service.domain.results import FaceComparison
from tests.conftest import TEST_DATA, missing

FACES = TEST_DATA / "faces"
LATIN_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OPENCV_DISTRIBUTIONS = (
    "opencv-python",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
)


def installed_version(distribution: str) -> str | None:
    """Return the installed version of ``distribution``, or None when it is absent."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def png(image: Image.Image) -> bytes:
    """Encode ``image`` as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def synthetic_id_number(body: str = "44030519880815321") -> str:
    """An 18-character resident ID number with a valid check digit (no real person's)."""
    # calc_check_digit ignores the last character it is given: pass a placeholder.
    number = body + stdnum.cn.ric.calc_check_digit(body + "0")
    assert stdnum.cn.ric.is_valid(number), number
    return number


# --- the installation ----------------------------------------------------------------------


def test_face_recognition_imports_in_a_fresh_interpreter() -> None:
    """face_recognition quits the interpreter when it cannot find its models.

    face_recognition_models finds them through ``pkg_resources``, which setuptools 82
    removed; this guards that the environment keeps them importable.
    """
    result = subprocess.run(
        [sys.executable, "-c", 'import face_recognition; print("ok")'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok", result.stdout + result.stderr


def test_setuptools_keeps_pkg_resources() -> None:
    installed = installed_version("setuptools")
    assert installed is not None, "setuptools is not installed (face_recognition_models needs it)"
    assert int(installed.split(".")[0]) < 82, installed


def test_exactly_one_opencv_distribution() -> None:
    """Two OpenCV wheels overwrite each other's ``cv2``; only the headless one may be there."""
    assert installed_version("opencv-python-headless") is not None
    present = [name for name in OPENCV_DISTRIBUTIONS if installed_version(name) is not None]
    assert present == [], f"another OpenCV distribution is installed: {present}"


# --- face matching -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blank() -> bytes:
    """A generated PNG with no face in it."""
    image = Image.new("RGB", (480, 480), (236, 240, 245))
    ImageDraw.Draw(image).rectangle((120, 160, 360, 320), fill=(40, 90, 160))
    return png(image)


def similarity(matcher: FaceRecognitionMatcher, reference: bytes, probe: bytes) -> float:
    """Compare two images that each show one face; return the similarity."""
    result = matcher.compare(reference, probe)
    assert isinstance(result, FaceComparison)
    assert result.problem is None, result
    assert result.similarity is not None and 0.0 <= result.similarity <= 1.0
    return result.similarity


def test_same_person_scores_higher_than_different_people(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes]
) -> None:
    obama = similarity(matcher, face["obama_1"], face["obama_2"])
    biden = similarity(matcher, face["biden_1"], face["biden_2"])
    different = similarity(matcher, face["obama_1"], face["biden_1"])
    assert obama > 0.4, obama
    assert biden > 0.4, biden
    assert obama > different, (obama, different)
    assert biden > different, (biden, different)


@pytest.mark.parametrize(
    ("same", "other"),
    [
        (("obama_1", "obama_3"), ("obama_1", "lacamoire_1")),
        (("harington_1", "harington_2"), ("harington_1", "leslie_1")),
        (("leslie_1", "leslie_2"), ("leslie_2", "biden_2")),
    ],
)
def test_more_pairs(
    matcher: FaceRecognitionMatcher,
    face: dict[str, bytes],
    same: tuple[str, str],
    other: tuple[str, str],
) -> None:
    alike = similarity(matcher, face[same[0]], face[same[1]])
    unlike = similarity(matcher, face[other[0]], face[other[1]])
    assert alike > 0.4, (same, alike)
    assert alike > unlike, (same, alike, other, unlike)


def test_comparison_is_about_symmetric(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes]
) -> None:
    forward = similarity(matcher, face["obama_1"], face["obama_2"])
    backward = similarity(matcher, face["obama_2"], face["obama_1"])
    assert forward == pytest.approx(backward, abs=0.05)


def test_two_faces_in_the_probe(matcher: FaceRecognitionMatcher, face: dict[str, bytes]) -> None:
    result = matcher.compare(face["obama_1"], face["two_people"])
    assert result == FaceComparison(None, "multiple_faces")


def test_two_faces_in_the_reference_compare_the_largest(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes]
) -> None:
    """A reference (an ID card photo) may show more than one face; the largest is used."""
    result = matcher.compare(face["two_people"], face["obama_2"])
    assert result.problem is None
    assert result.similarity is not None and 0.0 <= result.similarity <= 1.0


def test_count_faces(matcher: FaceRecognitionMatcher, face: dict[str, bytes], blank: bytes) -> None:
    assert matcher.count_faces(face["two_people"]) == 2
    assert matcher.count_faces(face["obama_1"]) == 1
    assert matcher.count_faces(blank) == 0


def test_no_face_in_the_probe(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes], blank: bytes
) -> None:
    assert matcher.compare(face["obama_1"], blank) == FaceComparison(None, "no_face_found")


def test_no_face_in_the_reference(
    matcher: FaceRecognitionMatcher, face: dict[str, bytes], blank: bytes
) -> None:
    assert matcher.compare(blank, face["obama_1"]) == FaceComparison(None, "no_face_found")


# --- OCR -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader() -> RapidOcrDocumentReader:
    """The OCR adapter, built as the service builds it."""
    return RapidOcrDocumentReader.from_settings({})


def latin_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font when one is installed, else Pillow's built-in one."""
    for path in LATIN_FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def text_image(lines: list[tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]]) -> bytes:
    """Draw each line of text in black on a white image; return it as PNG."""
    image = Image.new("RGB", (1000, 120 * len(lines) + 80), "white")
    draw = ImageDraw.Draw(image)
    for index, (text, font) in enumerate(lines):
        draw.text((50, 50 + 120 * index), text, fill="black", font=font)
    return png(image)


def read_text(reader: RapidOcrDocumentReader, image: bytes) -> str:
    """Run OCR and return everything read, without spaces."""
    lines = reader.read_lines(image)
    for line in lines:
        assert line.text
        assert 0.0 <= line.confidence <= 1.0
    return "".join(line.text for line in lines).replace(" ", "")


def test_ocr_reads_an_id_number(reader: RapidOcrDocumentReader) -> None:
    number = synthetic_id_number()
    image = text_image([(number, latin_font(48))])
    assert number in read_text(reader, image)


def test_ocr_reads_lines_top_to_bottom(reader: RapidOcrDocumentReader) -> None:
    first = synthetic_id_number("11010519900307123")
    second = synthetic_id_number("31010419751102456")
    image = text_image([(first, latin_font(48)), (second, latin_font(48))])
    texts = [line.text.replace(" ", "") for line in reader.read_lines(image)]
    assert texts == [first, second]


def test_ocr_of_a_blank_image_reads_nothing(reader: RapidOcrDocumentReader) -> None:
    assert reader.read_lines(png(Image.new("RGB", (400, 300), "white"))) == []


def test_ocr_reads_a_chinese_name(reader: RapidOcrDocumentReader) -> None:
    if not CJK_FONT.exists():
        missing("CJK font fonts-wqy-microhei is not installed")
    cjk = ImageFont.truetype(str(CJK_FONT), 64)
    number = synthetic_id_number()
    image = text_image([("姓名 张三丰", cjk), (number, cjk)])
    text = read_text(reader, image)
    assert "张三丰" in text
    assert number in text
