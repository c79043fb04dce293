"""Synthetic second-generation resident ID cards, and photos of them, for tests and benchmarks.

A card is drawn at 856×540 pixels per unit of ``scale`` (85.6 × 54 mm at 10 px/mm) in the
CJK font: the front with the labels and values of a made-up person and a real face photo
pasted as the portrait, the back with the issuing authority and the validity period.
:func:`photo_of` then places a card on a textured background as a phone camera would see
it (rotated, scaled, slightly keystoned), and :func:`blurred` and :func:`glared` spoil it.

Organization documents are drawn the same way: a power of attorney (授权委托书) and a
business licence (营业执照), with a red official seal (:func:`red_seal`: ring, star, name
along the ring) or with stamps that are not one (black or blue ink, a red box, a red logo,
a grey photocopied seal); :func:`seal_samples` makes the seal detector's sets.

Nothing here imports ``tests.conftest`` at import time, so the benchmarks can use it; the
helpers that need the shared test data import it when called.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from stdnum.cn import ric

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CARD_SIZE = (856, 540)
FRAME_SIZE = (1280, 960)
BACKGROUNDS = ("wood", "fabric", "dark", "paper")
LABEL_COLOUR = (35, 110, 170)
TEXT_COLOUR = (20, 20, 20)
DISTRICTS = {
    "110101": ("北京市", "东城区"),
    "110105": ("北京市", "朝阳区"),
    "110108": ("北京市", "海淀区"),
    "310104": ("上海市", "徐汇区"),
}
STREETS = ("建国路", "和平街", "人民路", "长安街", "中山路", "解放路", "文化路", "新华街")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
FACE_BOXES = {
    "biden_1": (0.597, 0.182, 0.331),
    "biden_2": (0.568, 0.440, 0.385),
    "harington_1": (0.623, 0.291, 0.107),
    "harington_2": (0.597, 0.511, 0.295),
    "lacamoire_1": (0.501, 0.305, 0.367),
    "leslie_1": (0.586, 0.307, 0.209),
    "leslie_2": (0.528, 0.347, 0.463),
    "obama_1": (0.531, 0.242, 0.295),
    "obama_2": (0.486, 0.353, 0.427),
    "obama_3": (0.553, 0.188, 0.224),
}
"""Where the face is in each shared photo: centre x, centre y and width, as shares of the
photo's width and height (measured once with a face detector; used to crop the portrait)."""
PORTRAIT_FACES = tuple(FACE_BOXES)
FEMALE_FACES = ("leslie",)
"""The shared photos that show exactly one whole face, usable as card portraits."""


@dataclass(frozen=True)
class Person:
    """What a card says about its holder, and which shared face photo shows them."""

    name: str
    sex: str
    born: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    face: str = "obama_1"
    ethnicity: str = "汉"


# --- people ----------------------------------------------------------------------------------


def id_number(area: str, born: date, sequence: int, male: bool) -> str:
    """Return a valid 18-character resident ID number (the 17th digit is odd for men)."""
    body = f"{area}{born:%Y%m%d}{sequence % 100:02d}{_sex_digit(sequence, male)}"
    number = body + ric.calc_check_digit(body + "0")  # the last character is ignored
    assert ric.is_valid(number), number
    return number


def _sex_digit(sequence: int, male: bool) -> int:
    """Return a digit whose parity tells the sex: odd for men, even for women."""
    digit = sequence % 10
    return digit if (digit % 2 == 1) == male else (digit + 1) % 10


def person(seed: int, face: str | None = None, **changes: object) -> Person:
    """Return a made-up person, the same for the same ``seed``; ``changes`` override fields."""
    rng = random.Random(seed)
    area = rng.choice(sorted(DISTRICTS))
    city, district = DISTRICTS[area]
    face = face or PORTRAIT_FACES[seed % len(PORTRAIT_FACES)]
    male = not face.startswith(FEMALE_FACES)
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 365 * 49))
    street = f"{rng.choice(STREETS)}{rng.randint(1, 200)}号{rng.randint(1, 20)}栋"
    issued = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 365 * 9))
    fields = {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        "sex": "男" if male else "女",
        "born": born,
        "address": f"{city}{district}{street}{rng.randint(1, 30)}0{rng.randint(1, 4)}室",
        "id_number": id_number(area, born, rng.randrange(1000), male),
        "authority": f"{city}公安局{district}分局",
        "valid_from": issued,
        "face": face,
    }
    fields.update(changes)
    return Person(**fields)  # type: ignore[arg-type]


