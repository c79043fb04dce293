"""Synthetic second-generation resident ID cards, and photos of them, for tests and benchmarks.

A card is drawn at 856×540 pixels per unit of ``scale`` (85.6 × 54 mm at 10 px/mm) in the
CJK font: the front with the labels and values of a made-up person and a real face photo
pasted as the portrait, the back with the issuing authority and the validity period.
:func:`photo_of` then places a card on a textured background as a phone camera would see
it (rotated, scaled, slightly keystoned), and :func:`blurred` and :func:`glared` spoil it.

Nothing here imports ``tests.conftest`` at import time, so the benchmarks can use it; the
helpers that need the shared test data import it when called.
"""

from __future__ import annotations

import functools
import io
import math
import random
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
) -> tuple[Image.Image, np.ndarray]:
    """Photograph a page lying on a surface; return the photo and the page's corners.

    ``scale`` is the page's share of the frame's height (pages are photographed upright).
    """
    corners = placement(sheet.size, frame, angle, scale * frame[1] / frame[0], 0.0)
    if sheet.height > sheet.width:
        width = scale * frame[1] * sheet.width / sheet.height
        corners = placement(sheet.size, frame, angle, width / frame[0], 0.0)
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
