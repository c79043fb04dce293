"""Decoding uploaded image bytes into pixel arrays for the image adapters."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps


def upright_rgb(image: bytes | np.ndarray) -> Image.Image:
    """Decode JPEG/PNG/WebP bytes into an upright RGB image (EXIF orientation applied).

    An RGB pixel array (a rectified document, a crop of it) is taken as it is.
    """
    if isinstance(image, np.ndarray):
        return Image.fromarray(np.ascontiguousarray(image[:, :, :3]))
    with Image.open(io.BytesIO(image)) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def rgb_pixels(image: bytes | np.ndarray) -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes into an upright RGB array (EXIF orientation applied)."""
    return np.asarray(upright_rgb(image))


def reduced_copy(image: Image.Image, long_side: int) -> Image.Image:
    """Return ``image`` shrunk so its long side is at most ``long_side`` (as is when it is)."""
    width, height = image.size
    scale = long_side / max(width, height)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
