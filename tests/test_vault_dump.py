"""Issue 3: a dump of either database, and the logs, never hold plain personal data.

1,000 synthetic subjects go through the vault on PostgreSQL (data and key store in
databases of their own); some are opened (audited), some looked up, some erased. Then both
databases are dumped with ``pg_dump``, and the dumps, every log record of the run and every
SQL statement sent (with its parameters) are searched for the values, and for any 7-digit
piece of an ID, card or phone number.
"""

from __future__ import annotations

import logging
import random
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, func, select
from sqlalchemy.engine import make_url

from adapters.local.key_file import LocalKeyWrapper
from kyc_service.domain.ids import new_id
from kyc_service.persistence.tables import AuditEventRow, VaultDocumentRow, VaultFieldRow
from tests.conftest import missing
from tests.vault_support import (
    Person,
    build_rig,
    digit_windows,
    kek_document,
    leaked_windows,
    make_people,
)

PEOPLE = 1000
BATCH = 100
OPENED = range(0, PEOPLE, 20)
ERASED = range(7, PEOPLE, 100)
PURPOSES = ["identity_verification"]
INDEXED = {"id_number": "id_number", "bank_card": "bank_card"}


class Capture(logging.Handler):
    """Keeps every record's full text: message, exception and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()}")
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            self.lines.append(record.stack_info)


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Everything logged meanwhile, at DEBUG.

    The handler goes first on the root logger, so it sees each record before the service's
    own handler masks it in place.
    """
    root = logging.getLogger()
    level = root.level
    handler = Capture()
    root.handlers.insert(0, handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@contextmanager
def captured_statements(*engines: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the engines meanwhile, with its parameters."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        sent.append(f"{statement} {parameters!r}")

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def pg_dump(url: str) -> str:
    """The plain-SQL dump of one database."""
    program = shutil.which("pg_dump") or missing("pg_dump is not installed")
    parsed = make_url(url)
    command = [program, "--no-owner", "-h", parsed.host or "127.0.0.1"]
    command += ["-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    result = subprocess.run(
        [*command, parsed.database or ""], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def document(rng: random.Random, person: Person) -> bytes:
    """A small "image": random bytes with the plain ID number, phone and name inside.

    Ciphertext is stored as digit-free text, so no run of digits in a dump can come from a
    ciphertext by chance: any 7-digit window found is a leak.
    """
    return b"".join(
        (
            rng.randbytes(48),
            person.id_number.encode(),
            rng.randbytes(16),
            person.phone.encode(),
            person.name.encode(),
            rng.randbytes(16),
        )
    )


CJK = re.compile(r"[\u3400-\u9fff]+")
ESCAPED = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
LONG_NUMBER = re.compile(r"[0-9]{11,}[Xx]?")


def plain_values(text: str, people: list[Person]) -> list[str]:
    """The people's values found whole in ``text`` (names also as JSON ``\\u`` escapes)."""
    names = {person.name for person in people}
    numbers = {value for person in people for value in person.numbers()}
    found = [n for run in LONG_NUMBER.findall(text) for n in numbers if n.upper() in run.upper()]
    chinese = CJK.findall(text) + [
        escaped.encode().decode("unicode_escape") for escaped in ESCAPED.findall(text)
    ]
    found += [name for run in chinese for name in names if name in run]
    return found


def test_no_plain_personal_data_in_dumps_or_logs(
    postgres_url: str, postgres_keystore_url: str
) -> None:
    shutil.which("pg_dump") or missing("pg_dump is not installed")
    started = time.perf_counter()
    people = make_people(PEOPLE, seed=3)
    wrapper = LocalKeyWrapper.from_settings({"key": kek_document("kek-1")})
    rig = build_rig(postgres_url, postgres_keystore_url, wrapper)
    rng = random.Random(4)
    seeded: list[tuple] = []
    try:
        engines = (rig.engine, rig.keystore_engine)
        with captured_logs() as logs, captured_statements(*engines) as statements:
            logging.getLogger("kyc_service.vault").debug("seeding %d subjects", PEOPLE)
            for start in range(0, PEOPLE, BATCH):
                with rig.sessions() as session:
                    for number in range(start, start + BATCH):
                        person, ref = people[number], rig.ref(f"cust-{number:04d}")
                        verification, image = new_id("ver"), document(rng, person)
                        rig.vault.put_fields(
                            session, ref, verification, person.fields(), PURPOSES, INDEXED
                        )
                        document_id = rig.vault.put_document(
                            session,
                            ref,
                            verification,
                            "id_card_front",
                            image,
                            "image/png",
                            PURPOSES,
                        )
                        seeded.append((ref, verification, document_id, image))
                    session.commit()
            with rig.sessions() as session:
                for number in OPENED:
                    ref, verification, document_id, image = seeded[number]
                    person = people[number]
                    careless = f"caller gave {person.id_number} and {person.phone}"
                    opened = rig.vault.get_fields(
                        session,
                        ref,
                        verification,
                        actor="key_ops",
                        action="subject.viewed",
                        reason=careless,
                    )
                    assert opened == person.fields()
                    assert rig.vault.get_document(
                        session, ref, document_id, actor="key_ops", action="document.viewed"
                    ) == (image, "image/png")
                    found = rig.vault.find_references(
                        session, rig.tenant_id, "test", "bank_card", person.bank_card
                    )
                    assert found == [ref.reference]
                for number in ERASED:
                    rig.vault.erase(
                        session,
                        seeded[number][0],
                        actor="key_ops",
                        reason=f"erasure requested by {people[number].phone}",
                    )
                session.commit()
                fields = session.scalar(select(func.count()).select_from(VaultFieldRow))
                documents = session.scalar(select(func.count()).select_from(VaultDocumentRow))
                events = session.scalar(select(func.count()).select_from(AuditEventRow))
                assert rig.vault.audit.verify(session) is None
        seeded_at = time.perf_counter()
        dumps = {"data": pg_dump(postgres_url), "key store": pg_dump(postgres_keystore_url)}
    finally:
        rig.close()
    dumped_at = time.perf_counter()

    kept = PEOPLE - len(ERASED)
    assert (fields, documents, events) == (4 * kept, kept, 2 * len(OPENED) + len(ERASED))
    # The dumps and logs hold what they should, so finding nothing in them means something.
    assert dumps["data"].count("v1.") >= 5 * kept
    assert dumps["key store"].count("subject") >= kept
    assert logs[0] == "kyc_service.vault seeding 1000 subjects"
    assert sum("INSERT INTO vault_fields" in line for line in statements) >= PEOPLE // BATCH
    windows = digit_windows(value for person in people for value in person.numbers())
    assert leaked_windows(f"id={people[0].id_number[2:9]}", windows)
    assert plain_values(f"'{people[0].name}' {people[0].bank_card}", people)

    texts = {**dumps, "logs": "\n".join(logs), "SQL sent": "\n".join(statements)}
    for label, text in texts.items():
        assert plain_values(text, people) == [], f"plain personal data in the {label}"
        assert leaked_windows(text, windows) == [], f"a 7-digit piece of a number in the {label}"
    print(
        f"seed+open+erase {seeded_at - started:.1f}s, dumps {dumped_at - seeded_at:.1f}s, "
        f"scan {time.perf_counter() - dumped_at:.1f}s; "
        + ", ".join(f"{label} {len(text) // 1024} KiB" for label, text in texts.items())
    )
