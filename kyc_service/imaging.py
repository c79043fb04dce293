"""Upload hardening for document images: sniff, bound, decode, orient, strip and re-encode.

An upload is trusted for nothing: its type comes from its magic bytes, its pixel count is
checked from the header before anything is decoded, and what is stored is a brand-new JPEG
built from the decoded pixels, so no metadata (EXIF, GPS, ICC, XMP, comments) and no bytes
hidden after the image survive.

It also finds an ID card lying in a photo (:func:`find_card`), for the document_quality check.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
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
NORMALISED_LONG_SIDE = 1000
BLOWN_OUT_LEVEL = 250
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
    """A decoded, upright, metadata-free JPEG with its size and quality measures."""

    data: bytes
    media_type: str
    width: int
    height: int
    sharpness: float
    glare: float


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
    normalised = _normalised(pixels)
    return PreparedImage(
        data=_fresh_jpeg(pixels),
        media_type=JPEG,
        width=width,
        height=height,
        sharpness=_sharpness(normalised),
        glare=_glare(normalised),
    )


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

    A face-matching library in the same process may turn Pillow's ``LOAD_TRUNCATED_IMAGES``
    on when it is imported; it is put back to Pillow's safe default here so a truncated file
    never decodes.
    """
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]]) as image:
            _check_pixel_count(image.size, limits)
            image.load()
            return np.asarray(_rgb(ImageOps.exif_transpose(image)))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except KycError:
        raise
    except Exception as exc:  # a decoder fed hostile bytes may fail in any way
        raise _unreadable() from exc


def _check_pixel_count(size: tuple[int, int], limits: UploadLimits) -> None:
    """Refuse a declared size over the limit, or over Pillow's own bomb threshold."""
    ceiling = limits.max_pixels
    if Image.MAX_IMAGE_PIXELS is not None:
        ceiling = min(ceiling, Image.MAX_IMAGE_PIXELS)
    width, height = size
    if width * height > ceiling:
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


def _normalised(pixels: np.ndarray) -> np.ndarray:
    """Resize so the long side is ``NORMALISED_LONG_SIDE``, making measures size-independent."""
    height, width = pixels.shape[:2]
    scale = NORMALISED_LONG_SIDE / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(pixels, size, interpolation=interpolation)


