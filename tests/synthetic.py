"""Synthetic personal data with valid check digits, and generated images, for tests."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from stdnum import luhn
from stdnum.cn import ric

from tests.conftest import TEST_DATA, missing

AREA_CODES = ("110101", "110105", "110108", "310104", "440106", "330106", "510107", "320102")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def id_number(rng: random.Random, born: date | None = None) -> str:
    """Return a valid 18-character resident ID number of someone born on ``born``."""
    born = born or date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    for _ in range(100):  # an area code must have existed in the birth year
        body = f"{rng.choice(AREA_CODES)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if ric.is_valid(number):
            return number
    raise AssertionError(f"no valid area code for {born}")


def card_number(rng: random.Random, length: int = 19) -> str:
    """Return a Luhn-valid UnionPay card number (BIN 62)."""
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(length - 3))
    return body + luhn.calc_check_digit(body)


def mobile(rng: random.Random) -> str:
    """Return a mainland mobile number that is not a sandbox magic value."""
    return rng.choice(["138", "137", "186", "159"]) + f"{rng.randrange(0, 10**8):08d}"


def chinese_name(rng: random.Random) -> str:
    """Return a two- or three-character Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def individual_body(
    rng: random.Random,
    *,
    reference: str = "user-1",
    face_match: bool = False,
    card: bool = True,
    **person: str,
) -> dict:
    """Return a valid ``POST /v1/verifications`` body for a person."""
    purposes = ["real_name_authentication"]
    individual = {"name": chinese_name(rng), "id_number": id_number(rng), "phone": mobile(rng)}
    if card:
        individual["bank_card"] = {"number": card_number(rng), "reserved_phone": mobile(rng)}
        purposes.append("bank_card_verification")
    if face_match:
        purposes.append("facial_recognition")
    reserved = person.pop("reserved_phone", None)
    individual.update(person)
    if reserved:
        individual["bank_card"]["reserved_phone"] = reserved
    return {
        "type": "individual",
        "reference": reference,
        "consent": {"granted": True, "policy_version": "2025-02-24", "purposes": purposes},
        "individual": individual,
        "options": {"face_match": face_match},
    }


def photo_jpeg(width: int = 800, height: int = 520, seed: int = 1) -> bytes:
    """Return a noisy, photo-like JPEG with no face."""
    generator = np.random.default_rng(seed)
    gradient = np.linspace(40, 200, width, dtype=np.float32)[None, :, None]
    pixels = gradient + generator.normal(0, 25, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def face_photo(name: str = "obama_1.jpg") -> bytes:
    """Return one of the shared face photos (fails under CI when the folder is missing)."""
    path = Path(TEST_DATA) / "faces" / name
    if not path.is_file():
        missing(f"face photos not found at {path.parent} (set KYC_TEST_DATA)")
    return path.read_bytes()


def card_photos(body: dict, face: str = "obama_1", seed: int = 0) -> dict[str, bytes]:
    """Return JPEG photos of both sides of an ID card printed with the body's name and number."""
    from tests import cards

    cards.require_font()
    person = body["individual"]
    holder = cards.person(seed, face=face, name=person["name"], id_number=person["id_number"])
    front = cards.photo_of(cards.card_front(holder, cards.faces_folder()), angle=4, seed=seed)
    back = cards.photo_of(cards.card_back(holder), angle=-3, seed=seed + 1)
    return {"id_card_front": cards.to_jpeg(front), "id_card_back": cards.to_jpeg(back)}
