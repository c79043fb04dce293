"""Documents as people upload them: photographed on a desk by a phone, or flat-scanned.

:func:`photo_of` places a card on a textured background as a phone camera sees it
(rotated, scaled, slightly keystoned); :func:`page_photo` does the same for a page;
:func:`flat_scan` gives a card as a scanner or an SDK's auto-crop does.
"""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image

from kyc_samples.id_cards import card_mask

FRAME_SIZE = (1280, 960)
BACKGROUNDS = ("wood", "fabric", "dark", "paper")


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


def to_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """Encode ``image`` as JPEG bytes."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


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


def low_quality_jpeg(image: Image.Image, quality: int = 10) -> Image.Image:
    """Return ``image`` after a round trip through a JPEG of ``quality``."""
    with Image.open(io.BytesIO(to_jpeg(image, quality))) as decoded:
        return decoded.convert("RGB")


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
