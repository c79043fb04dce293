"""Round red official seals (公章) and pressing a stamp onto a page as ink does."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from kyc_samples.fonts import font

SEAL_RED = (214, 32, 44)
"""The red of a fresh official seal's ink (a slightly bluish red)."""
FADED_RED = (226, 104, 126)
"""A faded, pinkish seal ink."""
COMPANY = "北京星河科技有限公司"


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
