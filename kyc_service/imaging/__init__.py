"""Images: upload hardening, the document finder and the quality measures.

- :mod:`.upload`: sniff, bound, decode, orient, strip and re-encode what people upload;
- :mod:`.documents`: find a document (a flat scan or a photo of it) and rectify it;
- :mod:`.quality`: sharpness and glare, measured on the regions that matter.
"""

from __future__ import annotations

import numpy as np

from kyc_service.domain.document_shapes import ID_CARD, DocumentShape
from kyc_service.imaging.documents import Corners, FoundDocument, find_corners, find_document, warp
from kyc_service.imaging.quality import sharpness, specular_share
from kyc_service.imaging.upload import (
    PreparedImage,
    UploadLimits,
    decoded_pixels,
    prepare_upload,
    sniff_media_type,
)

__all__ = [
    "Corners",
    "FoundDocument",
    "PreparedImage",
    "UploadLimits",
    "decoded_pixels",
    "find_card",
    "find_corners",
    "find_document",
    "prepare_upload",
    "sharpness",
    "sniff_media_type",
    "specular_share",
    "warp",
]


def find_card(image: bytes | np.ndarray, shape: DocumentShape = ID_CARD) -> Corners | None:
    """Find an ID card (or another ``shape``) in image bytes or RGB pixels; its corners."""
    pixels = decoded_pixels(image) if isinstance(image, bytes) else image
    return find_corners(pixels, shape)
