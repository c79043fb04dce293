"""What a verifier port answers: small frozen results, never a vendor's payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    """The upstream confirmed the submitted data."""

    billable: bool = True
    score: float | None = None


@dataclass(frozen=True)
class Mismatch:
    """The upstream definitely disagrees; ``code`` is the check's failure code."""

    code: str
    billable: bool = True
    score: float | None = None


@dataclass(frozen=True)
class NotFound:
    """The upstream has no record of the subject."""

    code: str = "id_not_found"
    billable: bool = True


CheckOutcome = Match | Mismatch | NotFound


@dataclass(frozen=True)
class Payment:
    """A micro-deposit paid into an account: its amount in CNY (``"0.37"``)."""

    amount: str
    billable: bool = True


@dataclass(frozen=True)
class TextLine:
    """One line of text an OCR engine read, with its confidence in 0–1."""

    text: str
    confidence: float


@dataclass(frozen=True)
class FaceComparison:
    """How alike two faces are (``similarity`` in 0–1), or why none could be compared.

    ``problem`` is a failure code such as ``no_face_found`` or ``multiple_faces``;
    when it is set, ``similarity`` is None.
    """

    similarity: float | None
    problem: str | None = None


@dataclass(frozen=True)
class FaceBox:
    """Where a face is in an image, in pixels: left, top, right, bottom."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        """The box's width in pixels."""
        return self.right - self.left

    @property
    def height(self) -> int:
        """The box's height in pixels."""
        return self.bottom - self.top


@dataclass(frozen=True)
class WebhookTarget:
    """A checked webhook URL: where to connect (``address``, pinned) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class FoundDocument:
    """A document found in an image: its corners (TL, TR, BR, BL), how, and its copies.

    ``rectified`` is the document at its canonical size (RGB pixels); ``native`` is the
    same warp at the size the document has in the image, never larger (for quality
    measures). ``method`` is ``photo``, ``scan_margin`` or ``scan``.
    """

    corners: list[tuple[float, float]]
    method: str
    rectified: Any
    native: Any


@dataclass(frozen=True)
class SealFinding:
    """Whether a red official seal (公章) was found on a page, how surely, and where.

    ``confidence`` is in 0–1; ``box`` is the seal's left, top, right and bottom in the
    image's pixels (the most seal-like mark's when it is doubtful and not ``found``), or
    None when nothing seal-like was found.
    """

    found: bool
    confidence: float
    box: tuple[int, int, int, int] | None = None
