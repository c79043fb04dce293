"""The CJK font every document is drawn in, and the one clear error when it is missing."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from PIL import ImageFont

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_PACKAGE = "fonts-wqy-microhei"
FONT_SETTING = "KYC_SAMPLES_FONT"
"""An environment variable naming another CJK TrueType font (or collection) to draw with."""
TEXT_COLOUR = (20, 20, 20)


class FontMissing(RuntimeError):
    """The CJK font is not installed: nothing can be drawn."""


def font_path() -> Path:
    """Return the CJK font's path: ``$KYC_SAMPLES_FONT``, else WenQuanYi Micro Hei."""
    return Path(os.environ.get(FONT_SETTING) or DEFAULT_FONT)


def require_font() -> Path:
    """Return the CJK font's path, or raise :class:`FontMissing` saying what to install."""
    path = font_path()
    if not path.is_file():
        raise FontMissing(
            f"the CJK font {path} is not installed: install the Debian package {FONT_PACKAGE} "
            f"(apt-get install {FONT_PACKAGE}) or point {FONT_SETTING} at a CJK font"
        )
    return path


def font(size: int) -> ImageFont.FreeTypeFont:
    """Return the CJK font at ``size`` pixels."""
    return _loaded(str(font_path()), size)


@functools.lru_cache(maxsize=64)
def _loaded(path: str, size: int) -> ImageFont.FreeTypeFont:
    """Load ``path`` at ``size`` pixels, once."""
    return ImageFont.truetype(path, size)