# --- faces -------------------------------------------------------------------------------------


def faces_folder() -> Path:
    """Return the shared face photos' folder, or skip (fail under CI) when it is absent."""
    from tests.conftest import TEST_DATA, missing

    folder = Path(TEST_DATA) / "faces"
    if not folder.is_dir():
        missing(f"face photos not found at {folder} (set KYC_TEST_DATA)")
    return folder


def require_font() -> None:
    """Skip (fail under CI) when the CJK font is not installed."""
    if not CJK_FONT.exists():
        from tests.conftest import missing

        missing(f"CJK font not found at {CJK_FONT} (Debian: fonts-wqy-microhei)")


@functools.lru_cache(maxsize=32)
def portrait(path: Path, size: tuple[int, int]) -> Image.Image:
    """Crop a head-and-shoulders portrait of ``size`` (26:32) around the face in ``path``."""
    with Image.open(path) as opened:
        photo = opened.convert("RGB")
    width, height = photo.size
    centre_x, centre_y, face_width = FACE_BOXES.get(path.stem, (0.5, 0.3, 0.35))
    box_width = min(2.1 * face_width * width, width, height * size[0] / size[1])
    box_height = box_width * size[1] / size[0]
    left = min(max(centre_x * width - box_width / 2, 0), width - box_width)
    top = min(max(centre_y * height - 0.45 * box_height, 0), height - box_height)
    crop = photo.crop((round(left), round(top), round(left + box_width), round(top + box_height)))
    return crop.resize(size, Image.Resampling.LANCZOS)


def portrait_around(
    photo: Image.Image, face: tuple[int, int, int, int], size: tuple[int, int] = (260, 320)
) -> Image.Image:
    """Crop a 26:32 head-and-shoulders portrait around a face box (left, top, right, bottom)."""
    left, top, right, bottom = face
    width, height = photo.size
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    box_width = min(2.1 * (right - left), width, height * size[0] / size[1])
    box_height = box_width * size[1] / size[0]
    x = min(max(centre_x - box_width / 2, 0), width - box_width)
    y = min(max(centre_y - 0.45 * box_height, 0), height - box_height)
    crop = photo.crop((round(x), round(y), round(x + box_width), round(y + box_height)))
    return crop.resize(size, Image.Resampling.LANCZOS)


def _placeholder(size: tuple[int, int]) -> Image.Image:
    """A grey silhouette for a card drawn without a face photo."""
    image = Image.new("RGB", size, (222, 226, 232))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.55), fill=(150, 155, 165))
    draw.ellipse((width * 0.1, height * 0.6, width * 0.9, height * 1.3), fill=(150, 155, 165))
    return image


# --- drawing -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Return the CJK font at ``size`` pixels."""
    return ImageFont.truetype(str(CJK_FONT), size)


def _blank_card(scale: float) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A pale, faintly patterned card background with rounded corners on white."""
    width, height = round(CARD_SIZE[0] * scale), round(CARD_SIZE[1] * scale)
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    waves = 4 * np.sin(2 * np.pi * (6 * x + 3 * y)) + 3 * np.sin(2 * np.pi * 14 * y)
    base = np.stack([226 + 8 * x + waves, 232 + 4 * y + waves, 238 - 6 * x + waves], axis=2)
    image = Image.fromarray(np.clip(base, 0, 245).astype(np.uint8))
    return image, ImageDraw.Draw(image)


def card_mask(size: tuple[int, int]) -> Image.Image:
    """Return the card's shape (a rounded rectangle, 3 mm corner radius) as an L mask."""
    mask = Image.new("L", size, 0)
    radius = round(31.8 * size[0] / CARD_SIZE[0])
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius, fill=255)
    return mask


