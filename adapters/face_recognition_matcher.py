"""Face matching with ``face_recognition`` (dlib's HOG detector and ResNet encoder).

The fast path, chosen by measurement on the shared face photos (see ``benchmarks/faces.py``):

- Faces are *found* on a reduced copy (long side :data:`DETECT_LONG_SIDE`) without
  upsampling; only when that finds none is the copy searched again with one upsampling, so
  a small face (an ID card's portrait in a wide photo) is still found. The boxes are then
  mapped back to the full-resolution image.
- Each face is *encoded* from the full-resolution image at its mapped box (5-point
  landmarks, one jitter). dlib cuts its 150 × 150 chip straight from the full image in a
  few milliseconds; cropping and resizing the face to 150–200 px first was measured too: it
  cost more (10–17 ms on large photos) and moved the encodings further from the naive
  full-resolution ones (mean distance 0.069 against 0.048).

The models load once per process. Encodings live in local variables only: they are never
stored on the matcher, logged or written anywhere.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from typing import Any, Self

import numpy as np
from PIL import Image

from adapters.imaging import reduced_copy, upright_rgb
from kyc_service.domain.results import FaceBox, FaceComparison
from kyc_service.ports import FaceMatcher

Box = tuple[int, int, int, int]
"""A face box as face_recognition gives it: (top, right, bottom, left) in pixels."""

DETECT_LONG_SIDE = 640
"""Long side of the copy the detector searches. At 640 px without upsampling it finds faces
from about 9 % of the long side (4 % on the upsampled retry); 480 px would miss those under
11 %, and 640 px with upsampling costs 3× the CPU for no gain on these photos."""

LANDMARKS = "small"
"""dlib's 5-point landmarks: the 68-point model cost ~40 ms more per face, no better."""

_load_lock = threading.Lock()
_model_lock = threading.Lock()
"""dlib's models are not safe to run from two threads at once: one inference at a time per
process (a threaded worker serves several requests)."""
_library: Any = None


def face_library() -> Any:
    """Import ``face_recognition`` (and load its models) once per process."""
    global _library
    with _load_lock:
        if _library is None:
            from PIL import ImageFile

            with warnings.catch_warnings():  # its model package imports pkg_resources
                warnings.filterwarnings("ignore", category=UserWarning, module="face_recognition")
                import face_recognition

            ImageFile.LOAD_TRUNCATED_IMAGES = False  # face_recognition turns it on process-wide
            _library = face_recognition
    return _library


def similarity_from_distance(distance: float) -> float:
    """Map dlib's embedding distance (0 alike … ~1.2 unlike) onto a similarity in 0–1."""
    return float(min(1.0, max(0.0, 1.0 - distance)))


def box_area(box: Box) -> int:
    """Return the area of a face box in pixels."""
    top, right, bottom, left = box
    return (bottom - top) * (right - left)


def scale_box(box: Box, reduced: Image.Image, full: Image.Image) -> Box:
    """Map a box found on ``reduced`` onto ``full``, kept inside the full image."""
    sx, sy = full.width / reduced.width, full.height / reduced.height
    top, right, bottom, left = box
    return (
        max(0, round(top * sy)),
        min(full.width, round(right * sx)),
        min(full.height, round(bottom * sy)),
        max(0, round(left * sx)),
    )


class FaceRecognitionMatcher(FaceMatcher):
    """Finds faces with the HOG detector on a reduced copy; compares 128-d encodings."""

    def __init__(self, upsample: int = 0, detect_long_side: int = DETECT_LONG_SIDE) -> None:
        self.upsample = upsample
        self.detect_long_side = detect_long_side

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """``KYC_FACE_UPSAMPLE`` (default 0) and ``KYC_FACE_DETECT_SIDE`` (default 640)."""
        return cls(
            upsample=int(settings.get("upsample", 0)),
            detect_long_side=int(settings.get("detect_side", DETECT_LONG_SIDE)),
        )

    def _boxes(self, image: Image.Image, small_faces: bool = True) -> list[Box]:
        """Find the faces of ``image`` on its reduced copy; return full-resolution boxes."""
        reduced = reduced_copy(image, self.detect_long_side)
        pixels = np.asarray(reduced)
        locate = face_library().face_locations
        with _model_lock:
            boxes = locate(pixels, number_of_times_to_upsample=self.upsample)
            if not boxes and small_faces:
                boxes = locate(pixels, number_of_times_to_upsample=self.upsample + 1)
        return [scale_box(box, reduced, image) for box in boxes]

    def find_faces(self, image: bytes | np.ndarray, small_faces: bool = True) -> list[FaceBox]:
        """Return the box of every face ``image`` shows, largest first.

        ``small_faces`` False skips the upsampled second look (a card's portrait is large).
        """
        found = self._boxes(upright_rgb(image), small_faces)
        boxes = sorted(found, key=box_area, reverse=True)
        return [FaceBox(left, top, right, bottom) for top, right, bottom, left in boxes]

    def warm_up(self) -> None:
        """Load the detector and encoder models, and run them once."""
        blank = np.zeros((160, 160, 3), dtype=np.uint8)
        face_library().face_locations(blank)
        face_library().face_encodings(blank, [(20, 140, 140, 20)], model=LANDMARKS)

    def _encoding(self, image: Image.Image, box: Box) -> np.ndarray:
        """Encode the face at ``box`` from the full-resolution ``image`` (memory only)."""
        with _model_lock:
            encodings = face_library().face_encodings(
                np.asarray(image), [box], num_jitters=1, model=LANDMARKS
            )
        return encodings[0]

    def compare(
        self,
        reference_image: bytes | np.ndarray,
        probe_image: bytes | np.ndarray,
        probe_face: FaceBox | None = None,
    ) -> FaceComparison:
        """Compare the largest face of the reference with the single face of the probe.

        With ``probe_face`` (found on upload, in the same image) the probe is not searched
        again.
        """
        reference = upright_rgb(reference_image)
        reference_boxes = self._boxes(reference, small_faces=False) or self._boxes(reference)
        probe = upright_rgb(probe_image)
        if probe_face is not None:
            face = probe_face
            probe_boxes = [(face.top, face.right, face.bottom, face.left)]
        else:
            probe_boxes = self._boxes(probe)
        if not reference_boxes or not probe_boxes:
            return FaceComparison(None, "no_face_found")
        if len(probe_boxes) > 1:
            return FaceComparison(None, "multiple_faces")
        known = self._encoding(reference, max(reference_boxes, key=box_area))
        candidate = self._encoding(probe, probe_boxes[0])
        distance = float(face_library().face_distance([known], candidate)[0])
        return FaceComparison(similarity_from_distance(distance))
