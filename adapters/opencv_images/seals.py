"""Red official seal (公章) detection on a document page, with OpenCV.

A Chinese official seal is a red ring, 38–45 mm across on an A4 page, with a star in the
middle and the entity's name in red characters along the ring's inner edge. The search,
on a copy at most :data:`WORK_LONG_SIDE` long:

1. **red ink**: pixels whose hue is red (it wraps around 0/180 in OpenCV's HSV), that are
   saturated enough and redder than they are green or blue (``R − max(G, B)``), with
   hysteresis: faint red (faded or pinkish ink, thin lines smeared by JPEG) counts where
   it touches clearly red ink. A grey photocopy, black or blue ink, paper and a wooden
   desk carry none; a small closing joins specks of uneven ink;
2. **candidates**: blobs of red, gathered with specks joined and again with gaps of
   about 1 % of the image bridged (a ring broken by dry ink or by black print over it),
   whose size is plausible for a seal on the image (:data:`MIN_DIAMETER_SHARE`–
   :data:`MAX_DIAMETER_SHARE` of its longer side: a seal on a flat scan or on a page
   filling a third of a photo or more);
3. **a ring**: an ellipse is fitted to the convex hull of the blob's red pixels (a page
   photographed at an angle turns the circle into an ellipse); the hull must lie on it
   (a square, a triangle or a box does not), the red must run around it nearly all the
   way, the inner half must be mostly paper (a filled disc, the national emblem or a blob
   is not a ring) and the inside must carry some red (the star, the name: a bare circle
   drawn in red is not a seal).

The confidence weighs how well each holds; a seal is found when every test passes and the
confidence reaches :data:`FOUND_CONFIDENCE`. The box is the best candidate's, in the
given image's pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kyc_service.domain.results import SealFinding

WORK_LONG_SIDE = 1400
"""Images longer than this are searched on a copy shrunk by a whole factor to at most this
(700–1400 pixels: a seal stays at least 14 pixels across)."""
MIN_DIAMETER_SHARE = 0.02
"""The smallest seal, as a share of the image's longer side (a page 30 % of a photo)."""
MAX_DIAMETER_SHARE = 0.24
"""The largest seal, as a share of the image's longer side (45 mm on A4 is 15 %)."""
MIN_DIAMETER_PX = 14
"""Below this many pixels across (on the searched copy) a ring cannot be told apart."""
RED_HUES = ((0, 6), (155, 180))
"""OpenCV hues (0–180) counted as red: orange-red to bluish, pinkish red."""
MIN_SATURATION = 30
MIN_REDNESS = 20
"""How much redder than green and blue (``R − max(G, B)``) clearly red ink is."""
WEAK_SATURATION = 20
WEAK_REDNESS = 12
"""Fainter red (faded ink, JPEG-smeared lines) counts where it touches clear red."""
MIN_VALUE = 60
JOIN_SHARE = 0.008
"""Gaps in the ring up to about twice this share of the image's longer side are bridged."""
MIN_AXIS_RATIO = 0.5
"""The ellipse's minor / major axis: a circle seen at an angle, not a bar."""
MAX_FIT_ERROR = 0.05
"""The largest RMS of the hull's radial distance from the fitted ellipse (share of it)."""
MIN_RING_COVER = 0.8
"""The least share of directions from the centre in which the ring's band is inked."""
MAX_INTERIOR_FILL = 0.42
"""The most red inside half the radius: a seal's centre is a star on paper (≤ 0.31 in
the drawn seals; the national emblem's red disc has 0.6)."""
MIN_CONTENT = 0.02
"""The least red inside the ring (the star, the name): a bare ring is not a seal."""
FOUND_CONFIDENCE = 0.6
"""The least confidence of a found seal; a ring passing every test below it is doubtful."""
RING_SCALES = (0.84, 0.88, 0.92, 0.96, 1.0)
"""Where the ring's band is sampled, as shares of the fitted ellipse's size."""
DIRECTIONS = 120
"""How many directions from the centre the ring's band is sampled in."""
NOTHING = SealFinding(found=False, confidence=0.0, box=None)


