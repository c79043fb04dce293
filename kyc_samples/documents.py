"""Draw the walkthrough's documents: ID cards (phone photos or flat scans), licences,
powers of attorney and the selfie, each as JPEG bytes."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

from kyc_samples.id_cards import card_back, card_front
from kyc_samples.pages import business_licence, power_of_attorney
from kyc_samples.photos import flat_scan, page_photo, photo_of, to_jpeg
from kyc_samples.scenarios import CardHolder, Page

FACES = Path(__file__).resolve().parent / "faces"
"""The face photos shipped with the package (see ``faces/LICENSE``)."""
SCAN_MARGIN = 0.03
"""A flat scan's plain border, as a share of the card's width."""


def card_images(card: CardHolder, seed: int) -> dict[str, bytes]:
    """Both sides of ``card``'s ID card, by file name: photos on a desk, or flat scans."""
    front = card_front(card.holder, FACES)
    back = card_back(card.holder)
    if card.scan:
        front = flat_scan(front, SCAN_MARGIN)[0]
        back = flat_scan(back, SCAN_MARGIN, (205, 205, 205))[0]
    else:
        front = photo_of(front, angle=4, seed=seed)
        back = photo_of(back, angle=-3, seed=seed + 1)
    return {card.front: to_jpeg(front), card.back: to_jpeg(back)}


def page_image(page: Page) -> bytes:
    """A business licence or power of attorney: a flat scan, or a photo on a desk."""
    if page.kind == "licence":
        sheet = business_licence(page.company, page.uscc, page.representative, seed=3)
    else:
        if page.agent is None:
            raise ValueError(f"{page.file}: a power of attorney names its agent")
        sheet = power_of_attorney(
            page.company,
            page.agent.name,
            sealed=page.sealed,
            seed=5,
            agent_id=page.agent.id_number,
        )
    if page.photo:
        sheet = page_photo(sheet, angle=3, scale=0.8)[0]
    return to_jpeg(sheet)


def selfie(face: str) -> bytes:
    """The selfie: a face photo shipped with the package, upright, re-encoded as JPEG."""
    with Image.open(FACES / f"{face}.jpg") as opened:
        upright = ImageOps.exif_transpose(opened).convert("RGB")
    buffer = io.BytesIO()
    upright.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def faces_licence() -> str:
    """The face photos' licence, to keep beside any copy of them."""
    return (FACES / "LICENSE").read_text(encoding="utf-8")