def _field(
    draw: ImageDraw.ImageDraw, at: tuple[float, float], label: str, value: str, scale: float
) -> None:
    """Draw one blue label and its black value on the same baseline."""
    x, y = at[0] * scale, at[1] * scale
    draw.text((x, y), label, fill=LABEL_COLOUR, font=font(round(26 * scale)), anchor="ls")
    value_x = x + draw.textlength(label, font=font(round(26 * scale))) + 24 * scale
    draw.text((value_x, y), value, fill=TEXT_COLOUR, font=font(round(30 * scale)), anchor="ls")


def _address_lines(address: str, per_line: int = 11) -> list[str]:
    """Wrap the address as the card does, ``per_line`` characters a line."""
    return [address[start : start + per_line] for start in range(0, len(address), per_line)]


def card_front(
    holder: Person,
    faces: Path | None = None,
    scale: float = 1.0,
    photo: Image.Image | None = None,
) -> Image.Image:
    """Draw the portrait side of ``holder``'s card; the portrait comes from ``faces``.

    ``photo`` (a 26:32 head-and-shoulders crop, see :func:`portrait_around`) is printed
    instead when given. Without either a grey silhouette stands in for the portrait.
    """
    image, draw = _blank_card(scale)
    _field(draw, (50, 80), "姓名", holder.name, scale)
    _field(draw, (50, 145), "性别", holder.sex, scale)
    _field(draw, (230, 145), "民族", holder.ethnicity, scale)
    born = f"{holder.born.year} 年 {holder.born.month} 月 {holder.born.day} 日"
    _field(draw, (50, 210), "出生", born, scale)
    lines = _address_lines(holder.address)
    _field(draw, (50, 275), "住址", lines[0], scale)
    for index, line in enumerate(lines[1:], start=1):
        value_x = (50 + 2 * 26 + 24) * scale
        at = (value_x, (275 + 42 * index) * scale)
        draw.text(at, line, fill=TEXT_COLOUR, font=font(round(30 * scale)), anchor="ls")
    _field(draw, (50, 470), "公民身份号码", holder.id_number, scale)
    size = (round(260 * scale), round(320 * scale))
    if photo is not None:
        photo = photo.resize(size, Image.Resampling.LANCZOS)
    elif faces:
        photo = portrait(faces / f"{holder.face}.jpg", size)
    else:
        photo = _placeholder(size)
    image.paste(photo, (round(560 * scale), round(60 * scale)))
    return _rounded(image)


def card_back(holder: Person, scale: float = 1.0) -> Image.Image:
    """Draw the emblem side of ``holder``'s card: title, issuing authority, validity."""
    image, draw = _blank_card(scale)
    _emblem(draw, (150 * scale, 150 * scale), 95 * scale)
    title = font(round(44 * scale))
    draw.text((300 * scale, 125 * scale), "中华人民共和国", fill=TEXT_COLOUR, font=title)
    big = font(round(64 * scale))
    draw.text((300 * scale, 195 * scale), "居民身份证", fill=TEXT_COLOUR, font=big)
    _field(draw, (170, 420), "签发机关", holder.authority, scale)
    until = holder.valid_from.replace(year=holder.valid_from.year + 20)
    validity = f"{holder.valid_from:%Y.%m.%d}-{until:%Y.%m.%d}"
    _field(draw, (170, 480), "有效期限", validity, scale)
    return _rounded(image)