@dataclass(frozen=True)
class Ring:
    """A candidate's fitted ellipse and how seal-like it is."""

    centre: tuple[float, float]
    axes: tuple[float, float]
    angle: float
    fit_error: float
    cover: float
    interior: float
    content: float

    @property
    def passes(self) -> bool:
        """Whether every hard test holds."""
        return (
            min(self.axes) >= MIN_AXIS_RATIO * max(self.axes)
            and self.fit_error <= MAX_FIT_ERROR
            and self.cover >= MIN_RING_COVER
            and self.interior <= MAX_INTERIOR_FILL
            and self.content >= MIN_CONTENT
        )

    @property
    def confidence(self) -> float:
        """How seal-like the candidate is, in 0–1 (halved when a test fails)."""
        shape = _ramp(MAX_FIT_ERROR + 0.01 - self.fit_error, 0.04)
        cover = _ramp(self.cover - (MIN_RING_COVER - 0.1), 0.15)
        hollow = _ramp(MAX_INTERIOR_FILL + 0.1 - self.interior, 0.3)
        content = _ramp(self.content, 0.08)
        score = 0.3 * shape + 0.3 * cover + 0.2 * hollow + 0.2 * content
        return score if self.passes else score / 2


def _ramp(value: float, span: float) -> float:
    """``value / span`` clipped to 0–1."""
    return float(min(max(value / span, 0.0), 1.0))


def find_seal(pixels: np.ndarray) -> SealFinding:
    """Find a red official seal on a page (RGB pixels, rectified or a whole photo).

    Grey pixels carry no red: nothing is found on them. The box is the most seal-like
    candidate's, also when it is doubtful (not found); None when there is no candidate.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] < 3 or min(pixels.shape[:2]) < MIN_DIAMETER_PX:
        return NOTHING
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    small, factor = _shrunk(np.ascontiguousarray(pixels[:, :, :3]))
    mask = red_mask(small)
    fitted = (_ring(mask, hull) for hull in _candidates(mask))
    rings = [ring for ring in fitted if ring is not None]
    if not rings:
        return NOTHING
    best = max(rings, key=lambda ring: ring.confidence)
    score = best.confidence
    return SealFinding(
        found=best.passes and score >= FOUND_CONFIDENCE,
        confidence=round(score, 3),
        box=_box(best, factor, pixels.shape),
    )


def _shrunk(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy shrunk by a whole factor to at most :data:`WORK_LONG_SIDE`, and the factor."""
    steps = math.ceil(max(pixels.shape[:2]) / WORK_LONG_SIDE)
    if steps <= 1:
        return pixels, 1.0
    size = (pixels.shape[1] // steps, pixels.shape[0] // steps)
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), 1.0 / steps


def red_mask(rgb: np.ndarray) -> np.ndarray:
    """Return where ``rgb`` shows red ink (255) as a uint8 mask, specks joined.

    Hysteresis: faint red (faded ink, a thin line smeared by JPEG) counts where it
    touches clearly red ink, so paper's colour noise and a desk's grain stay out.
    """
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hue, saturation, value = cv2.split(hsv)
    red_hue = cv2.bitwise_or(*(cv2.inRange(hue, low, high) for low, high in RED_HUES))
    redness = cv2.subtract(rgb[:, :, 0].copy(), cv2.max(rgb[:, :, 1], rgb[:, :, 2]))
    strong = cv2.bitwise_and(red_hue, _at_least(saturation, MIN_SATURATION))
    strong = cv2.bitwise_and(strong, _at_least(redness, MIN_REDNESS))
    if not cv2.countNonZero(strong):
        return strong
    weak = cv2.bitwise_and(red_hue, _at_least(saturation, WEAK_SATURATION))
    weak = cv2.bitwise_and(weak, _at_least(redness, WEAK_REDNESS))
    weak = cv2.bitwise_and(weak, _at_least(value, MIN_VALUE))
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(count, np.uint8)
    keep[labels[strong > 0]] = 255
    keep[0] = 0
    mask = keep[labels]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def _at_least(channel: np.ndarray, least: int) -> np.ndarray:
    """255 where the uint8 ``channel`` is at least ``least``."""
    return cv2.threshold(channel, least - 1, 255, cv2.THRESH_BINARY)[1]


