"""The document finder: where a document lies in an upload, and a rectified copy of it.

People upload a document in two ways, and both are found:

- a **flat scan**: the image is the document, edge to edge or with a thin margin of a
  plain colour around it (a scanner, or a mobile SDK's auto-crop);
- a **photo** of the document lying on a surface, turned, seen at an angle, filling from
  about 30 % to 95 % of the frame's width.

The search, on a copy at most :data:`DETECTION_LONG_SIDE` long: (1) the largest convex
quadrilateral among the outlines of edge and brightness maps whose corners are near right
angles, whose side ratio is the shape's, and whose sides run along edges (a photo); (2)
the outline of what differs from a plain border (a scan with a margin); (3) the whole
image, when its own side ratio is the shape's, it is mostly pale, as paper and cards are,
and it carries print (an edge-to-edge scan). A pale photo of the card's proportions may
still pass (3): what is on it is checked after (a portrait in its place, OCR). The corners
are then mapped back to the full image, and the document is warped to its canonical size
(``DocumentShape.canonical_size``) for OCR, the card's portrait and seal detection, and
to its own size (never enlarged) for the quality measures.
"""

from __future__ import annotations

import cv2
import numpy as np

from kyc_service.domain.document_shapes import ID_CARD, DocumentShape
from kyc_service.domain.results import FoundDocument

ASPECT_TOLERANCE = 0.12
"""How far (as a share) a found side ratio may be from the shape's."""
SCAN_ASPECT_TOLERANCE = 0.10
"""How far an edge-to-edge scan's own side ratio may be from the shape's."""
MIN_SHARE = 0.04
"""The least share of the image a document must cover (a card 30 % of a 4:3 frame's width
covers 7.6 % of it)."""
MAX_SHARE = 0.995
"""Up to the whole image: a scan with a thin margin."""
MAX_CORNER_SKEW = 25.0
"""How many degrees each corner may be from a right angle (perspective, not a rhombus)."""
MIN_EDGE_SUPPORT = 0.7
"""The least share of each side's length that must run along an edge of the image."""
MARGIN_MAX_SPREAD = 18.0
"""The most a plain margin's grey levels may spread (standard deviation)."""
MARGIN_DIFFERENCE = 22.0
"""How far from the margin's colour a pixel must be to count as the document's."""
MIN_SCAN_SHARE = 0.5
"""A document inside a plain margin covers at least half of the scan."""
PALE_LEVEL = 140
"""Grey level from which a pixel counts as pale (paper, a card's background)."""
MIN_PALE_SHARE = 0.5
"""The least share of pale pixels in an edge-to-edge scan."""
MIN_PRINT_MARKS = 30
"""The least number of character-sized dark marks in an edge-to-edge scan."""
DETECTION_LONG_SIDE = 640

Corners = list[tuple[float, float]]


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """Return 8-bit RGB pixels: grey is repeated, an alpha channel dropped."""
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2)
    return pixels[:, :, :3]


def find_document(pixels: np.ndarray, shape: DocumentShape = ID_CARD) -> FoundDocument | None:
    """Find a document of ``shape`` in RGB (or grey) ``pixels``; None when there is none."""
    pixels = as_rgb(pixels)
    small, factor = _shrunk(pixels)
    located = _locate(small, shape)
    if located is None:
        return None
    quad, method = located
    corners = _inside_image(_ordered(quad / factor), pixels.shape)
    landscape = _is_landscape(corners, shape)
    canonical = shape.canonical_size(landscape)
    return FoundDocument(
        corners=[(float(x), float(y)) for x, y in corners],
        method=method,
        rectified=warp(pixels, corners, canonical),
        native=warp(pixels, corners, _native_size(corners, canonical)),
    )


def find_corners(pixels: np.ndarray, shape: DocumentShape = ID_CARD) -> Corners | None:
    """Return only the corners of :func:`find_document` (no warp)."""
    small, factor = _shrunk(pixels)
    located = _locate(small, shape)
    if located is None:
        return None
    corners = _inside_image(_ordered(located[0] / factor), pixels.shape)
    return [(float(x), float(y)) for x, y in corners]


