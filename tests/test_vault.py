"""Issue 3, the vault: sealing, tampering, the audit chain, KEK rotation, erasure and backups,
retention, blind indexes, consent withdrawal and the KEK's configuration.

The vault is built without Flask, on SQLite and on PostgreSQL (``database_url``). The
dump-and-logs scan of 1,000 subjects is in ``test_vault_dump.py``.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidTag
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from adapters.local.key_file import KeyConfigurationError, LocalKeyWrapper
from kyc_service.app import create_app
from kyc_service.bootstrap import Adapters, build_vault
from kyc_service.cli import main
from kyc_service.config import load_settings
from kyc_service.domain.access import Mode, Principal
from kyc_service.domain.ids import PREFIXES, new_id
from kyc_service.persistence.database import make_engine, make_session_factory, normalise_url
from kyc_service.persistence.keystore_tables import DataKeyRow
from kyc_service.persistence.tables import (
    AuditEventRow,
    SubjectRow,
    VaultDocumentRow,
    VaultFieldRow,
    VerificationRow,
)
from kyc_service.services.housekeeping import sweep_retention
from kyc_service.services.key_rotation import RotationReport, rotate_kek
from kyc_service.services.subjects import erase_subject
from kyc_service.vault import ChainBreak, DataUnavailable, SubjectRef, Vault
from kyc_service.vault.audit import event_hash
from kyc_service.vault.envelope import SealBroken
from tests.conftest import POSTGRES_URL, missing
from tests.vault_support import (
    FrozenClock,
    Person,
    Rig,
    add_tenant,
    build_rig,
    digit_windows,
    kek_document,
    leaked_windows,
    make_bank_card,
    make_id_number,
    make_people,
    make_phone,
)

PURPOSES = ["identity_verification"]
INDEXED = {"id_number": "id_number", "bank_card": "bank_card"}
OPS = "key_ops"


@dataclass(frozen=True)
class Held:
    """What the vault holds for one seeded subject."""

    ref: SubjectRef
    verification: str
    document_id: str
    person: Person
    image: bytes


@pytest.fixture
def clock() -> FrozenClock:
    """The vault's clock, frozen."""
    return FrozenClock()


@pytest.fixture
def rig(database_url: str, keystore_url: str, clock: FrozenClock) -> Iterator[Rig]:
    """A vault on SQLite and on PostgreSQL, with a KEK from a key document."""
    wrapper = LocalKeyWrapper.from_settings({"key": kek_document("kek-1")})
    built = build_rig(database_url, keystore_url, wrapper, clock)
    yield built
    built.close()


def seed(rig: Rig, people: list[Person], prefix: str = "cust") -> list[Held]:
    """Seal each person's fields and an ID-card image; return what is held."""
    held = []
    with rig.sessions() as session:
        for number, person in enumerate(people):
            ref, verification = rig.ref(f"{prefix}-{number}"), new_id("ver")
            image = b"\x89PNG" + secrets.token_bytes(48) + person.id_number.encode()
            rig.vault.put_fields(session, ref, verification, person.fields(), PURPOSES, INDEXED)
            document_id = rig.vault.put_document(
                session, ref, verification, "id_card_front", image, "image/png", PURPOSES
            )
            held.append(Held(ref, verification, document_id, person, image))
        session.commit()
    return held


def open_fields(rig: Rig, held: Held, vault: Vault | None = None, **audit: Any) -> dict:
    """Open a subject's fields (an audited opening), committing the audit event."""
    with rig.sessions() as session:
        opened = (vault or rig.vault).get_fields(
            session, held.ref, held.verification, actor=OPS, action="subject.viewed", **audit
        )
        session.commit()
    return opened


def open_document(rig: Rig, held: Held, vault: Vault | None = None) -> bytes:
    """Open a subject's document image, committing the audit event."""
    with rig.sessions() as session:
        image, media_type = (vault or rig.vault).get_document(
            session, held.ref, held.document_id, actor=OPS, action="document.viewed"
        )
        session.commit()
    assert media_type == "image/png"
    return image


def subject_row(session: Session, ref: SubjectRef) -> SubjectRow:
    """The subject's row, read directly."""
    return session.scalars(
        select(SubjectRow).where(
            SubjectRow.tenant_id == ref.tenant_id,
            SubjectRow.mode == ref.mode,
            SubjectRow.reference == ref.reference,
        )
    ).one()


def field_row_id(rig: Rig, held: Held, name: str) -> int:
    """The row id of one sealed field."""
    with rig.sessions() as session:
        subject = subject_row(session, held.ref)
        return session.scalars(
            select(VaultFieldRow.id).where(
                VaultFieldRow.subject_id == subject.id, VaultFieldRow.name == name
            )
        ).one()


def key_id_of(rig: Rig, ref: SubjectRef) -> str:
    """The id of the subject's data key in the key store."""
    with rig.sessions() as session:
        return subject_row(session, ref).key_id


