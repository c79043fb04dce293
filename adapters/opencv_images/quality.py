"""Image quality measures, taken where it matters and at native resolution.

- :func:`sharpness` is 1 − the *blur effect* of Crété-Roffet et al. ("The Blur Effect:
  Perception and Estimation with a New No-Reference Perceptual Blur Metric", SPIE 2007):
  the region is blurred again with a 9-pixel mean filter along each axis, and the measure
  is the share of its pixel-to-pixel variation that the re-blur removes. A sharp region
  loses most of it (≈ 0.5–0.8), an out-of-focus one has little left to lose (< 0.45). It
  is a ratio, so it does not grow with contrast or with how much texture the region holds
  (a face with smooth skin, or in front of a plain background, is not "blurry"; a region
  with no detail at all measures 0), and it is computed on the region as
  the camera recorded it, never on an enlarged copy, so the blur a person can fix is what
  it sees. On print only pixels near an edge count (:data:`EDGE_LEVEL`).
- :func:`specular_share` is the share of a region covered by its largest blown-out patch
  (every channel ≥ :data:`BLOWN_OUT_LEVEL`): a reflection on a card or a face. Scattered
  white pixels (print, a catch-light in an eye) and white background outside the region
  do not count.
"""

from __future__ import annotations

import cv2
import numpy as np

BLOWN_OUT_LEVEL = 250
REBLUR_TAPS = 9
EDGE_LEVEL = 4.0
"""Grey levels per pixel of the re-blurred region from which a pixel is near an edge. The
measure is taken there only: sensor and JPEG noise on flat parts (a card's background,
smooth skin) is fine-grained and would otherwise pass for sharpness."""
MIN_EDGE_PIXELS = 64
"""With fewer pixels near edges, the whole region is measured."""
MIN_SIDE = 16
"""A region smaller than this on either side is not measured (None)."""


def sharpness(region: np.ndarray, edges_only: bool = False) -> float | None:
    """Return 1 − blur effect of an RGB or grey region, in 0–1 (higher is sharper).

    ``edges_only`` measures near edges only (:data:`EDGE_LEVEL`): for print, whose flat
    background holds nothing but noise. A face is measured whole: the fine texture of skin
    and hair is part of what a sharp photo of it shows.
    """
    if region.ndim < 2 or min(region.shape[:2]) < MIN_SIDE:
        return None
    grey = _grey(region)
    image = grey.astype(np.float64)
    kernel = np.ones(REBLUR_TAPS) / REBLUR_TAPS
    blur_effects = []
    for axis, shaped in ((0, kernel.reshape(-1, 1)), (1, kernel.reshape(1, -1))):
        reblurred = cv2.filter2D(image, -1, shaped, borderType=cv2.BORDER_REFLECT)
        variation = np.abs(np.diff(image, axis=axis))
        kept = np.abs(np.diff(reblurred, axis=axis))
        near_edges = kept >= EDGE_LEVEL
        if edges_only and np.count_nonzero(near_edges) >= MIN_EDGE_PIXELS:
            variation, kept = variation[near_edges], kept[near_edges]
        total = float(variation.sum())
        if total == 0:
            blur_effects.append(1.0)
            continue
        lost = float(np.maximum(0.0, variation - kept).sum())
        blur_effects.append((total - lost) / total)
    return 1.0 - max(blur_effects)


def specular_share(region: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Return the share of ``region`` under its largest blown-out patch (0 when none).

    ``mask`` (same height and width, non-zero where it counts) leaves parts out, such as a
    card's portrait.
    """
    rgb = region[:, :, :3] if region.ndim == 3 else np.repeat(region[:, :, None], 3, axis=2)
    blown = np.all(rgb >= BLOWN_OUT_LEVEL, axis=2).astype(np.uint8)
    counted = blown.size
    if mask is not None:
        blown &= (mask > 0).astype(np.uint8)
        counted = int(np.count_nonzero(mask))
    if counted == 0 or not blown.any():
        return 0.0
    blown = cv2.morphologyEx(blown, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(blown, connectivity=8)
    largest = int(stats[1:count, cv2.CC_STAT_AREA].max()) if count > 1 else 0
    return largest / counted


def _grey(region: np.ndarray) -> np.ndarray:
    """The grey levels of an RGB region (a grey one as it is)."""
    if region.ndim == 2:
        return region
    return cv2.cvtColor(np.ascontiguousarray(region[:, :, :3]), cv2.COLOR_RGB2GRAY)
