"""Made-up people and organizations: names, addresses and identifiers with valid check digits."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum import luhn
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

DISTRICTS = {
    "110101": ("北京市", "东城区"),
    "110105": ("北京市", "朝阳区"),
    "110108": ("北京市", "海淀区"),
    "310104": ("上海市", "徐汇区"),
}
STREETS = ("建国路", "和平街", "人民路", "长安街", "中山路", "解放路", "文化路", "新华街")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
FACE_BOXES = {
    "biden_1": (0.597, 0.182, 0.331),
    "biden_2": (0.568, 0.440, 0.385),
    "harington_1": (0.623, 0.291, 0.107),
    "harington_2": (0.597, 0.511, 0.295),
    "lacamoire_1": (0.501, 0.305, 0.367),
    "leslie_1": (0.586, 0.307, 0.209),
    "leslie_2": (0.528, 0.347, 0.463),
    "obama_1": (0.531, 0.242, 0.295),
    "obama_2": (0.486, 0.353, 0.427),
    "obama_3": (0.553, 0.188, 0.224),
}
"""Where the face is in each face photo (the tests' shared set; the package ships three):
centre x, centre y and width, as shares of the photo's width and height (measured once
with a face detector; used to crop the portrait)."""
PORTRAIT_FACES = tuple(FACE_BOXES)
FEMALE_FACES = ("leslie",)
"""The face photos of women (the others show men)."""
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Person:
    """What a card says about its holder, and which face photo shows them."""

    name: str
    sex: str
    born: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    face: str = "obama_1"
    ethnicity: str = "汉"


def id_number(area: str, born: date, sequence: int, male: bool) -> str:
    """Return a valid 18-character resident ID number (the 17th digit is odd for men)."""
    body = f"{area}{born:%Y%m%d}{sequence % 100:02d}{_sex_digit(sequence, male)}"
    number = body + ric.calc_check_digit(body + "0")  # the last character is ignored
    if not ric.is_valid(number):
        raise ValueError(f"no valid ID number for area {area} and {born}")
    return number


def _sex_digit(sequence: int, male: bool) -> int:
    """Return a digit whose parity tells the sex: odd for men, even for women."""
    digit = sequence % 10
    return digit if (digit % 2 == 1) == male else (digit + 1) % 10


def person(seed: int, face: str | None = None, **changes: object) -> Person:
    """Return a made-up person, the same for the same ``seed``; ``changes`` override fields."""
    rng = random.Random(seed)
    area = rng.choice(sorted(DISTRICTS))
    city, district = DISTRICTS[area]
    face = face or PORTRAIT_FACES[seed % len(PORTRAIT_FACES)]
    male = not face.startswith(FEMALE_FACES)
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 365 * 49))
    street = f"{rng.choice(STREETS)}{rng.randint(1, 200)}号{rng.randint(1, 20)}栋"
    issued = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 365 * 9))
    fields = {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        "sex": "男" if male else "女",
        "born": born,
        "address": f"{city}{district}{street}{rng.randint(1, 30)}0{rng.randint(1, 4)}室",
        "id_number": id_number(area, born, rng.randrange(1000), male),
        "authority": f"{city}公安局{district}分局",
        "valid_from": issued,
        "face": face,
    }
    fields.update(changes)
    return Person(**fields)  # type: ignore[arg-type]


def uscc(seed: int, region: str = "110105") -> str:
    """Return a made-up unified social credit code (统一社会信用代码) with a valid check digit."""
    rng = random.Random(seed)
    organisation = "".join(rng.choice(USCC_ALPHABET[:10] + "ABCDEFGH") for _ in range(9))
    body = "91" + region + organisation
    return body + stdnum_uscc.calc_check_digit(body)


def bank_card_number(seed: int, length: int = 19) -> str:
    """Return a Luhn-valid UnionPay card number (BIN 62) of ``length`` digits."""
    rng = random.Random(seed)
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(length - 3))
    return body + luhn.calc_check_digit(body)


def account_number(seed: int, length: int = 19) -> str:
    """Return a made-up corporate bank account number of ``length`` digits."""
    rng = random.Random(seed)
    return str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
