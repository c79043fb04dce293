"""The shapes of the documents people upload, and where things are on an ID card.

A :class:`DocumentShape` is what the document finder looks for (its side ratio) and what it
rectifies to (its canonical size in pixels). Zones are boxes on the rectified ID card, as
shares of its width and height (left, top, right, bottom), from the layout of the
second-generation resident ID card (GB 19159): the name top left, the number along the
bottom, the portrait on the right of the front.
"""

from __future__ import annotations

from dataclasses import dataclass

Zone = tuple[float, float, float, float]
"""A box on a rectified document: left, top, right, bottom, as shares of its size."""


@dataclass(frozen=True)
class DocumentShape:
    """A kind of document by its physical size: ``long_mm`` × ``short_mm``.

    ``canonical_long`` is the long side of the rectified copy in pixels. ``landscape`` says
    how the document is normally held (an ID card is landscape; a page may be either, and
    the finder keeps the orientation it sees when ``either_orientation`` is set).
    """

    name: str
    long_mm: float
    short_mm: float
    canonical_long: int
    landscape: bool = True
    either_orientation: bool = False

    @property
    def aspect(self) -> float:
        """The long side over the short side."""
        return self.long_mm / self.short_mm

    def canonical_size(self, landscape: bool | None = None) -> tuple[int, int]:
        """Width and height of the rectified copy, landscape or portrait."""
        short = round(self.canonical_long / self.aspect)
        wide = self.landscape if landscape is None else landscape
        return (self.canonical_long, short) if wide else (short, self.canonical_long)


ID_CARD = DocumentShape("id_card", 85.6, 54.0, 856)
"""An ID-1 card (85.6 × 54 mm), rectified to 856 × 540 (10 px/mm)."""
A4 = DocumentShape("a4", 297.0, 210.0, 1754, landscape=False, either_orientation=True)
"""An A4 page, portrait or landscape, rectified at 150 dpi."""
A3 = DocumentShape("a3", 420.0, 297.0, 2480, landscape=False, either_orientation=True)
"""An A3 page, portrait or landscape, rectified at 150 dpi."""

ID_CARD_NAME_ZONE: Zone = (0.03, 0.05, 0.64, 0.22)
"""The 姓名 line of the front."""
ID_CARD_NUMBER_ZONE: Zone = (0.03, 0.76, 0.98, 0.96)
"""The 公民身份号码 line along the bottom of the front."""
ID_CARD_PORTRAIT_ZONE: Zone = (0.58, 0.04, 0.99, 0.78)
"""The holder's photo on the right of the front."""
ID_CARD_TEXT_ZONE: Zone = (0.03, 0.05, 0.64, 0.96)
"""The printed fields of the front (name to number), left of the portrait."""
ID_CARD_BACK_TEXT_ZONE: Zone = (0.15, 0.62, 0.97, 0.96)
"""The issuing authority and validity lines of the back."""


def zone_box(zone: Zone, width: int, height: int) -> tuple[int, int, int, int]:
    """Return a zone in pixels (left, top, right, bottom) on an image of that size."""
    left, top, right, bottom = zone
    return (round(left * width), round(top * height), round(right * width), round(bottom * height))