def count(rig: Rig, model: Any, *where: Any) -> int:
    """How many rows of ``model`` match."""
    with rig.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def swap_ciphertexts(rig: Rig, model: Any, first: Any, second: Any) -> None:
    """Swap two rows' ciphertexts with plain SQL UPDATEs, behind the vault's back."""
    table = model.__table__
    with rig.engine.begin() as connection:
        one, two = (
            connection.execute(select(table.c.ciphertext).where(table.c.id == row)).scalar_one()
            for row in (first, second)
        )
        connection.execute(update(table).where(table.c.id == first).values(ciphertext=two))
        connection.execute(update(table).where(table.c.id == second).values(ciphertext=one))


def add_verification(rig: Rig, ref: SubjectRef) -> str:
    """A verification of the subject with a masked display copy; return its id."""
    now = datetime.now(UTC)
    row = VerificationRow(
        id=new_id("ver"),
        tenant_id=ref.tenant_id,
        mode=ref.mode,
        type="individual",
        reference=ref.reference,
        status="verified",
        requirements=[],
        checks=[{"name": "identity", "status": "passed", "code": None, "score": None}],
        masked={"name": "张*", "id_number": "1101**********123X"},
        options={},
        attempt=1,
        redacted=False,
        created_at=now,
        updated_at=now,
    )
    with rig.sessions() as session:
        session.add(row)
        session.commit()
    return row.id


def verification_row(rig: Rig, verification_id: str) -> VerificationRow:
    """A verification, read directly."""
    with rig.sessions() as session:
        return session.scalars(
            select(VerificationRow).where(VerificationRow.id == verification_id)
        ).one()


def audit_events(rig: Rig) -> list[AuditEventRow]:
    """Every audit event, in order."""
    with rig.sessions() as session:
        return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)).all())


def verify_chain(rig: Rig) -> ChainBreak | None:
    """Walk the audit chain."""
    with rig.sessions() as session:
        return rig.vault.audit.verify(session)


