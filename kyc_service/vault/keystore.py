"""The key store: subjects' data keys, wrapped by a KEK, in a database apart from the data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.persistence.keystore_tables import DataKeyRow
from kyc_service.ports import KeyWrapper
from kyc_service.vault.envelope import associated_data, new_data_key

BLIND_INDEX_KEY_ID = "blind-index"

_KEYS = DataKeyRow.__table__
_INSERT_KEY = insert(_KEYS)
_SELECT_KEY = select(_KEYS.c.kek_id, _KEYS.c.wrapped).where(_KEYS.c.id == bindparam("key_id"))
"""Built once: the key store's hot statements skip SQL construction on every request."""


class KeyStore:
    """Creates, reads, destroys and re-wraps data keys."""

    def __init__(self, engine: Engine, wrapper: KeyWrapper, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.wrapper = wrapper
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._index_key: bytes | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _context(key_id: str) -> bytes:
        """Bind a wrapped key to its id, so wrapped keys cannot be swapped between subjects."""
        return associated_data("data-key", key_id)

    def create(self, key_id: str, purpose: str = "subject") -> bytes:
        """Make, wrap and store a new data key; return it (or the existing one after a race).

        The key is committed here, in the key store's own transaction, before the caller
        writes anything that names it.
        """
        data_key = new_data_key()
        kek_id, wrapped = self.wrapper.wrap(data_key, self._context(key_id))
        row = {
            "id": key_id,
            "purpose": purpose,
            "kek_id": kek_id,
            "wrapped": encode_bytes(wrapped),
            "created_at": self.clock(),
            "rewrapped_at": None,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(_INSERT_KEY, row)
        except IntegrityError:
            existing = self.get(key_id)
            if existing is None:
                raise
            return existing
        return data_key

    def get(self, key_id: str) -> bytes | None:
        """Return the unwrapped data key, or None once it was destroyed.

        One statement, read outside a transaction: on PostgreSQL no ``BEGIN`` and
        ``ROLLBACK`` around it (two round trips to the key store fewer on every opening of
        sealed data); on SQLite, which never had them, a ``PRAGMA`` resets the connection
        when it goes back to the pool.
        """
        with self._reads.connect() as connection:
            row = connection.execute(_SELECT_KEY, {"key_id": key_id}).first()
        if row is None:
            return None
        return self.wrapper.unwrap(row.kek_id, decode_bytes(row.wrapped), self._context(key_id))

    def destroy(self, key_id: str) -> None:
        """Delete the data key: whatever it sealed can never be opened again."""
        with self._sessions() as session:
            session.execute(delete(DataKeyRow).where(DataKeyRow.id == key_id))
            session.commit()

    def blind_index_key(self) -> bytes:
        """Return the key of the blind indexes (made once, kept wrapped like a data key)."""
        with self._lock:
            if self._index_key is None:
                self._index_key = self.get(BLIND_INDEX_KEY_ID) or self.create(
                    BLIND_INDEX_KEY_ID, purpose="blind_index"
                )
            return self._index_key

    def rewrap_all(self, batch: int = 500) -> int:
        """Re-wrap every data key not under the primary KEK; return how many (fields untouched)."""
        primary = self.wrapper.primary_id()
        done = 0
        while True:
            with self._sessions() as session:
                rows = session.scalars(
                    select(DataKeyRow).where(DataKeyRow.kek_id != primary).limit(batch)
                ).all()
                if not rows:
                    return done
                for row in rows:
                    done += self._rewrap(session, row)
                session.commit()

    def _rewrap(self, session: Session, row: DataKeyRow) -> int:
        """Re-wrap one key under the primary KEK, unless another process just did."""
        context = self._context(row.id)
        data_key = self.wrapper.unwrap(row.kek_id, decode_bytes(row.wrapped), context)
        kek_id, wrapped = self.wrapper.wrap(data_key, context)
        result = session.execute(
            update(DataKeyRow)
            .where(DataKeyRow.id == row.id, DataKeyRow.kek_id == row.kek_id)
            .values(kek_id=kek_id, wrapped=encode_bytes(wrapped), rewrapped_at=self.clock())
        )
        return result.rowcount or 0

    def kek_ids_in_use(self) -> set[str]:
        """Return the KEK ids that still wrap at least one data key."""
        with self._sessions() as session:
            return set(session.scalars(select(DataKeyRow.kek_id).distinct()).all())