def _inside_image(corners: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Clip corners to the image (a card cut by the frame's edge ends at the edge)."""
    height, width = shape[:2]
    corners[:, 0] = np.clip(corners[:, 0], 0, width)
    corners[:, 1] = np.clip(corners[:, 1], 0, height)
    return corners


def _locate(small: np.ndarray, shape: DocumentShape) -> tuple[np.ndarray, str] | None:
    """The document's corners on the reduced copy, and how they were found."""
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    quad = _photographed(grey, shape)
    if quad is not None:
        return quad, "photo"
    quad = _inside_margin(grey, shape)
    if quad is not None:
        return quad, "scan_margin"
    if _is_edge_to_edge_scan(grey, shape):
        height, width = grey.shape
        whole = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
        return whole, "scan"
    return None


def warp(pixels: np.ndarray, corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp the quadrilateral ``corners`` (TL, TR, BR, BL) of ``pixels`` onto ``size``."""
    width, height = size
    corners = np.asarray(corners, dtype=np.float64)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    side = float(np.linalg.norm(corners[1] - corners[0]))
    shrinking = side > width
    flags = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.warpPerspective(
        as_rgb(pixels), matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE
    )


def _native_size(corners: np.ndarray, canonical: tuple[int, int]) -> tuple[int, int]:
    """The document's own size in the image (mean of opposite sides), at most canonical."""
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    width, height = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    scale = min(1.0, canonical[0] / max(width, 1.0), canonical[1] / max(height, 1.0))
    return max(8, round(width * scale)), max(8, round(height * scale))


def _is_landscape(corners: np.ndarray, shape: DocumentShape) -> bool:
    """Whether the document lies landscape (pages keep what they show; cards always are)."""
    if not shape.either_orientation:
        return shape.landscape
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    return bool(sides[0] + sides[2] >= sides[1] + sides[3])


def _shrunk(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """Return an RGB copy at most :data:`DETECTION_LONG_SIDE` long, and the factor applied."""
    pixels = as_rgb(pixels)
    factor = min(1.0, DETECTION_LONG_SIDE / max(pixels.shape[:2]))
    if factor == 1.0:
        return np.ascontiguousarray(pixels[:, :, :3]), 1.0
    size = (round(pixels.shape[1] * factor), round(pixels.shape[0] * factor))
    return cv2.resize(pixels[:, :, :3], size, interpolation=cv2.INTER_AREA), factor


# --- a photo of the document on a surface ----------------------------------------------------


def _photographed(grey: np.ndarray, shape: DocumentShape) -> np.ndarray | None:
    """The largest document-shaped quadrilateral whose sides follow edges, or None."""
    smooth = cv2.GaussianBlur(grey, (5, 5), 0)
    area = float(grey.shape[0] * grey.shape[1])
    edges = cv2.Canny(smooth, 20, 60)
    near_edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    best: np.ndarray | None = None
    for outline in _outline_maps(smooth, edges):
        for quad in _quadrilaterals(outline, area):
            if best is not None and _area(quad) <= _area(best):
                continue
            if _shaped_like(quad, shape) and _edge_support(quad, near_edges) >= MIN_EDGE_SUPPORT:
                best = quad
    return best


def _outline_maps(grey: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    """Binary maps whose outlines may include the document's: edges, light/dark regions."""
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
        if not MIN_SHARE <= cv2.contourArea(hull) / area <= MAX_SHARE:
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
        if length == 0:
            return None
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


def _edge_support(quad: np.ndarray, near_edges: np.ndarray) -> float:
    """The least share, over the four sides, of points along a side that lie on an edge.

    A tenth of each side is left out at both ends, where a card's corners are rounded.
    A side along the image's own border counts as supported (a scan cut at the margin).
    """
    corners = _ordered(quad)
    height, width = near_edges.shape
    steps = np.linspace(0.1, 0.9, 40)[:, None]
    shares = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        points = np.rint(start + steps * (end - start)).astype(int)
        xs, ys = np.clip(points[:, 0], 0, width - 1), np.clip(points[:, 1], 0, height - 1)
        on_border = (xs <= 1) | (ys <= 1) | (xs >= width - 2) | (ys >= height - 2)
        shares.append(float(((near_edges[ys, xs] > 0) | on_border).mean()))
    return min(shares)


# --- a scan with a plain margin --------------------------------------------------------------


def _inside_margin(grey: np.ndarray, shape: DocumentShape) -> np.ndarray | None:
    """The document inside a plain margin of a scan (what differs from the border's colour)."""
    height, width = grey.shape
    strip = max(2, round(0.01 * min(height, width)))
    border = np.concatenate(
        [
            grey[:strip].ravel(),
            grey[-strip:].ravel(),
            grey[:, :strip].ravel(),
            grey[:, -strip:].ravel(),
        ]
    ).astype(np.float64)
    if border.std() > MARGIN_MAX_SPREAD:
        return None
    smooth = cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float64)
    differs = (np.abs(smooth - np.median(border)) > MARGIN_DIFFERENCE).astype(np.uint8) * 255
    differs = cv2.morphologyEx(differs, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(differs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    points = np.concatenate(contours)
    hull = cv2.convexHull(points)
    if cv2.contourArea(hull) < MIN_SCAN_SHARE * height * width:
        return None
    quad = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float64)
    return quad if _shaped_like(quad, shape) else None


def _is_edge_to_edge_scan(grey: np.ndarray, shape: DocumentShape) -> bool:
    """Whether the image itself has the document's proportions and is mostly pale."""
    height, width = grey.shape
    ratio = max(width, height) / min(width, height)
    if abs(ratio / shape.aspect - 1) > SCAN_ASPECT_TOLERANCE:
        return False
    if not shape.either_orientation and (width >= height) != shape.landscape:
        return False
    return float((grey >= PALE_LEVEL).mean()) >= MIN_PALE_SHARE and _has_print(grey)


def _has_print(grey: np.ndarray) -> bool:
    """Whether the image carries print: many small dark marks (characters) on it.

    A drawn card measures 77–128 marks, a page 400 or more; a plain sheet or a wall with a
    word on it, a handful.
    """
    dark = cv2.adaptiveThreshold(
        grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 25
    )
    count, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    height, width = grey.shape
    areas, tall = stats[1:count, cv2.CC_STAT_AREA], stats[1:count, cv2.CC_STAT_HEIGHT]
    wide = stats[1:count, cv2.CC_STAT_WIDTH]
    marks = (areas >= 6) & (tall >= 3) & (tall <= 0.08 * height) & (wide <= 0.08 * width)
    return int(marks.sum()) >= MIN_PRINT_MARKS


# --- geometry --------------------------------------------------------------------------------


def _ordered(quad: np.ndarray) -> np.ndarray:
    """Order four corners clockwise from the top-left (in image coordinates)."""
    quad = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    clockwise = quad[np.argsort(angles)]
    start = int(np.argmin(clockwise.sum(axis=1)))
    return np.roll(clockwise, -start, axis=0)


def _area(quad: np.ndarray) -> float:
    """The area of a quadrilateral."""
    return float(cv2.contourArea(np.asarray(quad, dtype=np.float32)))


def _shaped_like(quad: np.ndarray, shape: DocumentShape) -> bool:
    """Whether a quadrilateral has the shape's proportions and near-right corners."""
    corners = _ordered(quad)
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    across, down = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if min(across, down) <= 0:
        return False
    ratio = max(across, down) / min(across, down)
    if abs(ratio / shape.aspect - 1) > ASPECT_TOLERANCE:
        return False
    if not shape.either_orientation and (across >= down) != shape.landscape:
        return False
    return all(abs(angle - 90.0) <= MAX_CORNER_SKEW for angle in _corner_angles(corners))


def _corner_angles(corners: np.ndarray) -> list[float]:
    """The interior angle at each corner, in degrees."""
    angles = []
    for index in range(4):
        before = corners[index - 1] - corners[index]
        after = corners[(index + 1) % 4] - corners[index]
        cosine = np.dot(before, after) / (np.linalg.norm(before) * np.linalg.norm(after))
        angles.append(float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))))
    return angles
