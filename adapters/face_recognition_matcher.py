"""Face matching with ``face_recognition`` (dlib's HOG detector and ResNet encoder).

The models load once per process, on first use. Encodings stay in memory only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Self

import numpy as np

from adapters.imaging import rgb_pixels
from kyc_service.domain.results import FaceComparison
from kyc_service.ports import FaceMatcher

_load_lock = threading.Lock()
_library: Any = None


def face_library() -> Any:
    """Import ``face_recognition`` (and load its models) once per process."""
    global _library
    with _load_lock:
        if _library is None:
            import face_recognition
            from PIL import ImageFile

            ImageFile.LOAD_TRUNCATED_IMAGES = False  # face_recognition turns it on process-wide
            _library = face_recognition
    return _library


def similarity_from_distance(distance: float) -> float:
    """Map dlib's embedding distance (0 alike … ~1.2 unlike) onto a similarity in 0–1."""
    return float(min(1.0, max(0.0, 1.0 - distance)))


class FaceRecognitionMatcher(FaceMatcher):
    """Finds faces with the HOG detector and compares 128-d encodings."""

    def __init__(self, upsample: int = 1) -> None:
        self.upsample = upsample

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """``KYC_FACE_UPSAMPLE`` (default 1) sets how far the detector upsamples."""
        return cls(upsample=int(settings.get("upsample", 1)))

    def _locations(self, pixels: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Return the face boxes in ``pixels``."""
        return face_library().face_locations(pixels, number_of_times_to_upsample=self.upsample)

    def count_faces(self, image: bytes) -> int:
        """Return how many faces ``image`` shows."""
        return len(self._locations(rgb_pixels(image)))

    def compare(self, reference_image: bytes, probe_image: bytes) -> FaceComparison:
        """Compare the largest face of the reference with the single face of the probe."""
        library = face_library()
        reference = rgb_pixels(reference_image)
        probe = rgb_pixels(probe_image)
        reference_boxes = self._locations(reference)
        probe_boxes = self._locations(probe)
        if not reference_boxes or not probe_boxes:
            return FaceComparison(None, "no_face_found")
        if len(probe_boxes) > 1:
            return FaceComparison(None, "multiple_faces")
        largest = max(reference_boxes, key=lambda box: (box[2] - box[0]) * (box[1] - box[3]))
        known = library.face_encodings(reference, [largest])[0]
        candidate = library.face_encodings(probe, probe_boxes)[0]
        distance = float(library.face_distance([known], candidate)[0])
        return FaceComparison(similarity_from_distance(distance))
