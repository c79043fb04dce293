"""Synthetic ID cards, organization pages and photos of them, for tests and benchmarks.

The drawing lives in the ``kyc_samples`` tool package (which ``kyc-service samples`` uses
too) and is re-exported here: people and identifiers, card fronts and backs
(:func:`card_front`, :func:`card_back`), phone photos and flat scans (:func:`photo_of`,
:func:`page_photo`, :func:`flat_scan`), red official seals (:func:`red_seal`) and the
organization documents (:func:`power_of_attorney`, :func:`business_licence`).

What only the tests need is drawn here: the degradations uploads suffer (:func:`blurred`,
:func:`glared`, :func:`gaussian`, :func:`motion_blurred`, :func:`specular`), stamps that
are not a red official seal (black or blue ink, a red box, a red logo, a grey photocopied
seal) and the seal detector's sets (:func:`seal_samples`).

Nothing here imports ``tests.conftest`` at import time, so the benchmarks can use it; the
helpers that need the shared test data import it when called.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from kyc_samples.fonts import TEXT_COLOUR, font, font_path
from kyc_samples.id_cards import (
    CARD_SIZE,
    LABEL_COLOUR,
    NUMBER_CENTRE,
    card_back,
    card_front,
    card_mask,
    portrait,
    portrait_around,
)
from kyc_samples.pages import USCC, business_licence, power_of_attorney
from kyc_samples.people import (
    DISTRICTS,
    FACE_BOXES,
    FEMALE_FACES,
    GIVEN,
    PORTRAIT_FACES,
    STREETS,
    SURNAMES,
    Person,
    id_number,
    person,
)
from kyc_samples.people import uscc as uscc_number
from kyc_samples.photos import (
    BACKGROUNDS,
    FRAME_SIZE,
    flat_scan,
    low_quality_jpeg,
    page_photo,
    photo_of,
    placement,
    surface,
    to_jpeg,
)
from kyc_samples.seals import COMPANY, FADED_RED, SEAL_RED, red_seal, stamped

__all__ = [
    "BACKGROUNDS",
    "CARD_SIZE",
    "CJK_FONT",
    "COMPANY",
    "DISTRICTS",
    "FACE_BOXES",
    "FADED_RED",
    "FEMALE_FACES",
    "FRAME_SIZE",
    "GIVEN",
    "LABEL_COLOUR",
    "NUMBER_CENTRE",
    "PORTRAIT_FACES",
    "SEAL_RED",
    "STREETS",
    "SURNAMES",
    "TEXT_COLOUR",
    "USCC",
    "Person",
    "business_licence",
    "card_back",
    "card_front",
    "card_mask",
    "flat_scan",
    "font",
    "id_number",
    "low_quality_jpeg",
    "page_photo",
    "person",
    "photo_of",
    "placement",
    "portrait",
    "portrait_around",
    "power_of_attorney",
    "red_seal",
    "stamped",
    "surface",
    "to_jpeg",
    "uscc_number",
]

CJK_FONT = font_path()
"""The CJK font the documents are drawn in (``KYC_SAMPLES_FONT`` or WenQuanYi Micro Hei)."""


# --- the shared test data ----------------------------------------------------------------------


def faces_folder() -> Path:
    """Return the shared face photos' folder, or skip (fail under CI) when it is absent."""
    from tests.conftest import TEST_DATA, missing

    folder = Path(TEST_DATA) / "faces"
    if not folder.is_dir():
        missing(f"face photos not found at {folder} (set KYC_TEST_DATA)")
    return folder


def require_font() -> None:
    """Skip (fail under CI) when the CJK font is not installed."""
    if not font_path().is_file():
        from tests.conftest import missing

        missing(f"CJK font not found at {font_path()} (Debian: fonts-wqy-microhei)")


# --- the degradations people's uploads suffer --------------------------------------------------