def run_threads(count_: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count_`` threads started together; re-raise the first error."""
    barrier, results, errors = threading.Barrier(count_), [None] * count_, []

    def target(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[number] = work(number)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


# -- sealing ------------------------------------------------------------------------------


def test_fields_and_documents_are_sealed_and_open_again(rig: Rig) -> None:
    (held,) = seed(rig, make_people(1, seed=11))

    assert open_fields(rig, held) == held.person.fields()
    assert open_document(rig, held) == held.image
    with rig.sessions() as session:
        rows = {row.name: row for row in session.scalars(select(VaultFieldRow)).all()}
        document = session.get(VaultDocumentRow, held.document_id)
    assert set(rows) == set(held.person.fields())
    for name, value in held.person.fields().items():
        assert rows[name].ciphertext.startswith("v1.")
        assert value not in rows[name].ciphertext
        assert (rows[name].blind_index is not None) == (name in INDEXED)
    assert held.person.id_number not in document.ciphertext
    assert held.person.id_number.encode() not in document.ciphertext.encode()

    with rig.sessions() as session:
        rig.vault.put_fields(session, held.ref, held.verification, {"phone": "13900000000"}, [])
        session.commit()
    assert open_fields(rig, held)["phone"] == "13900000000"
    assert count(rig, VaultFieldRow) == 4


def test_ids_never_hold_seven_digits_in_a_row() -> None:
    """The dump scan looks for 7-digit pieces of numbers: ids must not trip it by chance."""
    ids = [new_id(prefix) for prefix in sorted(PREFIXES) for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert [i for i in ids if re.search(r"[0-9]{7}", i)] == []


# -- tampering ----------------------------------------------------------------------------


def test_swapped_ciphertexts_do_not_open(rig: Rig) -> None:
    first, second = seed(rig, make_people(2, seed=21))
    across = (field_row_id(rig, first, "name"), field_row_id(rig, second, "name"))
    within = (field_row_id(rig, first, "id_number"), field_row_id(rig, first, "bank_card"))

    swap_ciphertexts(rig, VaultFieldRow, *across)
    for held in (first, second):
        with pytest.raises(SealBroken):
            open_fields(rig, held)
    swap_ciphertexts(rig, VaultFieldRow, *across)
    assert open_fields(rig, first) == first.person.fields()

    swap_ciphertexts(rig, VaultFieldRow, *within)
    with pytest.raises(SealBroken):
        open_fields(rig, first)
    assert open_fields(rig, second) == second.person.fields()
    swap_ciphertexts(rig, VaultFieldRow, *within)
    assert open_fields(rig, first) == first.person.fields()

    swap_ciphertexts(rig, VaultDocumentRow, first.document_id, second.document_id)
    for held in (first, second):
        with pytest.raises(SealBroken):
            open_document(rig, held)


def test_a_ciphertext_moved_to_another_verification_or_altered_does_not_open(rig: Rig) -> None:
    (held,) = seed(rig, make_people(1, seed=22))
    other = new_id("ver")
    with rig.sessions() as session:
        rig.vault.put_fields(session, held.ref, other, {"phone": "13700000000"}, PURPOSES)
        session.commit()
    name_row = field_row_id(rig, held, "name")
    with rig.engine.begin() as connection:
        connection.execute(
            update(VaultFieldRow.__table__)
            .where(VaultFieldRow.__table__.c.id == name_row)
            .values(verification_id=other)
        )
    with pytest.raises(SealBroken):
        open_fields(rig, Held(held.ref, other, "", held.person, b""))

    number_row = field_row_id(rig, held, "id_number")
    with rig.sessions() as session:
        sealed = session.get(VaultFieldRow, number_row).ciphertext
    other_letter = "b" if sealed[-3] != "b" else "c"  # another digit of the a–p alphabet
    flipped = sealed[:-3] + other_letter + sealed[-2:]
    with rig.engine.begin() as connection:
        connection.execute(
            update(VaultFieldRow.__table__)
            .where(VaultFieldRow.__table__.c.id == number_row)
            .values(ciphertext=flipped)
        )
    with pytest.raises(SealBroken):
        open_fields(rig, held)


def test_a_wrapped_data_key_moved_to_another_id_does_not_unwrap(rig: Rig) -> None:
    first, second = seed(rig, make_people(2, seed=23))
    first_key, second_key = key_id_of(rig, first.ref), key_id_of(rig, second.ref)
    keys = DataKeyRow.__table__
    with rig.keystore_engine.begin() as connection:
        connection.execute(delete(keys).where(keys.c.id == second_key))
        connection.execute(update(keys).where(keys.c.id == first_key).values(id=second_key))

    with pytest.raises(InvalidTag):
        open_fields(rig, second)
    with pytest.raises(DataUnavailable):
        open_fields(rig, first)

    with rig.keystore_engine.begin() as connection:
        connection.execute(update(keys).where(keys.c.id == second_key).values(id=first_key))
    assert open_fields(rig, first) == first.person.fields()


# -- the audit chain ----------------------------------------------------------------------


def test_every_opening_and_erasure_is_an_audit_event_without_values(rig: Rig) -> None:
    first, second = seed(rig, make_people(2, seed=31))
    assert audit_events(rig) == []

    careless = f"customer read out {first.person.id_number} and {first.person.phone}"
    open_fields(rig, first, reason=careless)
    open_document(rig, first)
    with rig.sessions() as session:
        rig.vault.withdraw(session, first.ref, ["marketing"], actor=OPS)
        rig.vault.erase(session, second.ref, actor=OPS, reason="the subject asked")
        session.commit()

    events = audit_events(rig)
    assert [(e.action, e.actor, e.reference) for e in events] == [
        ("subject.viewed", OPS, first.ref.reference),
        ("document.viewed", OPS, first.ref.reference),
        ("consent.withdrawn", OPS, first.ref.reference),
        ("subject.erased", OPS, second.ref.reference),
    ]
    assert events[0].details == {"fields": sorted(first.person.fields())}
    assert events[0].verification_id == first.verification
    assert events[1].details == {"document": first.document_id, "kind": "id_card_front"}
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 4))
    assert_linked(events)
    assert verify_chain(rig) is None

    stored = json.dumps(
        [{c.name: getattr(e, c.name) for c in AuditEventRow.__table__.columns} for e in events],
        default=str,
        ensure_ascii=False,
    )
    people = [first.person, second.person]
    for value in (v for person in people for v in person.fields().values()):
        assert value not in stored
    assert leaked_windows(stored, digit_windows(v for p in people for v in p.numbers())) == []
    assert first.person.id_number[-4:] in events[0].reason


def by_chain(events: list[AuditEventRow]) -> dict[int, list[AuditEventRow]]:
    """The events of each chain, in order."""
    chains: dict[int, list[AuditEventRow]] = {}
    for event in sorted(events, key=lambda e: e.seq):
        chains.setdefault(event.chain, []).append(event)
    return chains


def assert_linked(events: list[AuditEventRow]) -> None:
    """Each chain's events link one to the next; a subject's events all on one chain."""
    for chain in by_chain(events).values():
        assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
    subjects: dict[tuple, set[int]] = {}
    for event in events:
        subjects.setdefault((event.tenant_id, event.reference), set()).add(event.chain)
    assert all(len(chains) == 1 for chains in subjects.values()), subjects


def _event_values(event: AuditEventRow) -> dict[str, Any]:
    """An event's columns, to put it back after deleting it."""
    return {column.name: getattr(event, column.name) for column in AuditEventRow.__table__.columns}


def test_verify_names_the_edited_or_missing_event(rig: Rig, clock: FrozenClock) -> None:
    (held,) = seed(rig, make_people(1, seed=32))
    for _ in range(3):
        open_fields(rig, held, reason="periodic review")
        open_document(rig, held)
        clock.advance(seconds=1)
    events = audit_events(rig)
    assert len(events) == 6 and verify_chain(rig) is None
    table = AuditEventRow.__table__
    target = events[2]

    def edit(**values: Any) -> ChainBreak | None:
        with rig.engine.begin() as connection:
            connection.execute(update(table).where(table.c.seq == target.seq).values(**values))
        return verify_chain(rig)

    assert edit(reason="nothing to see") == ChainBreak(
        target.seq, target.id, "its content does not match its hash"
    )
    assert edit(reason=target.reason) is None
    assert edit(details={"fields": ["name"]}) == ChainBreak(
        target.seq, target.id, "its content does not match its hash"
    )
    assert edit(details=target.details) is None
    assert edit(actor="someone_else").seq == target.seq
    assert edit(actor=target.actor) is None

    # An editor who also recomputes the edited event's hash breaks the next event's link.
    with rig.sessions() as session:
        forged = session.get(AuditEventRow, target.seq)
        forged.reason = "nothing to see"
        forged_hash = event_hash(forged)
        session.rollback()
    assert edit(reason="nothing to see", hash=forged_hash) == ChainBreak(
        events[3].seq, events[3].id, "does not link to the event before it"
    )
    assert edit(reason=target.reason, hash=target.hash) is None

    with rig.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.seq == target.seq))
    assert verify_chain(rig) == ChainBreak(
        events[3].seq, events[3].id, "does not link to the event before it"
    )
    with rig.engine.begin() as connection:
        connection.execute(insert(table).values(**_event_values(target)))
    assert verify_chain(rig) is None

    with rig.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.seq == events[-1].seq))
    broken = verify_chain(rig)
    assert broken is not None and broken.problem == "the chain's last event is missing"
    assert broken.seq == events[-2].seq


