"""The id_card_ocr check on generated ID cards, read by the service's OCR adapter.

Slower than the rest (about two seconds a read on two cores); the OCR engine loads once
per module. Needs the CJK font and the shared face photos (skipped locally without them,
failing under CI).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from kyc_service.bootstrap import Adapters
from kyc_service.domain.access import Mode
from kyc_service.domain.id_card_text import id_card_ocr_check, parse_front
from kyc_service.ports import DocumentReader
from tests.cards import (
    card_back,
    card_front,
    faces_folder,
    person,
    photo_of,
    require_font,
    to_jpeg,
)


@pytest.fixture(scope="module")
def reader() -> DocumentReader:
    """The OCR adapter the service is configured with by default, models loaded once."""
    built = Adapters({}).get("ocr", Mode.LIVE)
    built.read_lines(to_jpeg(Image.new("RGB", (320, 240), "white")))
    return built


@pytest.fixture(scope="module")
def faces() -> Path:
    """The shared face photos, for the portraits (and the CJK font for the text)."""
    require_font()
    return faces_folder()


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_a_straight_card_front_reads_back(reader: DocumentReader, faces: Path, seed: int) -> None:
    holder = person(seed)
    lines = reader.read_lines(to_jpeg(card_front(holder, faces)))
    for line in lines:
        assert line.text and 0.0 <= line.confidence <= 1.0
    assert parse_front(lines) == (holder.name, holder.id_number)
    assert id_card_ocr_check(lines, holder.name, holder.id_number).status == "passed"


@pytest.mark.parametrize(
    ("seed", "angle", "scale", "background"),
    [(3, 5.0, 0.75, "wood"), (4, -4.0, 0.65, "dark")],
)
def test_a_photo_of_a_card_front_reads_back(
    reader: DocumentReader, faces: Path, seed: int, angle: float, scale: float, background: str
) -> None:
    holder = person(seed)
    photo = photo_of(card_front(holder, faces), angle, scale, background, seed=seed)
    lines = reader.read_lines(to_jpeg(photo))
    assert parse_front(lines) == (holder.name, holder.id_number)
    record = id_card_ocr_check(lines, holder.name, holder.id_number)
    assert (record.status, record.code) == ("passed", None)


def test_a_card_with_another_persons_number_is_a_mismatch(
    reader: DocumentReader, faces: Path
) -> None:
    holder = person(5)
    forged = replace(holder, id_number=person(6).id_number)
    assert forged.id_number != holder.id_number
    lines = reader.read_lines(to_jpeg(photo_of(card_front(forged, faces), 3.0, 0.7)))
    record = id_card_ocr_check(lines, holder.name, holder.id_number)
    assert (record.status, record.code) == ("failed", "ocr_mismatch")


def test_a_blank_image_is_unreadable(reader: DocumentReader) -> None:
    lines = reader.read_lines(to_jpeg(Image.new("RGB", (856, 540), (236, 238, 240))))
    holder = person(1)
    record = id_card_ocr_check(lines, holder.name, holder.id_number)
    assert (record.status, record.code) == ("failed", "ocr_unreadable")


def test_the_back_of_the_card_is_unreadable_as_a_front(reader: DocumentReader, faces: Path) -> None:
    holder = person(2)
    lines = reader.read_lines(to_jpeg(card_back(holder)))
    assert any("居民身份证" in line.text for line in lines)
    record = id_card_ocr_check(lines, holder.name, holder.id_number)
    assert (record.status, record.code) == ("failed", "ocr_unreadable")
