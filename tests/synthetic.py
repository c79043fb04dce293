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


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(rng: random.Random, region: str = "440101") -> str:
    """A Unified Social Credit Code with a valid check digit (python-stdnum computes it)."""
    from stdnum.cn import uscc as stdnum_uscc

    organisation = "".join(rng.choice(USCC_ALPHABET[:10] + "ABCDEFGH") for _ in range(8))
    body = "91" + region + organisation + rng.choice("0123456789X")
    body = body[:17]
    return body + stdnum_uscc.calc_check_digit(body)


COMPANY_WORDS = ("示例", "星河", "远航", "青松", "华信", "嘉禾", "明德", "宏图")


def organization_body(
    rng: random.Random,
    *,
    reference: str = "org-1",
    agent: bool = True,
    face_match: bool = False,
    name: str | None = None,
    representative: str | None = None,
) -> dict:
    """Return a valid ``POST /v1/verifications`` body for an organization."""
    purposes = ["real_name_authentication", "bank_account_verification"]
    if face_match:
        purposes.append("facial_recognition")
    company = name or f"广州{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS)}科技有限公司"
    organization = {
        "name": company,
        "uscc": uscc(rng),
        "entity_kind": "enterprise",
        "certificate_type": "business_license",
        "legal_representative": {
            "name": representative or chinese_name(rng),
            "id_number": id_number(rng),
            "phone": mobile(rng),
        },
        "bank_account": {
            "bank_name": "中国工商银行广州天河支行",
            "account_number": "".join(str(rng.randrange(10)) for _ in range(19)),
        },
        "contact": {"name": chinese_name(rng), "phone": mobile(rng), "email": "ops@example.cn"},
    }
    if agent:
        organization["agent"] = {
            "name": chinese_name(rng),
            "id_number": id_number(rng),
            "phone": mobile(rng),
        }
    return {
        "type": "organization",
        "reference": reference,
        "consent": {"granted": True, "policy_version": "2025-02-24", "purposes": purposes},
        "organization": organization,
        "options": {"face_match": face_match},
    }


def organization_documents(
    body: dict, *, sealed: bool = True, printed_uscc: str | None = None, photo: bool = False
) -> dict[str, bytes]:
    """JPEGs of every document an organization body needs: the certificate (a business
    licence with the body's name, USCC and representative), the representative's and the
    agent's ID cards, the power of attorney (with a red seal unless ``sealed`` is False) and
    the representative's photo. Pages are flat scans, or phone photos with ``photo``."""
    from tests import cards

    cards.require_font()
    org = body["organization"]
    rep = org["legal_representative"]
    documents: dict[str, bytes] = {}
    licence = cards.business_licence(
        name=org["name"], uscc=printed_uscc or org["uscc"], representative=rep["name"], seed=3
    )
    holder = cards.person(21, face="obama_1", name=rep["name"], id_number=rep["id_number"])
    documents["certificate"] = _page_jpeg(cards, licence, photo)
    documents.update(_id_card_pair(cards, holder, "legal_rep_id_card", seed=21))
    if body["options"].get("face_match"):
        documents["legal_rep_photo"] = face_photo("obama_2.jpg")
    agent = org.get("agent")
    if agent:
        attorney = cards.power_of_attorney(org["name"], agent["name"], sealed=sealed, seed=5)
        documents["power_of_attorney"] = _page_jpeg(cards, attorney, photo)
        acting = cards.person(22, face="biden_1", name=agent["name"], id_number=agent["id_number"])
        documents.update(_id_card_pair(cards, acting, "agent_id_card", seed=22))
    return documents


def _page_jpeg(cards, sheet, photo: bool) -> bytes:  # noqa: ANN001
    """A page as a flat scan, or as a phone photo on a desk."""
    if photo:
        return cards.to_jpeg(cards.page_photo(sheet, angle=3, scale=0.8)[0])
    return cards.to_jpeg(sheet)


def _id_card_pair(cards, holder, prefix: str, seed: int) -> dict[str, bytes]:  # noqa: ANN001
    """JPEG photos of both sides of a person's ID card, under ``<prefix>_front|back``."""
    front = cards.photo_of(cards.card_front(holder, cards.faces_folder()), angle=4, seed=seed)
    back = cards.photo_of(cards.card_back(holder), angle=-3, seed=seed + 1)
    return {f"{prefix}_front": cards.to_jpeg(front), f"{prefix}_back": cards.to_jpeg(back)}
