"""Upload hardening: sniff, bound, decode, orient, strip and re-encode what people upload.

Finding, rectifying and measuring documents is the ``DocumentImaging`` port's
(``adapters/opencv_images``).
"""

from __future__ import annotations

from kyc_service.imaging.upload import (
    PreparedImage,
    UploadLimits,
    decoded_pixels,
    prepare_upload,
    sniff_media_type,
)

__all__ = [
    "PreparedImage",
    "UploadLimits",
    "decoded_pixels",
    "prepare_upload",
    "sniff_media_type",
]
