"""A data key is read from the key store in one statement outside a transaction: no
``BEGIN`` before it and no ``ROLLBACK`` after it (two round trips fewer on every opening of
sealed data); writes to the key store stay in transactions."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from sqlalchemy import event

from adapters.local.key_file import LocalKeyWrapper
from kyc_service.persistence.database import make_engine
from kyc_service.vault.keystore import KeyStore
from tests.vault_support import kek_document


def _transaction_states(engine) -> list[tuple[str, str]]:
    """For each statement sent on ``engine``: its first word and psycopg's transaction state
    right after it (``INTRANS`` inside a transaction, ``IDLE`` outside one)."""
    states: list[tuple[str, str]] = []

    @event.listens_for(engine, "after_cursor_execute")
    def noted(connection, cursor, statement, *_):
        status = connection.connection.dbapi_connection.info.transaction_status
        states.append((statement.split()[0], psycopg.pq.TransactionStatus(status).name))

    return states


def test_a_data_key_is_read_outside_a_transaction(postgres_keystore_url):
    engine = make_engine(postgres_keystore_url, pool_size=1)
    wrapper = LocalKeyWrapper.from_settings({"key": kek_document("kek-1")})
    keys = KeyStore(engine, wrapper, lambda: datetime.now(UTC))
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
