"""Decoding uploaded image bytes into pixel arrays for the image adapters."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps


def rgb_pixels(image: bytes) -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes into an upright RGB array (EXIF orientation applied)."""
    with Image.open(io.BytesIO(image)) as opened:
        upright = ImageOps.exif_transpose(opened)
        return np.asarray(upright.convert("RGB"))
