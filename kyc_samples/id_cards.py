"""Second-generation resident ID cards (居民身份证), front and back, drawn at 10 px/mm.

A card is 856×540 pixels per unit of ``scale`` (85.6 × 54 mm) in the CJK font: the front
with the labels and values of a made-up person and a face photo cropped as the portrait,
the back with the issuing authority and the validity period.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from kyc_samples.fonts import TEXT_COLOUR, font
from kyc_samples.people import FACE_BOXES, Person

CARD_SIZE = (856, 540)
LABEL_COLOUR = (35, 110, 170)
NUMBER_CENTRE = (0.55, 0.87)
"""Where the ID number sits on a front, as shares of the card's width and height."""


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
    emblem(draw, (150 * scale, 150 * scale), 95 * scale)
    title = font(round(44 * scale))
    draw.text((300 * scale, 125 * scale), "中华人民共和国", fill=TEXT_COLOUR, font=title)
    big = font(round(64 * scale))
    draw.text((300 * scale, 195 * scale), "居民身份证", fill=TEXT_COLOUR, font=big)
    _field(draw, (170, 420), "签发机关", holder.authority, scale)
    until = holder.valid_from.replace(year=holder.valid_from.year + 20)
    validity = f"{holder.valid_from:%Y.%m.%d}-{until:%Y.%m.%d}"
    _field(draw, (170, 480), "有效期限", validity, scale)
    return _rounded(image)


def emblem(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float) -> None:
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
