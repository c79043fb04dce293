"""A new subject is written with its fields; when another request created the subject
meanwhile, its row and data key are used and the data key made for nothing is destroyed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from adapters.local.key_file import LocalKeyWrapper
from kyc_service.domain.ids import new_id
from kyc_service.persistence.keystore_tables import DataKeyRow
from kyc_service.persistence.tables import SubjectRow
from tests.vault_support import FrozenClock, Rig, build_rig, kek_document

OPS = "key_ops"


@pytest.fixture
def rig(database_url: str, keystore_url: str) -> Iterator[Rig]:
    """A vault on SQLite and on PostgreSQL."""
    wrapper = LocalKeyWrapper.from_settings({"key": kek_document("kek-1")})
    built = build_rig(database_url, keystore_url, wrapper, FrozenClock())
    yield built
    built.close()


def _key_count(rig: Rig) -> int:
    """How many data keys the key store holds."""
    with rig.keystore_engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(DataKeyRow)).scalar_one()


def test_fields_of_a_subject_created_meanwhile_open_under_its_key(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref, first, second = rig.ref("user-1"), new_id("ver"), new_id("ver")
    with rig.sessions() as session:
        rig.vault.put_fields(session, ref, first, {"phone": "13800138000"}, [], replace=False)
        session.commit()
    keys_before = _key_count(rig)
    found = rig.vault._find_subject
    calls = []

    def not_there_at_first(session, wanted):  # noqa: ANN001, ANN202 - the vault's own helper
        """The subject is missed once, as by a request that read just before another wrote."""
        calls.append(wanted)
        return None if len(calls) == 1 else found(session, wanted)

    monkeypatch.setattr(rig.vault, "_find_subject", not_there_at_first)
    with rig.sessions() as session:
        rig.vault.put_fields(session, ref, second, {"phone": "13700137000"}, [], replace=False)
        session.commit()
    monkeypatch.undo()
    assert len(calls) == 2  # missed, then found after the insert met the existing row
    assert _key_count(rig) == keys_before  # the data key made for nothing was destroyed
    with rig.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SubjectRow)) == 1
        opened = rig.vault.get_fields(session, ref, second, actor=OPS, action="subject.viewed")
        earlier = rig.vault.get_fields(session, ref, first, actor=OPS, action="subject.viewed")
    assert opened == {"phone": "13700137000"}
    assert earlier == {"phone": "13800138000"}


def test_a_new_subject_is_written_with_its_fields(rig: Rig) -> None:
    ref, verification = rig.ref("user-2"), new_id("ver")
    with rig.sessions() as session:
        rig.vault.put_fields(session, ref, verification, {"name": "张三"}, ["kyc"], replace=True)
        session.commit()
    with rig.sessions() as session:
        subject = session.scalars(select(SubjectRow)).one()
        assert (subject.reference, subject.erased_at, subject.withdrawn_purposes) == (
            "user-2",
            None,
            [],
        )
        opened = rig.vault.get_fields(session, ref, verification, actor=OPS, action="viewed")
    assert opened == {"name": "张三"}