def _emblem(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float) -> None:
    """A red disc with a gold star and ring, standing in for the national emblem."""
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(200, 30, 35))
    draw.ellipse(
        (x - radius * 0.8, y - radius * 0.8, x + radius * 0.8, y + radius * 0.8),
        outline=(240, 200, 60),
        width=max(2, round(radius / 16)),
    )
    points = [
        (
            x + radius * (0.45 if k % 2 == 0 else 0.18) * math.sin(math.pi * k / 5),
            y - radius * (0.45 if k % 2 == 0 else 0.18) * math.cos(math.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(points, fill=(240, 200, 60))


def _rounded(card: Image.Image) -> Image.Image:
    """Give the card its rounded corners (white outside them)."""
    white = Image.new("RGB", card.size, (255, 255, 255))
    return Image.composite(card, white, card_mask(card.size))


# --- photos of cards ---------------------------------------------------------------------------


def surface(kind: str, size: tuple[int, int] = FRAME_SIZE, seed: int = 0) -> Image.Image:
    """Return a textured surface to lay a card on: wood, fabric, a dark desk or paper."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    if kind == "wood":
        grain = 18 * np.sin(2 * np.pi * (40 * y + 3 * np.sin(2 * np.pi * 2 * x)))
        base = np.stack([150 + grain, 100 + grain * 0.8, 60 + grain * 0.5], axis=2)
        noise = 8
    elif kind == "fabric":
        weave = 10 * np.sin(2 * np.pi * 160 * x) * np.sin(2 * np.pi * 120 * y)
        base = np.stack([70 + weave, 90 + weave, 120 + weave], axis=2)
        noise = 12
    elif kind == "dark":
        base = np.stack([45 + 20 * x, 45 + 20 * x, 50 + 20 * y], axis=2)
        noise = 6
    elif kind == "paper":
        base = np.stack([170 + 15 * y, 165 + 15 * x, 155 + 15 * y], axis=2)
        noise = 5
    else:
        raise ValueError(f"unknown background {kind!r}; known: {BACKGROUNDS}")
    pixels = base + rng.normal(0, noise, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def placement(
    card_size: tuple[int, int],
    frame: tuple[int, int] = FRAME_SIZE,
    angle: float = 0.0,
    scale: float = 0.7,
    tilt: float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Return where the card's corners land in the frame (TL, TR, BR, BL), as a 4×2 array.

    The card spans ``scale`` of the frame's width, is turned ``angle`` degrees
    anticlockwise, keystoned by ``tilt`` (its top edge shortened by that share, as when
    the phone leans back) and moved by ``shift`` (shares of the frame's size).
    """
    width = scale * frame[0]
    height = width * card_size[1] / card_size[0]
    inset = tilt * width / 2
    corners = np.array(
        [
            [-width / 2 + inset, -height / 2],
            [width / 2 - inset, -height / 2],
            [width / 2, height / 2],
            [-width / 2, height / 2],
        ]
    )
    theta = math.radians(angle)
    rotation = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
    centre = np.array([frame[0] * (0.5 + shift[0]), frame[1] * (0.5 + shift[1])])
    return corners @ rotation.T + centre


def photo_of(
    card: Image.Image,
    angle: float = 0.0,
    scale: float = 0.7,
    background: str | Image.Image = "wood",
    tilt: float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
    frame: tuple[int, int] = FRAME_SIZE,
    seed: int = 0,
) -> Image.Image:
    """Return a photo of ``card`` lying on ``background``, placed as :func:`placement` says.

    Raises ValueError when the card would not fit in the frame.
    """
    corners = placement(card.size, frame, angle, scale, tilt, shift)
    if corners.min() < 0 or (corners > np.array(frame)).any():
        raise ValueError("the card does not fit in the frame")
    ground = surface(background, frame, seed) if isinstance(background, str) else background
    source = np.array([[0, 0], [card.width, 0], [card.width, card.height], [0, card.height]])
    matrix = cv2.getPerspectiveTransform(source.astype(np.float32), corners.astype(np.float32))
    warped = cv2.warpPerspective(np.asarray(card), matrix, frame, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(
        np.asarray(card_mask(card.size)), matrix, frame, flags=cv2.INTER_AREA
    )
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    pixels = alpha * warped + (1 - alpha) * np.asarray(ground.resize(frame), dtype=np.float32)
    noise = np.random.default_rng(seed + 1).normal(0, 2.0, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


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


def to_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """Encode ``image`` as JPEG bytes."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# --- flat scans and the degradations people's uploads suffer ----------------------------------


def flat_scan(
    card: Image.Image, margin: float = 0.0, colour: tuple[int, int, int] = (255, 255, 255)
) -> tuple[Image.Image, np.ndarray]:
    """Return ``card`` as a scanner or an SDK's auto-crop gives it, and its true corners.

    ``margin`` is a plain border on every side, as a share of the card's width (0: the
    image is the card, edge to edge).
    """
    pad = round(margin * card.width)
    scan = Image.new("RGB", (card.width + 2 * pad, card.height + 2 * pad), colour)
    scan.paste(card, (pad, pad), card_mask(card.size) if pad else None)
    right, bottom = pad + card.width, pad + card.height
    corners = np.array([[pad, pad], [right, pad], [right, bottom], [pad, bottom]], float)
    return scan, corners


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


def low_quality_jpeg(image: Image.Image, quality: int = 10) -> Image.Image:
    """Return ``image`` after a round trip through a JPEG of ``quality``."""
    with Image.open(io.BytesIO(to_jpeg(image, quality))) as decoded:
        return decoded.convert("RGB")


NUMBER_CENTRE = (0.55, 0.87)
"""Where the ID number sits on a front, as shares of the card's width and height."""


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


def page_photo(
    sheet: Image.Image,
    angle: float = 0.0,
    scale: float = 0.7,
    background: str = "wood",
    frame: tuple[int, int] = FRAME_SIZE,
    seed: int = 0,
    tilt: float = 0.0,
) -> tuple[Image.Image, np.ndarray]:
    """Photograph a page lying on a surface; return the photo and the page's corners.

    ``scale`` is the page's share of the frame's height (pages are photographed upright);
    ``tilt`` keystones it as :func:`placement` says (0: seen from straight above).
    """
    corners = placement(sheet.size, frame, angle, scale * frame[1] / frame[0], tilt)
    if sheet.height > sheet.width:
        width = scale * frame[1] * sheet.width / sheet.height
        corners = placement(sheet.size, frame, angle, width / frame[0], tilt)
    if corners.min() < 0 or (corners > np.array(frame)).any():
        raise ValueError("the page does not fit in the frame")
    ground = np.asarray(surface(background, frame, seed), dtype=np.float32)
    source = np.array([[0, 0], [sheet.width, 0], [sheet.width, sheet.height], [0, sheet.height]])
    matrix = cv2.getPerspectiveTransform(source.astype(np.float32), corners.astype(np.float32))
    warped = cv2.warpPerspective(np.asarray(sheet), matrix, frame, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(
        np.full((sheet.height, sheet.width), 255, np.uint8), matrix, frame, flags=cv2.INTER_AREA
    )
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    pixels = alpha * warped + (1 - alpha) * ground
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), corners


# --- organization documents and seals (公章) ---------------------------------------------------

SEAL_RED = (214, 32, 44)
"""The red of a fresh official seal's ink (a slightly bluish red)."""
FADED_RED = (226, 104, 126)
"""A faded, pinkish seal ink."""
BLACK_INK = (32, 32, 38)
DARK_BLUE_INK = (34, 44, 118)
PHOTOCOPY_GREY = (104, 104, 104)
"""The grey a photocopier renders red seal ink as."""
COMPANY = "北京星河科技有限公司"
USCC = "91110105MA01ABCD2X"


def red_seal(
    diameter: int,
    angle: float = 0.0,
    opacity: float = 1.0,
    colour: tuple[int, int, int] = SEAL_RED,
    text: str = COMPANY,
    seed: int = 0,
    label: str = "",
) -> Image.Image:
    """Draw a round official seal as an RGBA stamp ``diameter`` pixels wide.

    A ring about 3.5 % of the diameter thick, a five-pointed star in the middle and
    ``text`` in the ink's characters along the ring's inner edge (the upper arc), with
    uneven ink; ``label`` (e.g. 合同专用章) under the star when given. Turned ``angle``
    degrees anticlockwise, its ink at ``opacity``.
    """
    size = max(24, int(diameter))
    ink = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(ink)
    ring = max(2, round(0.035 * size))
    draw.ellipse((1, 1, size - 2, size - 2), outline=255, width=ring)
    _star(draw, (size / 2, size / 2), 0.16 * size, 255)
    _arc_text(ink, text, ring)
    if label:
        small = font(max(6, round(0.08 * size)))
        draw.text((size / 2, 0.74 * size), label, fill=255, font=small, anchor="mm")
    alpha = _uneven(ink, seed).rotate(angle, resample=Image.Resampling.BICUBIC)
    alpha = alpha.point(lambda value: round(value * opacity))
    stamp = Image.new("RGBA", (size, size), (*colour, 0))
    stamp.putalpha(alpha)
    return stamp


def _star(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float, fill: int) -> None:
    """A filled five-pointed star of outer ``radius``, one point up."""
    x, y = centre
    points = [
        (
            x + radius * (1.0 if k % 2 == 0 else 0.382) * math.sin(math.pi * k / 5),
            y - radius * (1.0 if k % 2 == 0 else 0.382) * math.cos(math.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(points, fill=fill)


def _arc_text(ink: Image.Image, text: str, ring: int) -> None:
    """Write ``text`` along the inner edge of the ring, centred on the top, upright outward."""
    size = ink.width
    glyph_size = max(6, round(0.14 * size))
    glyph_font = font(glyph_size)
    radius = size / 2 - ring - 0.62 * glyph_size - 0.01 * size
    step = min(math.radians(240) / max(len(text), 1), 1.05 * glyph_size / radius)
    first = -step * (len(text) - 1) / 2
    for index, character in enumerate(text):
        theta = first + index * step
        tile = Image.new("L", (2 * glyph_size, 2 * glyph_size), 0)
        ImageDraw.Draw(tile).text(
            (glyph_size, glyph_size), character, fill=255, font=glyph_font, anchor="mm"
        )
        tile = tile.rotate(-math.degrees(theta), resample=Image.Resampling.BICUBIC)
        x = size / 2 + radius * math.sin(theta) - glyph_size
        y = size / 2 - radius * math.cos(theta) - glyph_size
        ink.paste(255, (round(x), round(y)), tile)


def _uneven(ink: Image.Image, seed: int) -> Image.Image:
    """Make the ink uneven: smoothly varying density, a few dry specks, a slight bleed."""
    rng = np.random.default_rng(seed)
    size = ink.width
    coarse = rng.uniform(0.7, 1.0, (6, 6)).astype(np.float32)
    density = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    specks = rng.random((size, size)) < 0.04
    alpha = np.asarray(ink, dtype=np.float32) * np.clip(density, 0.6, 1.0)
    alpha[specks] *= 0.35
    bled = cv2.GaussianBlur(alpha, (0, 0), max(0.5, size / 400))
    return Image.fromarray(np.clip(bled, 0, 255).astype(np.uint8))


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


def stamped(
    sheet: Image.Image, stamp: Image.Image, centre: tuple[float, float], opacity: float = 1.0
) -> Image.Image:
    """Press ``stamp`` (RGBA) onto a copy of ``sheet`` centred at ``centre`` (pixels).

    Ink multiplies what is under it, as real ink does (black print stays black);
    ``opacity`` scales the stamp's own alpha.
    """
    base = np.asarray(sheet.convert("RGB"), dtype=np.float32).copy()
    rgba = np.asarray(stamp.convert("RGBA"), dtype=np.float32)
    left = round(centre[0] - stamp.width / 2)
    top = round(centre[1] - stamp.height / 2)
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + stamp.width, sheet.width), min(top + stamp.height, sheet.height)
    if x0 >= x1 or y0 >= y1:
        return sheet.convert("RGB")
    piece = rgba[y0 - top : y1 - top, x0 - left : x1 - left]
    alpha = piece[:, :, 3:] / 255.0 * opacity
    tint = 1.0 - alpha + alpha * piece[:, :, :3] / 255.0
    base[y0:y1, x0:x1] *= tint
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def photocopy(sheet: Image.Image, seed: int = 0) -> Image.Image:
    """Return ``sheet`` as a greyscale photocopy: grey, a little contrast and toner noise."""
    grey = np.asarray(sheet.convert("L"), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0, 4.0, grey.shape)
    copied = np.clip((grey - 128) * 1.15 + 135 + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(copied).convert("RGB")


def _paragraph(
    draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, size: int, width: float
) -> float:
    """Write ``text`` wrapped to ``width`` pixels from ``at``; return the y under it."""
    x, y = at
    line = ""
    for character in text:
        if draw.textlength(line + character, font=font(size)) > width:
            draw.text((x, y), line, fill=TEXT_COLOUR, font=font(size))
            y, line = y + round(size * 1.7), ""
        line += character
    draw.text((x, y), line, fill=TEXT_COLOUR, font=font(size))
    return y + round(size * 1.7)


def _signature(
    draw: ImageDraw.ImageDraw, at: tuple[float, float], length: float, seed: int
) -> None:
    """A hand signature: a loose looping scribble in dark ink ``length`` pixels long."""
    rng = random.Random(seed)
    x, y = at
    loops, phase = rng.uniform(3, 6), rng.uniform(0, math.pi)
    points = []
    for step in range(60):
        t = step / 59
        wobble = 0.1 * length * math.sin(2 * math.pi * loops * t + phase)
        points.append(
            (x + length * t + 0.04 * length * math.cos(2 * math.pi * loops * t), y - wobble)
        )
    draw.line(points, fill=(25, 30, 60), width=max(2, round(length / 70)), joint="curve")


def _seal_on(
    sheet: Image.Image,
    at: tuple[float, float],
    px_per_mm: float,
    seal: Image.Image | None,
    opacity: float,
    seal_kwargs: dict[str, object],
) -> Image.Image:
    """Press ``seal`` (or a red seal, 40 mm unless ``diameter`` says) at shares ``at``."""
    if seal is None:
        diameter = seal_kwargs.pop("diameter", round(40 * px_per_mm))
        seal = red_seal(int(diameter), **seal_kwargs)  # type: ignore[arg-type]
    centre = (at[0] * sheet.width, at[1] * sheet.height)
    return stamped(sheet, seal, centre, opacity)


def power_of_attorney(
    company: str = COMPANY,
    agent_name: str = "李娜",
    sealed: bool = True,
    px_per_mm: float = 4.0,
    seed: int = 0,
    seal: Image.Image | None = None,
    at: tuple[float, float] = (0.64, 0.72),
    opacity: float = 1.0,
    **seal_kwargs: object,
) -> Image.Image:
    """Draw a power of attorney (授权委托书) on a portrait A4 page.

    The company authorizes ``agent_name``; signature lines are signed. When ``sealed`` a
    red seal (``seal_kwargs`` go to :func:`red_seal`, ``diameter`` in pixels, 40 mm by
    default) is pressed centred at ``at`` (shares of the page's width and height),
    over the company's signature line; ``seal`` (any RGBA stamp, e.g. a distractor) is
    pressed there instead when given, even when not ``sealed``.
    """
    rng = random.Random(seed)
    width, height = round(210 * px_per_mm), round(297 * px_per_mm)
    sheet = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(sheet)
    margin, size = round(25 * px_per_mm), max(10, round(4.2 * px_per_mm))
    title = font(round(size * 1.9))
    draw.text((width / 2, margin), "授权委托书", fill=TEXT_COLOUR, font=title, anchor="mt")
    agent_id = person(seed).id_number
    start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 300))
    body = [
        "致：企业实名认证服务机构",
        f"兹授权{agent_name}（身份证号码：{agent_id}）为我单位合法代理人，代表我单位"
        "办理企业实名认证及相关资料提交事宜。代理人在办理上述事项过程中所签署的"
        "文件及处理的相关事务，我单位均予以承认，并承担相应的法律责任。",
        f"委托期限：自{start:%Y年%m月%d日}起至{start.year + 1}年{start.month}月"
        f"{start.day}日止。代理人无转委托权。",
        "特此授权。",
    ]
    y = margin + 4 * size
    for text in body:
        y = _paragraph(draw, (margin, y), text, size, width - 2 * margin) + size
    y = max(y, round(0.66 * height))
    lines = [f"委托单位（盖章）：{company}", "法定代表人（签字）：", "受托人（签字）："]
    for index, line in enumerate(lines):
        line_y = y + index * 3 * size
        draw.text((width * 0.42, line_y), line, fill=TEXT_COLOUR, font=font(size))
        if index:
            _signature(draw, (width * 0.68, line_y + size), width * 0.16, seed + index)
    draw.text(
        (width * 0.42, y + 9 * size),
        f"日期：{start:%Y年%m月%d日}",
        fill=TEXT_COLOUR,
        font=font(size),
    )
    if sealed or seal is not None:
        sheet = _seal_on(sheet, at, px_per_mm, seal, opacity, {"seed": seed, **seal_kwargs})
    return sheet


def uscc_number(seed: int = 0) -> str:
    """Return a made-up unified social credit code (统一社会信用代码) of 18 characters."""
    rng = random.Random(seed)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "9111" + "".join(rng.choice(alphabet) for _ in range(14))


def business_licence(
    name: str = COMPANY,
    uscc: str = USCC,
    representative: str = "王伟",
    sealed: bool = True,
    landscape: bool = True,
    px_per_mm: float = 4.0,
    seed: int = 0,
    seal: Image.Image | None = None,
    at: tuple[float, float] | None = None,
    opacity: float = 1.0,
    **seal_kwargs: object,
) -> Image.Image:
    """Draw a business licence (营业执照) on an A4 page, landscape unless told.

    A decorative frame, the national emblem (a red disc) at the top, the title, the
    entity's name, USCC and legal representative among the usual fields, and the
    registration authority's red seal (``seal_kwargs`` as :func:`power_of_attorney`)
    over its name at the bottom right when ``sealed``.
    """
    rng = random.Random(seed)
    size_mm = (297, 210) if landscape else (210, 297)
    width, height = round(size_mm[0] * px_per_mm), round(size_mm[1] * px_per_mm)
    sheet = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(sheet)
    frame_colour = (150, 120, 70)
    for inset, line in ((8, 3), (11, 1)):
        edge = round(inset * px_per_mm)
        draw.rectangle(
            (edge, edge, width - edge, height - edge),
            outline=frame_colour,
            width=max(1, round(line * px_per_mm / 4)),
        )
    _emblem(draw, (width / 2, 0.12 * height), 0.05 * min(width, height))
    title = font(round(0.07 * min(width, height)))
    draw.text((width / 2, 0.2 * height), "营业执照", fill=TEXT_COLOUR, font=title, anchor="mt")
    size = max(10, round(4.2 * px_per_mm))
    left = round(0.16 * width)
    draw.text((left, 0.1 * height), f"统一社会信用代码 {uscc}", fill=TEXT_COLOUR, font=font(size))
    founded = date(2005, 1, 1) + timedelta(days=rng.randrange(0, 6000))
    fields = [
        ("名称", name),
        ("类型", "有限责任公司（自然人投资或控股）"),
        ("法定代表人", representative),
        ("经营范围", "技术开发、技术咨询、技术服务；软件开发；数据处理。"),
        ("注册资本", f"{rng.randint(1, 500) * 10}万元"),
        ("成立日期", f"{founded:%Y年%m月%d日}"),
        ("住所", "北京市朝阳区建国路88号"),
    ]
    y = 0.36 * height
    for label, value in fields:
        draw.text((left, y), f"{label}　{value}", fill=TEXT_COLOUR, font=font(size))
        y += 2.1 * size
    issued = founded + timedelta(days=rng.randrange(0, 3000))
    bottom = 0.8 * height
    draw.text((0.6 * width, bottom), "登记机关", fill=TEXT_COLOUR, font=font(round(1.3 * size)))
    draw.text(
        (0.6 * width, bottom + 2 * size),
        f"{issued:%Y年%m月%d日}",
        fill=TEXT_COLOUR,
        font=font(size),
    )
    if sealed or seal is not None:
        kwargs = {"seed": seed, **seal_kwargs}
        kwargs.setdefault("diameter", round(42 * px_per_mm))
        kwargs.setdefault("text", "北京市朝阳区市场监督管理局")
        spot = at or (0.66, 0.8)
        sheet = _seal_on(sheet, spot, px_per_mm, seal, opacity, kwargs)
    return sheet


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