def test_the_chain_holds_whatever_zone_the_clock_is_in(rig: Rig) -> None:
    beijing = timezone(timedelta(hours=8))
    rig.vault.clock = rig.vault.audit.clock = lambda: datetime.now(beijing)
    (held,) = seed(rig, make_people(1, seed=33))
    open_fields(rig, held)
    open_document(rig, held)
    assert verify_chain(rig) is None


def test_the_chain_holds_under_concurrent_openings(rig: Rig) -> None:
    """Four threads opening at once: one unbroken chain, its order the order of time (the
    time is read once the chain's head is held)."""
    held = seed(rig, make_people(4, seed=34))
    rig.vault.audit.clock = lambda: datetime.now(UTC)

    def open_many(number: int) -> int:
        for _ in range(25):
            assert open_fields(rig, held[number]) == held[number].person.fields()
        return 25

    assert run_threads(4, open_many) == [25] * 4
    events = audit_events(rig)
    assert len(events) == 100
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 100))
    assert_linked(events)
    for chain in by_chain(events).values():
        times = [e.created_at for e in chain]
        assert times == sorted(times)
    assert len(by_chain(events)) > 1  # four subjects: their events on more than one chain
    assert verify_chain(rig) is None


def test_what_a_transaction_staged_is_written_before_the_chain_head_is_taken(rig: Rig) -> None:
    """The head is held from its taking to the commit: a change staged just before an
    audited event (a consent granting withdrawn purposes again) is sent before the head is
    taken, not while it is held (the audit's statements are plain SQL: the session flushes
    before them as before ORM ones)."""
    from sqlalchemy import event

    (held,) = seed(rig, make_people(1, seed=61))
    with rig.sessions() as session:
        subject_row(session, held.ref).withdrawn_purposes = ["marketing"]
        session.commit()
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        sent.append(" ".join(statement.split()[:2]))

    event.listen(rig.engine, "before_cursor_execute", note)
    try:
        with rig.sessions() as session:
            rig.vault.consent_given(session, held.ref, ["marketing"], actor=OPS)
            session.commit()
    finally:
        event.remove(rig.engine, "before_cursor_execute", note)
    assert sent.index("UPDATE subjects") < sent.index("UPDATE audit_chain"), sent


def test_cli_audit_verify(sqlite_url: str, sqlite_keystore_url: str) -> None:
    kek = kek_document("kek-1")
    rig = build_rig(sqlite_url, sqlite_keystore_url, LocalKeyWrapper.from_settings({"key": kek}))
    try:
        (held,) = seed(rig, make_people(1, seed=35))
        for _ in range(3):
            open_fields(rig, held)
        events = audit_events(rig)
    finally:
        rig.close()
    env = {
        "KYC_DATABASE_URL": sqlite_url,
        "KYC_KEYSTORE_URL": sqlite_keystore_url,
        "KYC_KEK": json.dumps(kek),
        "KYC_KEK_FILE": None,
    }

    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output

    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        table = AuditEventRow.__table__
        connection.execute(update(table).where(table.c.seq == events[1].seq).values(reason="x"))
    engine.dispose()
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code == 1, result.output
    assert f"broken at event {events[1].seq} ({events[1].id})" in result.output


# -- KEK rotation -------------------------------------------------------------------------


