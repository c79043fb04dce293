"""Synthetic, valid ``POST /v1/verifications`` bodies (fresh personal data for every request)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

from stdnum import luhn
from stdnum.cn import ric

AREA_CODES = ("110101", "110102", "110105", "110106", "110108", "120101", "310101", "310104")
"""Area codes that python-stdnum accepts for every birth year 1950–1999 (440106, 330106 and
510107, for one, are refused for some years: it checks the code existed at the birth date)."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
MOBILE_PREFIXES = ("138", "137", "186", "159")
POLICY_VERSION = "2025-02-24"


def id_number(rng: random.Random) -> str:
    """Return a valid 18-character resident ID number of an adult born 1950–1999."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    body17 = f"{rng.choice(AREA_CODES)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    # calc_check_digit takes the full 18 characters and ignores the last one.
    number = body17 + ric.calc_check_digit(body17 + "0")
    assert ric.is_valid(number), number
    return number


def card_number(rng: random.Random, length: int = 19) -> str:
    """Return a Luhn-valid UnionPay card number (BIN 62)."""
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(length - 3))
    number = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(number), number
    return number


def mobile(rng: random.Random) -> str:
    """Return a mainland mobile number (never a sandbox magic ``139000000xx`` value)."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def chinese_name(rng: random.Random) -> str:
    """Return a two- or three-character Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def individual_body(rng: random.Random, reference: str) -> dict[str, Any]:
    """Return a valid individual verification body, without face matching."""
    phone = mobile(rng)
    return {
        "type": "individual",
        "reference": reference,
        "consent": {
            "granted": True,
            "policy_version": POLICY_VERSION,
            "purposes": ["real_name_authentication", "bank_card_verification"],
        },
        "individual": {
            "name": chinese_name(rng),
            "id_number": id_number(rng),
            "phone": phone,
            "bank_card": {"number": card_number(rng), "reserved_phone": phone},
        },
        "options": {"face_match": False},
    }


def encoded_bodies(count: int, prefix: str = "bench", seed: int | None = None) -> list[bytes]:
    """Return ``count`` UTF-8 JSON bodies with references ``<prefix>-0`` … (fresh data each)."""
    rng = random.Random(seed)
    return [
        json.dumps(individual_body(rng, f"{prefix}-{index}"), ensure_ascii=False).encode()
        for index in range(count)
    ]