def _sharpness(rgb: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image: low means blurred."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _glare(rgb: np.ndarray) -> float:
    """Share of pixels blown out in every channel."""
    return float(np.all(rgb >= BLOWN_OUT_LEVEL, axis=2).mean())


# --- finding an ID card in a photo -------------------------------------------------------------

CARD_ASPECT = 85.6 / 54
"""The long side over the short side of an ID-1 card (85.6 × 54 mm)."""
CARD_ASPECT_TOLERANCE = 0.12
"""How far (as a share) the measured side ratio may be from :data:`CARD_ASPECT`."""
CARD_MIN_SHARE = 0.10
"""The least share of the photo the card must cover (a card ~40 % of a 4:3 frame's width)."""
CARD_MAX_SHARE = 0.95
"""Anything larger is the photo's own frame, not a card lying in it."""
CARD_MAX_CORNER_SKEW = 25.0
"""How many degrees each corner may be from a right angle (perspective, not a rhombus)."""
CARD_MIN_EDGE_SUPPORT = 0.7
"""The least share of each side's length that must run along an edge of the photo."""
DETECTION_LONG_SIDE = 640

Corners = list[tuple[float, float]]


def find_card(image: bytes | np.ndarray) -> Corners | None:
    """Find an ID card lying in a photo; return its corners (TL, TR, BR, BL) or None.

    ``image`` is an RGB pixel array, or the bytes of an image already accepted by
    :func:`prepare_upload` (they are decoded without its limits). The card is the largest convex
    quadrilateral among the outlines of edge and brightness maps that covers between
    :data:`CARD_MIN_SHARE` and :data:`CARD_MAX_SHARE` of the photo, whose corners are near
    right angles and whose mean long side over mean short side is within
    :data:`CARD_ASPECT_TOLERANCE` of :data:`CARD_ASPECT` (so a moderate perspective passes).
    A card filling the whole photo, with no background around it, is not found.
    """
    pixels = _decoded(image) if isinstance(image, bytes) else image
    small, factor = _shrunk(pixels)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    area = float(grey.shape[0] * grey.shape[1])
    edges = cv2.Canny(grey, 20, 60)
    near_edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    best: np.ndarray | None = None
    for outline in _outline_maps(grey, edges):
        for quad in _quadrilaterals(outline, area):
            if best is not None and _area(quad) <= _area(best):
                continue
            if _card_like(quad) and _edge_support(quad, near_edges) >= CARD_MIN_EDGE_SUPPORT:
                best = quad
    if best is None:
        return None
    return [(float(x) / factor, float(y) / factor) for x, y in _ordered(best)]


def _decoded(data: bytes) -> np.ndarray:
    """Decode image bytes into upright RGB pixels."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(_rgb(ImageOps.exif_transpose(image)))


def _shrunk(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """Return a copy at most :data:`DETECTION_LONG_SIDE` long, and the factor applied."""
    factor = min(1.0, DETECTION_LONG_SIDE / max(pixels.shape[:2]))
    if factor == 1.0:
        return np.ascontiguousarray(pixels[:, :, :3]), 1.0
    size = (round(pixels.shape[1] * factor), round(pixels.shape[0] * factor))
    return cv2.resize(pixels[:, :, :3], size, interpolation=cv2.INTER_AREA), factor


def _outline_maps(grey: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    """Binary maps whose outlines may include the card's: edges, and light/dark regions."""
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    _, light = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    opened = cv2.morphologyEx(light, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    return [closed, opened, cv2.bitwise_not(opened)]


def _quadrilaterals(outline: np.ndarray, area: float) -> list[np.ndarray]:
    """The convex four-cornered shapes that the large outlines of a binary map follow."""
    contours, _ = cv2.findContours(outline, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    found = []
    for contour in contours:
        hull = cv2.convexHull(contour)
        if not CARD_MIN_SHARE <= cv2.contourArea(hull) / area <= CARD_MAX_SHARE:
            continue
        for epsilon in (0.02, 0.04):
            quad = cv2.approxPolyDP(hull, epsilon * cv2.arcLength(hull, True), True)
            if len(quad) == 4 and cv2.isContourConvex(quad):
                refined = _refined(_ordered(quad.reshape(4, 2).astype(np.float64)), contour)
                if refined is not None:
                    found.append(refined)
                break
    return found


def _refined(corners: np.ndarray, contour: np.ndarray) -> np.ndarray | None:
    """Fit a line to the outline along each side and return where they cross.

    The corners of a simplified outline sit on a card's rounded corners; the crossings of
    its straight sides are the card's corners proper. None when a side has no support.
    """
    points = contour.reshape(-1, 2).astype(np.float64)
    lines = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        along = end - start
        length = float(np.linalg.norm(along))
        unit = along / length
        offsets = points - start
        position = offsets @ unit / length
        distance = np.abs(offsets @ np.array([-unit[1], unit[0]]))
        near = points[(position > 0.15) & (position < 0.85) & (distance < 0.05 * length + 3)]
        if len(near) < 8:
            return None
        vx, vy, x0, y0 = cv2.fitLine(near.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01)
        lines.append((float(x0[0]), float(y0[0]), float(vx[0]), float(vy[0])))
    crossings = [_crossing(lines[index - 1], lines[index]) for index in range(4)]
    return None if any(c is None for c in crossings) else np.array(crossings)


def _crossing(
    first: tuple[float, float, float, float], second: tuple[float, float, float, float]
) -> tuple[float, float] | None:
    """Where two lines, each a point and a direction, cross; None when nearly parallel."""
    x1, y1, dx1, dy1 = first
    x2, y2, dx2, dy2 = second
    determinant = dx1 * dy2 - dy1 * dx2
    if abs(determinant) < 1e-6:
        return None
    t = ((x2 - x1) * dy2 - (y2 - y1) * dx2) / determinant
    return (x1 + t * dx1, y1 + t * dy1)


def _ordered(quad: np.ndarray) -> np.ndarray:
    """Order four corners clockwise from the top-left (in image coordinates)."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    clockwise = quad[np.argsort(angles)]
    start = int(np.argmin(clockwise.sum(axis=1)))
    return np.roll(clockwise, -start, axis=0)


def _area(quad: np.ndarray) -> float:
    """The area of a quadrilateral."""
    return float(cv2.contourArea(quad.astype(np.float32)))


def _card_like(quad: np.ndarray) -> bool:
    """Tell whether a quadrilateral has a card's proportions and near-right corners."""
    corners = _ordered(quad)
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    across, down = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if min(across, down) <= 0:
        return False
    ratio = max(across, down) / min(across, down)
    if abs(ratio / CARD_ASPECT - 1) > CARD_ASPECT_TOLERANCE:
        return False
    return all(abs(angle - 90.0) <= CARD_MAX_CORNER_SKEW for angle in _corner_angles(corners))


def _edge_support(quad: np.ndarray, near_edges: np.ndarray) -> float:
    """The least share, over the four sides, of points along a side that lie on an edge.

    A tenth of each side is left out at both ends, where a card's corners are rounded.
    """
    corners = _ordered(quad)
    height, width = near_edges.shape
    steps = np.linspace(0.1, 0.9, 40)[:, None]
    shares = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        points = np.rint(start + steps * (end - start)).astype(int)
        xs, ys = np.clip(points[:, 0], 0, width - 1), np.clip(points[:, 1], 0, height - 1)
        shares.append(float((near_edges[ys, xs] > 0).mean()))
    return min(shares)


def _corner_angles(corners: np.ndarray) -> list[float]:
    """The interior angle at each corner, in degrees."""
    angles = []
    for index in range(4):
        before = corners[index - 1] - corners[index]
        after = corners[(index + 1) % 4] - corners[index]
        cosine = np.dot(before, after) / (np.linalg.norm(before) * np.linalg.norm(after))
        angles.append(float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))))
    return angles