def _candidates(mask: np.ndarray) -> list[np.ndarray]:
    """The convex hulls of red blobs whose size is plausible for a seal on this image.

    Blobs are gathered twice: with nearby specks joined, and with gaps of about 1 % of
    the image joined (a ring broken by uneven ink); the hull is of the red pixels only.
    """
    long_side = max(mask.shape)
    smallest = max(MIN_DIAMETER_PX, MIN_DIAMETER_SHARE * long_side)
    largest = MAX_DIAMETER_SHARE * long_side
    if not cv2.countNonZero(mask):
        return []
    hulls: dict[tuple[int, int, int, int], np.ndarray] = {}
    for reach in (2, max(3, round(JOIN_SHARE * long_side))):
        for hull in _blob_hulls(mask, reach, smallest, largest):
            x, y, w, h = cv2.boundingRect(hull)
            hulls.setdefault((x // 3, y // 3, w // 3, h // 3), hull)
    return list(hulls.values())


def _blob_hulls(mask: np.ndarray, reach: int, smallest: float, largest: float) -> list[np.ndarray]:
    """Hulls of the red pixels of each blob (red within ``reach`` pixels joined) of a size."""
    left, top, width, height = cv2.boundingRect(mask)
    left, top = max(left - reach - 1, 0), max(top - reach - 1, 0)
    right = min(left + width + 2 * reach + 2, mask.shape[1])
    bottom = min(top + height + 2 * reach + 2, mask.shape[0])
    red = mask[top:bottom, left:right]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
    outlines, _ = cv2.findContours(
        cv2.dilate(red, kernel), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    hulls = []
    for outline in outlines:
        x, y, w, h = cv2.boundingRect(outline)
        if not smallest <= max(w, h) - 2 * reach <= largest:
            continue
        inside = np.zeros((h, w), np.uint8)
        cv2.drawContours(inside, [outline], -1, 255, cv2.FILLED, offset=(-x, -y))
        ys, xs = np.nonzero(cv2.bitwise_and(inside, red[y : y + h, x : x + w]))
        if len(xs) >= 5:
            points = np.stack([xs + x + left, ys + y + top], axis=1).astype(np.int32)
            hulls.append(cv2.convexHull(points).reshape(-1, 2))
    return hulls


def _ring(mask: np.ndarray, hull: np.ndarray) -> Ring | None:
    """Fit an ellipse to a blob's hull and measure how seal-like it is."""
    outline = _resampled(hull.astype(np.float64), 72)
    if outline is None:
        return None
    (cx, cy), (width, height), angle = cv2.fitEllipse(outline.astype(np.float32))
    if not (width > 4 and height > 4 and math.isfinite(cx) and math.isfinite(cy)):
        return None
    centre, axes = (cx, cy), (width / 2, height / 2)
    return Ring(
        centre=centre,
        axes=axes,
        angle=angle,
        fit_error=_fit_error(outline, centre, axes, angle),
        cover=_cover(mask, centre, axes, angle),
        interior=_fill(mask, centre, axes, angle, 0.0, 0.5),
        content=_fill(mask, centre, axes, angle, 0.0, 0.82),
    )


def _resampled(points: np.ndarray, count: int) -> np.ndarray | None:
    """``count`` points evenly spaced along the closed polygon ``points``."""
    if len(points) < 3:
        return None
    closed = np.vstack([points, points[:1]])
    lengths = np.hypot(*np.diff(closed, axis=0).T)
    total = lengths.sum()
    if total <= 0:
        return None
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    wanted = np.linspace(0.0, total, count, endpoint=False)
    xs = np.interp(wanted, along, closed[:, 0])
    ys = np.interp(wanted, along, closed[:, 1])
    return np.stack([xs, ys], axis=1)


def _frame(
    points: np.ndarray, centre: tuple[float, float], angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """The points' coordinates along the ellipse's first and second axes."""
    theta = math.radians(angle)
    dx, dy = points[:, 0] - centre[0], points[:, 1] - centre[1]
    return dx * math.cos(theta) + dy * math.sin(theta), -dx * math.sin(theta) + dy * math.cos(theta)


def _fit_error(
    outline: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], angle: float
) -> float:
    """The RMS of the outline's radial distance from the ellipse, as a share of it."""
    u, v = _frame(outline, centre, angle)
    radius = np.hypot(u / axes[0], v / axes[1])
    return float(np.sqrt(np.mean((radius - 1.0) ** 2)))


def _on_ellipse(
    centre: tuple[float, float], axes: tuple[float, float], angle: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """:data:`DIRECTIONS` points on the ellipse scaled by ``scale``: x and y."""
    t = np.linspace(0.0, 2 * math.pi, DIRECTIONS, endpoint=False)
    u, v = scale * axes[0] * np.cos(t), scale * axes[1] * np.sin(t)
    theta = math.radians(angle)
    x = centre[0] + u * math.cos(theta) - v * math.sin(theta)
    y = centre[1] + u * math.sin(theta) + v * math.cos(theta)
    return x, y


def _cover(
    mask: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], angle: float
) -> float:
    """The share of directions in which the ring's band (near the ellipse) is inked."""
    height, width = mask.shape
    inked = np.zeros(DIRECTIONS, bool)
    for scale in RING_SCALES:
        x, y = _on_ellipse(centre, axes, angle, scale)
        cols = np.clip(np.rint(x).astype(int), 0, width - 1)
        rows = np.clip(np.rint(y).astype(int), 0, height - 1)
        inked |= mask[rows, cols] > 0
    return float(inked.mean())


def _fill(
    mask: np.ndarray,
    centre: tuple[float, float],
    axes: tuple[float, float],
    angle: float,
    inner: float,
    outer: float,
) -> float:
    """The share of red between the ellipse scaled by ``inner`` and by ``outer``."""
    reach = int(math.ceil(max(axes) * outer)) + 2
    left, top = max(int(centre[0]) - reach, 0), max(int(centre[1]) - reach, 0)
    right = min(int(centre[0]) + reach + 1, mask.shape[1])
    bottom = min(int(centre[1]) + reach + 1, mask.shape[0])
    if right <= left or bottom <= top:
        return 0.0
    ys, xs = np.mgrid[top:bottom, left:right]
    points = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    u, v = _frame(points, centre, angle)
    radius = np.hypot(u / axes[0], v / axes[1]).reshape(xs.shape)
    region = (radius >= inner) & (radius < outer)
    if not region.any():
        return 0.0
    return float((mask[top:bottom, left:right][region] > 0).mean())


def _box(ring: Ring, factor: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The ring's bounding box in the original image's pixels: left, top, right, bottom."""
    (cx, cy), (a, b) = ring.centre, ring.axes
    theta = math.radians(ring.angle)
    half_x = math.hypot(a * math.cos(theta), b * math.sin(theta))
    half_y = math.hypot(a * math.sin(theta), b * math.cos(theta))
    left = max(int((cx - half_x) / factor), 0)
    top = max(int((cy - half_y) / factor), 0)
    right = min(int(math.ceil((cx + half_x) / factor)), shape[1])
    bottom = min(int(math.ceil((cy + half_y) / factor)), shape[0])
    return left, top, right, bottom
