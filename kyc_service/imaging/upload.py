"""Upload hardening for document images: sniff, bound, decode, orient, strip and re-encode.

An upload is trusted for nothing: its type comes from its magic bytes, its pixel count is
checked from the header before anything is decoded, and what is stored is a brand-new JPEG
built from the decoded pixels, so no metadata (EXIF, GPS, ICC, XMP, comments) and no bytes
hidden after the image survive.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFile, ImageOps

from kyc_service.domain.errors import (
    InvalidRequest,
    KycError,
    PayloadTooLarge,
    UnsupportedMediaType,
)

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
JPEG_QUALITY = 90
FIELD = "file"


@dataclass(frozen=True)
class UploadLimits:
    """How large an upload may be, in bytes and pixels, and how small its sides."""

    max_bytes: int
    max_pixels: int
    min_width: int = 320
    min_height: int = 240


@dataclass(frozen=True)
class PreparedImage:
    """A decoded, upright, metadata-free JPEG, its size, and its RGB pixels."""

    data: bytes
    media_type: str
    width: int
    height: int
    pixels: np.ndarray = field(repr=False, compare=False)


def sniff_media_type(data: bytes) -> str | None:
    """Name the image type from the leading magic bytes alone; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def prepare_upload(data: bytes, limits: UploadLimits) -> PreparedImage:
    """Check, decode and re-encode an uploaded image, or raise the service's error for it.

    Raises 422 ``image_unreadable`` (empty, corrupt or truncated), 413 ``file_too_large``
    (bytes), 415 ``unsupported_file_type`` (not JPEG, PNG or WebP by its bytes), 413
    ``image_too_large`` (pixels, from the header, before decoding) and 422
    ``image_too_small`` (a side under the minimum once the EXIF orientation is applied).
    """
    media_type = _checked_media_type(data, limits)
    pixels = _upright_rgb_pixels(data, media_type, limits)
    height, width = pixels.shape[:2]
    if width < limits.min_width or height < limits.min_height:
        raise InvalidRequest(
            f"file must be at least {limits.min_width}×{limits.min_height} pixels",
            code="image_too_small",
            field=FIELD,
        )
    return PreparedImage(
        data=_fresh_jpeg(pixels), media_type=JPEG, width=width, height=height, pixels=pixels
    )


def decoded_pixels(data: bytes) -> np.ndarray:
    """Decode image bytes already accepted by :func:`prepare_upload` into RGB pixels."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(_rgb(ImageOps.exif_transpose(image)))


def _unreadable() -> InvalidRequest:
    """The error for bytes that are not a whole, decodable image."""
    return InvalidRequest("file is not a readable image", code="image_unreadable", field=FIELD)


def _too_many_pixels() -> PayloadTooLarge:
    """The error for an image whose declared size is over the pixel limit."""
    return PayloadTooLarge("file has too many pixels", code="image_too_large", field=FIELD)


def _checked_media_type(data: bytes, limits: UploadLimits) -> str:
    """Refuse empty, oversized and non-image uploads; return the sniffed media type."""
    if not data:
        raise _unreadable()
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(
            f"file is larger than {limits.max_bytes} bytes", code="file_too_large", field=FIELD
        )
    media_type = sniff_media_type(data)
    if media_type is None:
        raise UnsupportedMediaType(
            "file must be a JPEG, PNG or WebP image", code="unsupported_file_type", field=FIELD
        )
    return media_type


def _upright_rgb_pixels(data: bytes, media_type: str, limits: UploadLimits) -> np.ndarray:
    """Decode ``data`` as ``media_type`` only, after the header's pixel count passes.

    At most :data:`DECODE_SLOTS` images decode at once in a process, and an image over
    :data:`MAX_DECODE_PIXELS` is reduced as it is decoded (a JPEG is decoded at a smaller
    scale directly; a PNG or WebP is reduced at once after decoding), so a hostile upload's
    memory is bounded before any copy of it is made.

    A face-matching library in the same process may turn Pillow's ``LOAD_TRUNCATED_IMAGES``
    on when it is imported; it is put back to Pillow's safe default here so a truncated file
    never decodes.
    """
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with DECODE_SLOTS:
        try:
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]]) as image:
                _check_pixel_count(image.size, limits)
                factor = _reduction(image.size)
                if factor > 1 and image.format == "JPEG":
                    image.draft("RGB", (image.width // factor, image.height // factor))
                image.load()
                reduced = _reduced(image, _reduction(image.size))
                return np.asarray(_rgb(ImageOps.exif_transpose(reduced)))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except KycError:
            raise
        except Exception as exc:  # a decoder fed hostile bytes may fail in any way
            raise _unreadable() from exc


MAX_DECODE_PIXELS = 24_000_000
"""Above this an image is reduced while it is decoded (a 48 MP phone photo → 12 MP): every
measure of the checks works at this scale, and it bounds a worker's memory per upload."""
DECODE_SLOTS = threading.BoundedSemaphore(2)
"""Images decoded at once in one process; the others wait their turn."""


def _reduction(size: tuple[int, int]) -> int:
    """The integer factor that brings ``size`` under :data:`MAX_DECODE_PIXELS` (1 if it is)."""
    pixels = size[0] * size[1]
    return 1 if pixels <= MAX_DECODE_PIXELS else math.ceil(math.sqrt(pixels / MAX_DECODE_PIXELS))


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    """Return ``image`` reduced by ``factor`` (the same image when 1)."""
    if factor <= 1:
        return image
    if image.mode in ("P", "1", "PA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image.reduce(factor)


MAX_SIDE = 65_500
"""The longest side an image may have: JPEG, which every upload is re-encoded to, stops at
65,535 pixels."""


def _check_pixel_count(size: tuple[int, int], limits: UploadLimits) -> None:
    """Refuse a declared size over the limit, or over Pillow's own bomb threshold."""
    ceiling = limits.max_pixels
    if Image.MAX_IMAGE_PIXELS is not None:
        ceiling = min(ceiling, Image.MAX_IMAGE_PIXELS)
    width, height = size
    if width * height > ceiling or max(width, height) > MAX_SIDE:
        raise _too_many_pixels()


def _rgb(image: Image.Image) -> Image.Image:
    """Convert to 8-bit RGB: transparency onto white, 16-bit grey scaled rather than clipped."""
    if image.mode == "RGB":
        return image
    if image.mode.startswith("I"):
        grey = np.asarray(image).astype(np.uint32) >> 8
        return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _fresh_jpeg(pixels: np.ndarray) -> bytes:
    """Encode the pixel array as a new JPEG that carries nothing but the pixels."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