def blurred(image: Image.Image, radius: float) -> Image.Image:
    """Return ``image`` out of focus: a Gaussian blur of ``radius`` pixels."""
    return image.filter(ImageFilter.GaussianBlur(radius)) if radius > 0 else image.copy()


def glared(
    image: Image.Image, strength: float, centre: tuple[float, float] = (0.45, 0.45)
) -> Image.Image:
    """Return ``image`` with a reflection: a large blown-out white ellipse with a soft rim.

    ``strength`` in 0–1 sizes the ellipse: its semi-axes are ``strength`` × (35 %, 25 %)
    of the image's width and height, so a strength of 1 blows out about a quarter of the
    image. ``centre`` is where it sits, as shares of the width and height.
    """
    width, height = image.size
    mask = Image.new("L", image.size, 0)
    half_x, half_y = strength * 0.35 * width, strength * 0.25 * height
    x, y = centre[0] * width, centre[1] * height
    ImageDraw.Draw(mask).ellipse((x - half_x, y - half_y, x + half_x, y + half_y), fill=255)
    rim = mask.filter(ImageFilter.GaussianBlur(max(1.0, 0.15 * min(half_x, half_y))))
    alpha = np.maximum(np.asarray(mask), np.asarray(rim)).astype(np.float32)[:, :, None] / 255
    pixels = np.asarray(image, dtype=np.float32) * (1 - alpha) + 255.0 * alpha
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def gaussian(image: Image.Image, sigma: float) -> Image.Image:
    """Return ``image`` out of focus: a Gaussian blur of ``sigma`` pixels at its resolution."""
    pixels = cv2.GaussianBlur(np.asarray(image.convert("RGB")), (0, 0), sigma)
    return Image.fromarray(pixels)


