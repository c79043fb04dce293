"""Document finding, rectification and quality measures with OpenCV (the ``opencv`` adapter).

:mod:`.documents` finds a document (a flat scan or a photo of it) and rectifies it;
:mod:`.quality` measures sharpness and glare on the regions that matter; :mod:`.seals`
finds a red official seal on a page.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapters.imaging import rgb_pixels
from adapters.opencv_images.documents import find_corners, find_document, warp
from adapters.opencv_images.quality import sharpness, specular_share
from adapters.opencv_images.seals import find_seal
from kyc_service.domain.document_shapes import ID_CARD, DocumentShape
from kyc_service.domain.results import FoundDocument, SealFinding
from kyc_service.ports import DocumentImaging


class OpenCvDocumentImaging(DocumentImaging):
    """Finds, rectifies and measures documents and faces' regions with OpenCV."""

    def find_document(self, pixels: np.ndarray, shape: DocumentShape) -> FoundDocument | None:
        """Find a document of ``shape``; its corners, method and rectified copies."""
        return find_document(pixels, shape)

    def warp(self, pixels: np.ndarray, corners: Any, size: tuple[int, int]) -> np.ndarray:
        """Warp the quadrilateral ``corners`` of ``pixels`` onto ``size``."""
        return warp(pixels, np.asarray(corners, dtype=np.float64), size)

    def sharpness(self, region: np.ndarray, edges_only: bool = False) -> float | None:
        """1 − the blur effect of ``region`` (0–1), None when it is too small."""
        return sharpness(region, edges_only)

    def specular_share(self, region: np.ndarray, mask: np.ndarray | None = None) -> float:
        """The share of ``region`` under its largest blown-out patch."""
        return specular_share(region, mask)

    def find_seal(self, pixels: np.ndarray) -> SealFinding:
        """Find a red official seal on a page (RGB pixels, rectified or a whole photo)."""
        return find_seal(np.asarray(pixels))


def find_card(image: bytes | np.ndarray, shape: DocumentShape = ID_CARD) -> Any:
    """Find an ID card (or another ``shape``) in image bytes or RGB pixels; its corners."""
    pixels = rgb_pixels(image) if isinstance(image, bytes) else image
    return find_corners(pixels, shape)


__all__ = [
    "OpenCvDocumentImaging",
    "find_card",
    "find_corners",
    "find_document",
    "find_seal",
    "sharpness",
    "specular_share",
    "warp",
]
