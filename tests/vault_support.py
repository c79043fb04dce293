"""Shared by the vault's tests: synthetic people, a frozen clock, a vault built without Flask.

Every personal value here is synthetic: resident ID numbers with a valid check character
built from real area codes, UnionPay-style card numbers with a valid Luhn digit, mobiles
of the 1[3-9] form, and names drawn from a short list. All come from a seeded generator.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from stdnum import luhn
from stdnum.cn import ric

from kyc_service.bootstrap import system_clock
from kyc_service.domain.ids import new_id
from kyc_service.persistence.database import make_engine, make_session_factory
from kyc_service.persistence.tables import TenantRow
from kyc_service.persistence.unit_of_work import SqlUnitOfWork as UnitOfWork
from kyc_service.ports import KeyWrapper
from kyc_service.vault import KeyStore, RetentionPolicy, SubjectRef, Vault

AREA_CODES = ("110101", "110105", "110106", "110108", "120101", "120104", "310104", "310110")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "建华",
    "桂英",
    "志强",
    "海燕",
)
FIRST_BIRTH, LAST_BIRTH = date(1950, 1, 1), date(2005, 12, 31)
WINDOW = 7


@dataclass(frozen=True)
class Person:
    """One synthetic data subject."""

    name: str
    id_number: str
    phone: str
    bank_card: str

    def fields(self) -> dict[str, str]:
        """The personal fields, by name."""
        return {
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone,
            "bank_card": self.bank_card,
        }

    def numbers(self) -> tuple[str, ...]:
        """The numbers that must never leak, not even a 7-digit piece of them."""
        return (self.id_number, self.phone, self.bank_card)


def make_id_number(rng: random.Random, check: str | None = None) -> str:
    """A valid resident ID number (optionally with the given check character)."""
    span = (LAST_BIRTH - FIRST_BIRTH).days
    while True:
        birth = FIRST_BIRTH + timedelta(days=rng.randrange(span + 1))
        body = rng.choice(AREA_CODES) + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        assert ric.is_valid(number), number
        if check is None or number.endswith(check):
            return number


def make_bank_card(rng: random.Random) -> str:
    """A 19-digit UnionPay-style card number with a valid Luhn check digit."""
    body = "62" + "".join(rng.choice("0123456789") for _ in range(16))
    card = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(card)
    return card


def make_phone(rng: random.Random) -> str:
    """A mainland mobile number."""
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def make_name(rng: random.Random) -> str:
    """A Chinese name from the short lists."""
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def make_people(count: int, seed: int) -> list[Person]:
    """``count`` synthetic people with distinct ID numbers, cards and phones."""
    rng = random.Random(seed)
    people: list[Person] = []
    seen: set[str] = set()
    while len(people) < count:
        person = Person(make_name(rng), make_id_number(rng), make_phone(rng), make_bank_card(rng))
        if seen.isdisjoint(person.numbers()):
            seen.update(person.numbers())
            people.append(person)
    return people


def digit_windows(values: Iterable[str], width: int = WINDOW) -> set[str]:
    """Every run of ``width`` consecutive digits inside the values."""
    windows: set[str] = set()
    for value in values:
        for run in re.findall(r"[0-9]+", value):
            windows.update(run[i : i + width] for i in range(len(run) - width + 1))
    return windows


def leaked_windows(text: str, windows: set[str], width: int = WINDOW) -> list[str]:
    """The digit runs of ``text`` (``width`` or longer) that contain one of ``windows``."""
    leaks = []
    for match in re.finditer(rf"[0-9]{{{width},}}", text):
        run = match.group()
        if any(run[i : i + width] in windows for i in range(len(run) - width + 1)):
            start = max(0, match.start() - 40)
            leaks.append(text[start : match.end() + 40])
    return leaks


class FrozenClock:
    """A clock that stands still until moved."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> datetime:
        """Move the clock forward by ``timedelta(**delta)``; return the new time."""
        self.now += timedelta(**delta)
        return self.now


def kek_document(*kek_ids: str, primary: str | None = None) -> dict[str, Any]:
    """A key document with fresh random KEKs."""
    keys = {kek_id: base64.b64encode(secrets.token_bytes(32)).decode() for kek_id in kek_ids}
    return {"primary": primary or kek_ids[-1], "keys": keys}


@dataclass
class Rig:
    """A vault on a data database and a key store, built without Flask."""

    engine: Engine
    keystore_engine: Engine
    vault: Vault
    sessions: sessionmaker[Session]
    tenant_id: str

    def uow(self) -> UnitOfWork:
        """A unit of work on the data database."""
        return UnitOfWork(self.sessions)

    def ref(self, reference: str, mode: str = "test", tenant_id: str | None = None) -> SubjectRef:
        """The subject ``reference`` of this rig's tenant (or another one)."""
        return SubjectRef(tenant_id or self.tenant_id, mode, reference)

    def with_wrapper(self, wrapper: KeyWrapper) -> Vault:
        """Another vault on the same databases, with another key wrapper."""
        keystore = KeyStore(self.keystore_engine, wrapper, self.vault.clock)
        return Vault(keystore, self.vault.clock, self.vault.retention)

    def close(self) -> None:
        """Dispose of both engines."""
        self.engine.dispose()
        self.keystore_engine.dispose()


def add_tenant(sessions: sessionmaker[Session], name: str) -> str:
    """Insert a tenant; return its id."""
    tenant_id = new_id("ten")
    with sessions() as session:
        session.add(TenantRow(id=tenant_id, name=name, created_at=datetime.now(UTC)))
        session.commit()
    return tenant_id


def build_rig(
    data_url: str,
    keystore_url: str,
    wrapper: KeyWrapper,
    clock: Callable[[], datetime] = system_clock,
    retention: RetentionPolicy | None = None,
) -> Rig:
    """A vault on migrated databases, with one tenant (``acme``)."""
    engine = make_engine(data_url)
    keystore_engine = make_engine(keystore_url)
    sessions = make_session_factory(engine)
    vault = Vault(KeyStore(keystore_engine, wrapper, clock), clock, retention)
    return Rig(engine, keystore_engine, vault, sessions, add_tenant(sessions, "acme"))