def motion_blurred(image: Image.Image, length: int = 15, angle: float = 0.0) -> Image.Image:
    """Return ``image`` shaken: a straight motion blur of ``length`` pixels."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    kernel /= kernel.sum()
    return Image.fromarray(cv2.filter2D(np.asarray(image.convert("RGB")), -1, kernel))


def specular(image: Image.Image, centre: tuple[float, float], radius: float) -> Image.Image:
    """Return ``image`` with an over-exposed highlight: a blown-out disc with a soft rim.

    ``centre`` and ``radius`` are in pixels; the core (70 % of the radius) is pure white.
    """
    height, width = image.height, image.width
    y, x = np.mgrid[0:height, 0:width]
    distance = np.hypot(x - centre[0], y - centre[1]) / max(radius, 1.0)
    alpha = np.clip((1.0 - distance) / 0.3, 0.0, 1.0)[:, :, None]
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32) * (1 - alpha) + 255.0 * alpha
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


# --- pages and stamps that are not a red official seal ----------------------------------------


def page(
    size_mm: tuple[float, float] = (210.0, 297.0), px_per_mm: float = 4.0, seed: int = 0
) -> Image.Image:
    """Draw a plain printed page (A4 portrait by default): a title and lines of text."""
    rng = random.Random(seed)
    width, height = round(size_mm[0] * px_per_mm), round(size_mm[1] * px_per_mm)
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    margin, size = round(0.1 * width), max(12, round(0.025 * width))
    title = font(round(size * 1.6))
    draw.text((width / 2, margin), "授权委托书", fill=TEXT_COLOUR, font=title, anchor="mt")
    y = margin + 3 * size
    while y < height - margin:
        words = "".join(rng.choice(GIVEN + SURNAMES) for _ in range(rng.randint(8, 24)))
        draw.text((margin, y), words, fill=TEXT_COLOUR, font=font(size))
        y += round(size * 1.8)
    return image


BLACK_INK = (32, 32, 38)
DARK_BLUE_INK = (34, 44, 118)
PHOTOCOPY_GREY = (104, 104, 104)
"""The grey a photocopier renders red seal ink as."""


def black_stamp(diameter: int, dark_blue: bool = False, **seal: object) -> Image.Image:
    """The same round seal in black (or dark blue) ink: not a red official seal."""
    colour = DARK_BLUE_INK if dark_blue else BLACK_INK
    return red_seal(diameter, colour=colour, **seal)  # type: ignore[arg-type]


def grey_seal(diameter: int, **seal: object) -> Image.Image:
    """The round seal as a greyscale photocopy renders it: grey, no red left."""
    return red_seal(diameter, colour=PHOTOCOPY_GREY, **seal)  # type: ignore[arg-type]


def red_rectangle(
    width: int,
    height: int | None = None,
    filled: bool = False,
    text: str = "已审核",
    angle: float = 0.0,
    colour: tuple[int, int, int] = SEAL_RED,
) -> Image.Image:
    """A red rectangular stamp (an "APPROVED" box): outlined with red text, or filled."""
    height = height or round(width * 0.4)
    ink = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(ink)
    border = max(2, round(0.05 * height))
    if filled:
        draw.rectangle((0, 0, width - 1, height - 1), fill=255)
    else:
        draw.rectangle((1, 1, width - 2, height - 2), outline=255, width=border)
    glyphs = font(max(8, min(round(0.5 * height), round(0.8 * width / max(len(text), 1)))))
    draw.text((width / 2, height / 2), text, fill=0 if filled else 255, font=glyphs, anchor="mm")
    return _inked(ink, colour, angle)


def red_logo(
    size: int,
    shape: str = "square",
    text: str = "星河科技",
    angle: float = 0.0,
    colour: tuple[int, int, int] = SEAL_RED,
) -> Image.Image:
    """A red company logo: a filled red square or triangle with a white letter, red text beside."""
    glyphs = font(max(8, round(0.45 * size)))
    text_width = round(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(text, font=glyphs))
    ink = Image.new("L", (size + text_width + round(0.3 * size), size), 0)
    draw = ImageDraw.Draw(ink)
    if shape == "square":
        draw.rectangle((0, 0, size - 1, size - 1), fill=255)
    elif shape == "triangle":
        draw.polygon([(size / 2, 0), (size - 1, size - 1), (0, size - 1)], fill=255)
    else:
        raise ValueError(f"unknown logo shape {shape!r}")
    letter = font(max(8, round(0.4 * size)))
    draw.text((size / 2, 0.62 * size), "X", fill=0, font=letter, anchor="mm")
    draw.text((size + 0.2 * size, size / 2), text, fill=255, font=glyphs, anchor="lm")
    return _inked(ink, colour, angle)


def _inked(ink: Image.Image, colour: tuple[int, int, int], angle: float) -> Image.Image:
    """Return the mask ``ink`` as an RGBA stamp of ``colour``, turned ``angle`` degrees."""
    stamp = Image.new("RGBA", ink.size, (*colour, 0))
    stamp.putalpha(ink)
    return stamp.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def photocopy(sheet: Image.Image, seed: int = 0) -> Image.Image:
    """Return ``sheet`` as a greyscale photocopy: grey, a little contrast and toner noise."""
    grey = np.asarray(sheet.convert("L"), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0, 4.0, grey.shape)
    copied = np.clip((grey - 128) * 1.15 + 135 + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(copied).convert("RGB")


# --- seal detection sets -----------------------------------------------------------------------

SEAL_DIAMETERS_MM = (28.0, 34.0, 40.0, 45.0)
"""Round seals' sizes: small special seals to large official seals (公章 are 38–45 mm)."""
PAGE_RESOLUTIONS = (3.0, 4.0, 5.0)
"""Pixels per millimetre of the drawn pages: 630–1050 px wide A4."""
DISTRACTORS = (
    "unsealed",
    "black_stamp",
    "blue_stamp",
    "red_box",
    "red_box_filled",
    "logo_square",
    "logo_triangle",
    "grey_seal",
    "photocopy",
    "licence_unsealed",
)
"""Pages without a red official seal, each kind in turn."""