def test_rotation_rewraps_every_data_key_and_retires_the_old_kek(
    database_url: str, keystore_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "kek.json"
    path.write_text(json.dumps(kek_document("kek-1")))
    old_document = path.read_text()
    rig = build_rig(database_url, keystore_url, LocalKeyWrapper.from_settings({"file": path}))
    try:
        _rotate_and_reopen(rig, path, old_document)
    finally:
        rig.close()


def _rotate_and_reopen(rig: Rig, path: Path, old_document: str) -> None:
    """100 subjects × 100 fields under kek-1; rotate; everything opens under kek-2 only."""
    people, rng = make_people(100, seed=41), random.Random(42)
    held: dict[SubjectRef, tuple[str, dict[str, str]]] = {}
    for start in range(0, 100, 25):
        with rig.sessions() as session:
            for number in range(start, start + 25):
                ref, verification = rig.ref(f"rot-{number:03d}"), new_id("ver")
                fields = {"id_number": people[number].id_number}
                fields |= {
                    f"note_{n:02d}": f"{number}/{n}/{rng.randbytes(6).hex()}" for n in range(99)
                }
                rig.vault.put_fields(
                    session, ref, verification, fields, PURPOSES, {"id_number": "id_number"}
                )
                held[ref] = (verification, fields)
            session.commit()
    with rig.sessions() as session:
        before = dict(session.execute(select(VaultFieldRow.id, VaultFieldRow.ciphertext)).all())
    assert len(before) == 10_000
    with rig.keystore_engine.connect() as connection:
        kek_ids = connection.execute(select(DataKeyRow.kek_id)).scalars().all()
    assert len(kek_ids) == 101 and set(kek_ids) == {"kek-1"}

    report = rotate_kek(rig.vault, rig.uow(), retire_old=True)

    assert report == RotationReport(new_kek_id="kek-2", rewrapped=101, retired=("kek-1",))
    document = json.loads(path.read_text())
    assert document["primary"] == "kek-2" and set(document["keys"]) == {"kek-2"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with rig.keystore_engine.connect() as connection:
        rows = connection.execute(select(DataKeyRow.kek_id, DataKeyRow.rewrapped_at)).all()
    assert len(rows) == 101
    assert all(kek_id == "kek-2" and rewrapped for kek_id, rewrapped in rows)
    with rig.sessions() as session:
        after = dict(session.execute(select(VaultFieldRow.id, VaultFieldRow.ciphertext)).all())
    assert after == before

    reopened = rig.with_wrapper(LocalKeyWrapper.from_settings({"file": path}))
    opened = 0
    with rig.sessions() as session:
        for ref, (verification, fields) in held.items():
            got = reopened.get_fields(session, ref, verification, actor=OPS, action="check")
            assert got == fields
            opened += len(got)
        some = next(iter(held))
        found = reopened.find_references(
            session, some.tenant_id, some.mode, "id_number", held[some][1]["id_number"]
        )
        session.commit()
    assert opened == 10_000
    assert found == [some.reference]

    retired = rig.with_wrapper(LocalKeyWrapper.from_settings({"key": old_document}))
    with rig.sessions() as session, pytest.raises(KeyConfigurationError, match="kek-2"):
        retired.get_fields(session, some, held[some][0], actor=OPS, action="check")

    (new,) = seed(rig, make_people(1, seed=43), prefix="after-rotation")
    with rig.keystore_engine.connect() as connection:
        kek_id = connection.execute(
            select(DataKeyRow.kek_id).where(DataKeyRow.id == key_id_of(rig, new.ref))
        ).scalar_one()
    assert kek_id == "kek-2"
    assert open_fields(rig, new, vault=reopened) == new.person.fields()


# -- erasure, and a backup of the data restored after it -------------------------------------


def _admin_engine():  # noqa: ANN202
    """The PostgreSQL server's maintenance database, in autocommit."""
    url = make_url(normalise_url(POSTGRES_URL)).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_command(program: str, url: str) -> list[str]:
    """``program`` with the connection options of ``url``."""
    path = shutil.which(program) or missing(f"{program} is not installed")
    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", str(parsed.port or 5432)
    return [path, "-h", host, "-p", port, "-U", parsed.username or "postgres"]


@pytest.fixture
def restored_database() -> Iterator[Callable[[Path, str], str]]:
    """Restore a ``pg_dump`` file into a new database; return its URL (dropped afterwards)."""
    names: list[str] = []

    def restore(dump: Path, like_url: str) -> str:
        name = f"kyc_restored_{secrets.token_hex(4)}"
        with _admin_engine().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        command = [*_pg_command("psql", like_url), "-v", "ON_ERROR_STOP=1", "-q", "-d", name]
        result = subprocess.run(
            [*command, "-f", str(dump)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return make_url(like_url).set(database=name).render_as_string(hide_password=False)

    yield restore
    with _admin_engine().connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_erasure_holds_after_restoring_a_backup_of_the_data(
    postgres_url: str,
    postgres_keystore_url: str,
    restored_database: Callable[[Path, str], str],
    tmp_path: Path,
) -> None:
    wrapper = LocalKeyWrapper.from_settings({"key": kek_document("kek-1")})
    rig = build_rig(postgres_url, postgres_keystore_url, wrapper)
    try:
        a, b, c = seed(rig, make_people(3, seed=51))
        b_verification = add_verification(rig, b.ref)
        b_key = key_id_of(rig, b.ref)
        backup = tmp_path / "data.sql"
        command = [*_pg_command("pg_dump", postgres_url), "--no-owner", "-f", str(backup)]
        result = subprocess.run(
            [*command, make_url(postgres_url).database], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr

        principal = Principal(rig.tenant_id, OPS, Mode.TEST, frozenset())
        erased_at = erase_subject(rig.uow(), rig.vault, principal, b.ref.reference, "asked")

        # The live database: B's rows and key are gone, its verification is a shell.
        assert count(rig, VaultFieldRow) == count(rig, VaultDocumentRow) * 4 == 8
        with rig.sessions() as session:
            assert subject_row(session, b.ref).erased_at == erased_at
        assert rig.vault.keystore.get(b_key) is None
        shell = verification_row(rig, b_verification)
        assert (shell.redacted, shell.masked, shell.status) == (True, {}, "verified")
        with pytest.raises(DataUnavailable, match="erased"):
            open_fields(rig, b)
        erasures = count(rig, AuditEventRow, AuditEventRow.action == "subject.erased")
        assert erase_subject(rig.uow(), rig.vault, principal, b.ref.reference) == erased_at
        assert count(rig, AuditEventRow, AuditEventRow.action == "subject.erased") == erasures == 1

        # The backup, restored beside the current key store: B's ciphertext is back, unreadable.
        restored_url = restored_database(backup, postgres_url)
        restored_engine = make_engine(restored_url)
        new_vault = rig.with_wrapper(rig.vault.keystore.wrapper)  # on the current key store
        sessions = make_session_factory(restored_engine)
        restored = Rig(restored_engine, rig.keystore_engine, new_vault, sessions, rig.tenant_id)
        try:
            with restored.sessions() as session:
                assert subject_row(session, b.ref).erased_at is None
            assert count(restored, VaultFieldRow) == 12
            for held in (a, c):
                assert open_fields(restored, held) == held.person.fields()
                assert open_document(restored, held) == held.image
            with pytest.raises(DataUnavailable, match="erased"):
                open_fields(restored, b)
            with pytest.raises(DataUnavailable, match="erased"):
                open_document(restored, b)
        finally:
            restored_engine.dispose()
    finally:
        rig.close()


# -- retention ----------------------------------------------------------------------------


def test_retention_deletes_documents_then_erases_the_subject(rig: Rig, clock: FrozenClock) -> None:
    start = clock.now
    held, kept = seed(rig, make_people(2, seed=61))
    verification = add_verification(rig, held.ref)
    with rig.sessions() as session:
        for subject in (held, kept):
            rig.vault.record_decision(session, subject.ref, subject.verification, start)
        session.commit()

    clock.now = start + timedelta(days=29)
    assert open_document(rig, held) == held.image
    clock.now = start + timedelta(days=30, seconds=1)
    with pytest.raises(DataUnavailable, match="past_retention"):
        open_document(rig, held)
    assert open_fields(rig, held) == held.person.fields()
    report = sweep_retention(rig.uow(), rig.vault)
    assert (report.documents_deleted, report.subjects_erased) == (2, [])
    assert count(rig, VaultDocumentRow) == 0
    assert open_fields(rig, held) == held.person.fields()

    # A new decision about ``kept`` moves its retention on.
    clock.now = start + timedelta(days=200)
    second = new_id("ver")
    with rig.sessions() as session:
        rig.vault.put_fields(session, kept.ref, second, {"phone": make_phone(random.Random(1))}, [])
        rig.vault.record_decision(session, kept.ref, second, clock.now)
        session.commit()
    with rig.sessions() as session:
        assert subject_row(session, held.ref).retain_until == start + timedelta(days=365)
        assert subject_row(session, kept.ref).retain_until == clock.now + timedelta(days=365)
        held_key = subject_row(session, held.ref).key_id

    clock.now = start + timedelta(days=365, seconds=1)
    with pytest.raises(DataUnavailable, match="past_retention"):
        open_fields(rig, held)
    report = sweep_retention(rig.uow(), rig.vault)
    assert (report.documents_deleted, report.subjects_erased) == (0, [held.ref])
    assert rig.vault.keystore.get(held_key) is None
    with rig.sessions() as session:
        assert subject_row(session, held.ref).erased_at == clock.now
        subject_id = subject_row(session, held.ref).id
    assert count(rig, VaultFieldRow, VaultFieldRow.subject_id == subject_id) == 0
    shell = verification_row(rig, verification)
    assert (shell.redacted, shell.masked) == (True, {})
    with pytest.raises(DataUnavailable, match="erased"):
        open_fields(rig, held)
    assert open_fields(rig, kept) == kept.person.fields()

    again = sweep_retention(rig.uow(), rig.vault)
    assert (again.documents_deleted, again.subjects_erased) == (0, [])
    assert verify_chain(rig) is None


def test_concurrent_sweeps_erase_each_subject_once(rig: Rig, clock: FrozenClock) -> None:
    held = seed(rig, make_people(40, seed=62))
    with rig.sessions() as session:
        for subject in held:
            rig.vault.record_decision(session, subject.ref, subject.verification, clock.now)
        session.commit()
    clock.advance(days=31)
    assert sweep_retention(rig.uow(), rig.vault).documents_deleted == 40
    clock.advance(days=335)

    # With no document left to delete first, both sweeps reach the subjects at once.
    reports = run_threads(2, lambda _: sweep_retention(rig.uow(), rig.vault))

    erased = [ref for report in reports for ref in report.subjects_erased]
    assert len(erased) == len(set(erased)) == 40
    assert set(erased) == {subject.ref for subject in held}
    assert count(rig, VaultFieldRow) == count(rig, VaultDocumentRow) == 0
    assert count(rig, SubjectRow, SubjectRow.erased_at.is_(None)) == 0
    assert count(rig, AuditEventRow, AuditEventRow.action == "subject.erased") == 40
    again = sweep_retention(rig.uow(), rig.vault)
    assert (again.documents_deleted, again.subjects_erased) == (0, [])
    assert verify_chain(rig) is None


# -- blind indexes and consent --------------------------------------------------------------


def test_find_references_by_id_number_or_card_within_one_tenant(rig: Rig) -> None:
    rng = random.Random(71)
    person = Person("张伟", make_id_number(rng, check="X"), make_phone(rng), make_bank_card(rng))
    other_tenant = add_tenant(rig.sessions, "globex")
    mine, theirs = rig.ref("cust-x"), rig.ref("their-x", tenant_id=other_tenant)
    with rig.sessions() as session:
        for ref in (mine, theirs):
            rig.vault.put_fields(session, ref, new_id("ver"), person.fields(), PURPOSES, INDEXED)
        session.commit()
    number, card = person.id_number, person.bank_card
    spaced_id = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
    spaced_card = " ".join(card[i : i + 4] for i in range(0, len(card), 4))

    def find(kind: str, value: str, tenant_id: str = rig.tenant_id, mode: str = "test") -> list:
        with rig.sessions() as session:
            return rig.vault.find_references(session, tenant_id, mode, kind, value)

    assert number.endswith("X")
    assert find("id_number", spaced_id) == ["cust-x"]
    assert find("id_number", number) == ["cust-x"]
    assert find("id_number", f"{number[:6]}-{number[6:14]}-{number[14:].lower()}") == ["cust-x"]
    assert find("bank_card", spaced_card) == ["cust-x"]
    assert find("id_number", number, tenant_id=other_tenant) == ["their-x"]
    assert find("id_number", number, mode="live") == []
    assert find("id_number", make_id_number(rng)) == []
    with rig.sessions() as session:
        indexes = session.scalars(
            select(VaultFieldRow.blind_index).where(VaultFieldRow.name == "id_number")
        ).all()
    assert len(set(indexes)) == 2, "the index is keyed per tenant"

    with rig.sessions() as session:
        rig.vault.erase(session, mine, actor=OPS)
        session.commit()
    assert find("id_number", number) == []
    assert find("bank_card", card) == []
    assert find("id_number", number, tenant_id=other_tenant) == ["their-x"]


def test_withdrawal_deletes_only_what_was_held_for_withdrawn_purposes(rig: Rig) -> None:
    (person,) = make_people(1, seed=72)
    ref, verification = rig.ref("consent-1"), new_id("ver")
    with rig.sessions() as session:
        vault = rig.vault
        vault.put_fields(session, ref, verification, {"face_note": "ok"}, ["facial_recognition"])
        both = ["identity_verification", "facial_recognition"]
        vault.put_fields(session, ref, verification, person.fields(), both, INDEXED)
        selfie = vault.put_document(
            session, ref, verification, "selfie", b"jpeg", "image/jpeg", ["facial_recognition"]
        )
        card = vault.put_document(
            session, ref, verification, "id_card_front", b"png", "image/png", PURPOSES
        )
        assert vault.withdraw(session, ref, ["facial_recognition"], actor=OPS) == 2
        session.commit()

    held = Held(ref, verification, card, person, b"png")
    assert open_fields(rig, held) == person.fields()
    assert open_document(rig, held) == b"png"
    with pytest.raises(DataUnavailable, match="not_held"):
        open_document(rig, Held(ref, verification, selfie, person, b""))
    with rig.sessions() as session:
        assert subject_row(session, ref).withdrawn_purposes == ["facial_recognition"]
    withdrawn = [e for e in audit_events(rig) if e.action == "consent.withdrawn"]
    assert [e.details for e in withdrawn] == [{"purposes": ["facial_recognition"]}]

    with rig.sessions() as session:
        assert rig.vault.withdraw(session, ref, ["identity_verification"], actor=OPS) == 5
        session.commit()
    assert count(rig, VaultFieldRow) == count(rig, VaultDocumentRow) == 0


# -- the KEK's configuration ----------------------------------------------------------------


def test_production_refuses_to_start_without_a_kek(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KYC_KEK", raising=False)
    monkeypatch.delenv("KYC_KEK_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    for settings in ({"env": "production"}, {"env": "production", "key": None, "file": None}):
        with pytest.raises(KeyConfigurationError, match="KYC_KEK"):
            LocalKeyWrapper.from_settings(settings)
    with pytest.raises(KeyConfigurationError, match="malformed"):
        LocalKeyWrapper.from_settings({"key": '{"primary": "kek-1"}'})
    with pytest.raises(KeyConfigurationError, match="32 bytes"):
        LocalKeyWrapper.from_settings({"key": {"primary": "k", "keys": {"k": "c2hvcnQ="}}})

    config = {
        "ENV": "production",
        "KEK": None,
        "KEK_FILE": None,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kyc.db'}",
        "KEYSTORE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
    }
    settings = load_settings(config)
    with pytest.raises(KeyConfigurationError, match="production needs KYC_KEK_FILE or KYC_KEK"):
        build_vault(settings, Adapters(settings))
    # The app factory refuses too (sandbox verifiers are refused first in production, so
    # that check is set aside here to reach the KEK's).
    monkeypatch.setattr(Adapters, "check", lambda self: None)
    with pytest.raises(KeyConfigurationError, match="production needs KYC_KEK_FILE or KYC_KEK"):
        create_app(config)
    missing_file = tmp_path / "no-such-kek.json"
    with pytest.raises(KeyConfigurationError, match=re.escape(str(missing_file))):
        create_app({**config, "ENV": "development", "KEK_FILE": str(missing_file)})


def test_cli_kek_rotate_needs_a_key_file(
    sqlite_url: str, sqlite_keystore_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "kek.json"
    path.write_text(json.dumps(kek_document("kek-1")))
    rig = build_rig(sqlite_url, sqlite_keystore_url, LocalKeyWrapper.from_settings({"file": path}))
    try:
        (held,) = seed(rig, make_people(1, seed=81))
        env = {"KYC_DATABASE_URL": sqlite_url, "KYC_KEYSTORE_URL": sqlite_keystore_url}

        result = CliRunner().invoke(
            main,
            ["kek", "rotate", "--retire-old"],
            env={**env, "KYC_KEK": None, "KYC_KEK_FILE": str(path)},
        )
        assert result.exit_code == 0, result.output
        assert "new primary KEK kek-2; re-wrapped 2 data keys" in result.output
        assert "retired: kek-1" in result.output
        assert set(json.loads(path.read_text())["keys"]) == {"kek-2"}
        reopened = rig.with_wrapper(LocalKeyWrapper.from_settings({"file": path}))
        assert open_fields(rig, held, vault=reopened) == held.person.fields()

        document = path.read_text()
        result = CliRunner().invoke(
            main, ["kek", "rotate"], env={**env, "KYC_KEK": document, "KYC_KEK_FILE": None}
        )
        assert result.exit_code != 0
        assert "KEKs from KYC_KEK cannot be rotated: use KYC_KEK_FILE" in result.output
        assert path.read_text() == document
        with rig.keystore_engine.connect() as connection:
            assert set(connection.execute(select(DataKeyRow.kek_id)).scalars()) == {"kek-2"}
    finally:
        rig.close()


def test_stored_binary_text_holds_no_digits() -> None:
    from kyc_service.domain.encoding import decode_bytes, encode_bytes
    from kyc_service.vault.envelope import new_data_key, open_sealed, seal

    data = bytes(range(256)) * 4
    assert decode_bytes(encode_bytes(data)) == data
    assert not any(ch.isdigit() for ch in encode_bytes(data))
    key = new_data_key()
    sealed = seal(key, b"11010519491231002X", b"ctx")
    assert not any(ch.isdigit() for ch in sealed.removeprefix("v1."))
    assert open_sealed(key, sealed, b"ctx") == b"11010519491231002X"


def test_a_subjects_events_keep_to_one_chain_and_subjects_spread_over_all() -> None:
    from kyc_service.vault.audit import CHAINS, chain_of

    assert chain_of("ten_1", None) == 1
    assert chain_of("ten_1", "user-1") == chain_of("ten_1", "user-1")
    spread = {chain_of("ten_1", f"user-{n}") for n in range(400)}
    assert spread == set(range(1, CHAINS + 1))


def test_an_opening_reads_subject_and_fields_at_once_and_a_decision_sets_its_clocks_at_once(
    rig: Rig, clock: FrozenClock
) -> None:
    """The upstream stage's round trips: opening the fields reads the subject and its fields
    together (then the audit's statements); starting the retention clocks is one statement on
    PostgreSQL (a data-modifying ``WITH``), two on SQLite — and both clocks move."""
    from sqlalchemy import event

    (held,) = seed(rig, make_people(1, seed=71))
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        sent.append(" ".join(statement.split()))

    event.listen(rig.engine, "before_cursor_execute", note)
    try:
        assert open_fields(rig, held) == held.person.fields()
        reads = [s for s in sent if s.startswith("SELECT")]
        sent.clear()
        with rig.sessions() as session:
            rig.vault.record_decision(session, held.ref, held.verification, clock.now)
            session.commit()
    finally:
        event.remove(rig.engine, "before_cursor_execute", note)
    assert len(reads) == 1 and "FROM subjects LEFT OUTER JOIN vault_fields" in reads[0], reads
    postgresql = rig.engine.dialect.name == "postgresql"
    assert len(sent) == (1 if postgresql else 2), sent
    with rig.sessions() as session:
        assert subject_row(session, held.ref).retain_until == clock.now + timedelta(days=365)
        document = session.get(VaultDocumentRow, held.document_id)
        assert document.delete_after == clock.now + timedelta(days=30)


def test_fields_held_only_for_another_verification_are_not_held_for_this_one(rig: Rig) -> None:
    """The subject is readable, but holds no field for the verification asked about: the
    opening says ``not_held`` and audits nothing."""
    (held,) = seed(rig, make_people(1, seed=73))
    before = count(rig, AuditEventRow)
    with rig.sessions() as session, pytest.raises(DataUnavailable, match="not_held"):
        rig.vault.get_fields(session, held.ref, new_id("ver"), actor=OPS, action="subject.viewed")
    assert count(rig, AuditEventRow) == before
