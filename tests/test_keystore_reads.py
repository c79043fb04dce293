"""A data key is read from the key store in one statement outside a transaction: no
``BEGIN`` before it and no ``ROLLBACK`` after it (two round trips fewer on every opening of
sealed data); writes to the key store stay in transactions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from adapters.local.key_file import LocalKeyWrapper
from kyc_service.persistence.database import make_engine
from kyc_service.persistence.keystore_tables import DataKeyRow
from kyc_service.vault.keystore import KeyStore
from tests.vault_support import kek_document


def _key_store(engine: Engine) -> KeyStore:
    """A key store on ``engine`` with a local KEK."""
    wrapper = LocalKeyWrapper.from_settings({"key": kek_document("kek-1")})
    return KeyStore(engine, wrapper, lambda: datetime.now(UTC))


def _transaction_states(engine: Engine) -> list[tuple[str, str]]:
    """For each statement sent on ``engine``: its first word and psycopg's transaction state
    right after it (``INTRANS`` inside a transaction, ``IDLE`` outside one)."""
    states: list[tuple[str, str]] = []

    @event.listens_for(engine, "after_cursor_execute")
    def noted(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        status = connection.connection.dbapi_connection.info.transaction_status
        states.append((statement.split()[0], psycopg.pq.TransactionStatus(status).name))

    return states


def test_a_data_key_is_read_outside_a_transaction(postgres_keystore_url: str) -> None:
    engine = make_engine(postgres_keystore_url, pool_size=1)
    keys = _key_store(engine)
    try:
        states = _transaction_states(engine)
        made = keys.create("subject-key")
        assert states == [("INSERT", "INTRANS")]  # a write commits in a transaction
        states.clear()
        assert keys.get("subject-key") == made
        assert keys.get("no-such-key") is None
        assert states == [("SELECT", "IDLE"), ("SELECT", "IDLE")]
        keys.destroy("subject-key")  # the pooled connection is back to transactions
        assert states[2:] == [("DELETE", "INTRANS")]
        assert keys.get("subject-key") is None
    finally:
        engine.dispose()


def test_on_sqlite_the_read_leaves_the_connection_as_it_found_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    DataKeyRow.metadata.create_all(engine)
    keys = _key_store(engine)
    try:
        made = keys.create("subject-key")
        assert keys.get("subject-key") == made
        with engine.connect() as connection:  # the pooled connection, back from the read
            assert connection.connection.dbapi_connection.isolation_level == ""
        keys.destroy("subject-key")  # a write after the read still commits
        assert keys.get("subject-key") is None
    finally:
        engine.dispose()