@dataclass(frozen=True)
class SealSample:
    """A page for the seal detector: the image, whether a red seal is on it, and where.

    ``box`` is the seal's true box (left, top, right, bottom) in the image's pixels.
    """

    name: str
    image: Image.Image
    sealed: bool
    box: tuple[int, int, int, int] | None = None


def seal_samples(
    count: int,
    sealed: bool,
    start: int = 0,
    resolutions: tuple[float, ...] = PAGE_RESOLUTIONS,
) -> list[SealSample]:
    """Return ``count`` pages with (``sealed``) or without a red seal, the same every time.

    Half are flat scans (JPEG), half phone photos on a desk (turned, keystoned, JPEG),
    alternating so that every kind of page comes both ways. Sealed pages vary the seal's
    size, turn (0–360°), ink opacity (0.6–1.0), colour (fresh or faded red) and position;
    every eighth is a business licence. Unsealed pages cycle through :data:`DISTRACTORS`.
    """
    return [_seal_sample(index, sealed, resolutions) for index in range(start, start + count)]


def _seal_sample(index: int, sealed: bool, resolutions: tuple[float, ...]) -> SealSample:
    """One page of :func:`seal_samples`, drawn and then scanned or photographed."""
    rng = random.Random(index * 7919 + (1 if sealed else 2))
    px_per_mm = rng.choice(resolutions)
    if sealed:
        kind = "licence" if index % 8 == 7 else "sealed"
        sheet, circle = _sealed_page(kind, index, px_per_mm, rng)
    else:
        kind = DISTRACTORS[index % len(DISTRACTORS)]
        sheet, circle = _distractor_page(kind, index, px_per_mm, rng), None
    period = 8 if sealed else len(DISTRACTORS)
    if (index + index // period) % 2 == 0:
        image = low_quality_jpeg(sheet, rng.randint(75, 95))
        box = _circle_box(circle, None)
        return SealSample(f"{kind}_{index}_scan", image, sealed, box)
    image, matrix = _desk_photo(sheet, rng, index)
    return SealSample(f"{kind}_{index}_photo", image, sealed, _circle_box(circle, matrix))


def _seal_options(
    rng: random.Random, px_per_mm: float, width_mm: float
) -> tuple[dict[str, object], tuple[float, float]]:
    """A random seal (size, turn, colour, label) and where its centre goes (shares)."""
    diameter_mm = rng.choice(SEAL_DIAMETERS_MM)
    options: dict[str, object] = {
        "diameter": round(diameter_mm * px_per_mm),
        "angle": rng.uniform(0.0, 360.0),
        "colour": FADED_RED if rng.random() < 0.35 else SEAL_RED,
        "label": rng.choice(("", "", "合同专用章")),
    }
    half = 0.5 * diameter_mm / width_mm + 0.03
    at = (rng.uniform(max(0.25, half), min(0.75, 1 - half)), rng.uniform(0.6, 0.82))
    return options, at


def _sealed_page(
    kind: str, index: int, px_per_mm: float, rng: random.Random
) -> tuple[Image.Image, tuple[float, float, float]]:
    """A sealed power of attorney or licence, and its seal's circle (x, y, radius)."""
    landscape = kind == "licence" and rng.random() < 0.5
    options, at = _seal_options(rng, px_per_mm, 297.0 if landscape else 210.0)
    opacity = rng.uniform(0.6, 1.0)
    if kind == "licence":
        at = (at[0], rng.uniform(0.72, 0.8) if landscape else at[1])
        sheet = business_licence(
            landscape=landscape, px_per_mm=px_per_mm, seed=index, at=at, opacity=opacity, **options
        )
    else:
        company = f"{rng.choice(('北京', '上海', '深圳'))}{COMPANY[2:]}"
        sheet = power_of_attorney(
            company, px_per_mm=px_per_mm, seed=index, at=at, opacity=opacity, **options
        )
    radius = int(options["diameter"]) / 2  # type: ignore[call-overload]
    return sheet, (at[0] * sheet.width, at[1] * sheet.height, radius)


def _distractor_page(kind: str, index: int, px_per_mm: float, rng: random.Random) -> Image.Image:
    """A page of ``kind`` (one of :data:`DISTRACTORS`): no red official seal on it."""
    options, at = _seal_options(rng, px_per_mm, 210.0)
    diameter = int(options.pop("diameter"))  # type: ignore[call-overload]
    turn = rng.uniform(-25.0, 25.0)
    stamps: dict[str, Callable[[], Image.Image | None]] = {
        "unsealed": lambda: None,
        "black_stamp": lambda: black_stamp(diameter, angle=options["angle"], seed=index),
        "blue_stamp": lambda: black_stamp(diameter, dark_blue=True, seed=index),
        "red_box": lambda: red_rectangle(diameter, angle=turn),
        "red_box_filled": lambda: red_rectangle(diameter, filled=True, text="APPROVED", angle=turn),
        "logo_square": lambda: red_logo(diameter // 2, "square", angle=turn),
        "logo_triangle": lambda: red_logo(diameter // 2, "triangle", angle=turn),
        "grey_seal": lambda: grey_seal(diameter, angle=options["angle"], seed=index),
        "photocopy": lambda: None,
        "licence_unsealed": lambda: None,
    }
    if kind == "licence_unsealed":
        return business_licence(sealed=False, px_per_mm=px_per_mm, seed=index)
    opacity = rng.uniform(0.6, 1.0)
    stamp = stamps[kind]()
    sheet = power_of_attorney(
        sealed=kind == "photocopy",
        px_per_mm=px_per_mm,
        seed=index,
        seal=stamp,
        at=at,
        opacity=opacity,
        diameter=diameter,
        **options,
    )
    return photocopy(sheet, seed=index) if kind == "photocopy" else sheet


def _desk_photo(
    sheet: Image.Image, rng: random.Random, seed: int
) -> tuple[Image.Image, np.ndarray]:
    """Photograph ``sheet`` on a desk (turned, keystoned, JPEG); the photo and the mapping."""
    background = rng.choice(BACKGROUNDS)
    angle, tilt = rng.uniform(-12.0, 12.0), rng.uniform(0.0, 0.15)
    scale = rng.uniform(0.55, 0.85)
    while True:
        # Shrink first as a camera integrates light, then lay the page at about 1:1.
        long_side = round(scale * FRAME_SIZE[1])  # as page_photo lays the page
        if sheet.width > sheet.height:
            size = (long_side, round(long_side * sheet.height / sheet.width))
        else:
            size = (round(long_side * sheet.width / sheet.height), long_side)
        small = sheet.resize(size, Image.Resampling.LANCZOS)
        try:
            photo, corners = page_photo(small, angle, scale, background, seed=seed, tilt=tilt)
            break
        except ValueError:
            scale *= 0.9
    source = np.array([[0, 0], [sheet.width, 0], [sheet.width, sheet.height], [0, sheet.height]])
    matrix = cv2.getPerspectiveTransform(source.astype(np.float32), corners.astype(np.float32))
    return low_quality_jpeg(photo, rng.randint(70, 92)), matrix


def _circle_box(
    circle: tuple[float, float, float] | None, matrix: np.ndarray | None
) -> tuple[int, int, int, int] | None:
    """The box of ``circle`` (x, y, radius) on the page, mapped by ``matrix`` when given."""
    if circle is None:
        return None
    x, y, radius = circle
    turns = np.linspace(0.0, 2 * math.pi, 72, endpoint=False)
    points = np.stack([x + radius * np.cos(turns), y + radius * np.sin(turns)], axis=1)
    if matrix is not None:
        points = cv2.perspectiveTransform(points[None].astype(np.float64), matrix)[0]
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    return round(left), round(top), round(right), round(bottom)
