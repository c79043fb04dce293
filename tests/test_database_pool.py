"""A pooled PostgreSQL connection is checked at checkout without a round trip: handed out
as it is while its socket is quiet, pinged only when the server said something (a restart,
a terminated backend), and replaced when that ping fails — the caller sees no error."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from sqlalchemy import text

from kyc_service.persistence.database import make_engine
from tests.conftest import _admin_engine


@pytest.fixture
def sent(monkeypatch):
    """Every statement psycopg sends: (``"connection"`` or ``"cursor"``, its text).
    SQLAlchemy's statements go through cursors, the checkout's ping through the connection."""
    queries: list[tuple[str, str]] = []

    def counting(execute, through: str):
        def sending(self, query, *args, **kwargs):
            queries.append((through, str(query)))
            return execute(self, query, *args, **kwargs)

        return sending

    connection_execute, cursor_execute = psycopg.Connection.execute, psycopg.Cursor.execute
    monkeypatch.setattr(psycopg.Connection, "execute", counting(connection_execute, "connection"))
    monkeypatch.setattr(psycopg.Cursor, "execute", counting(cursor_execute, "cursor"))
    return queries


PID = "SELECT pg_backend_pid()"


def _backend(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text(PID)).scalar_one()


def _terminate(pid: int, engine) -> None:
    """End backend ``pid`` from another connection; wait until its client's socket says so."""
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    raw = engine.pool._pool.queue[0].dbapi_connection  # the one idle connection
    waiting = select.poll()
    waiting.register(raw.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not waiting.poll(50):
        assert time.monotonic() < deadline, "the terminated backend's socket stayed quiet"


def test_a_live_pooled_connection_is_handed_out_without_a_ping(postgres_url, sent):
    engine = make_engine(postgres_url, pool_size=1)
    try:
        first = _backend(engine)  # a new connection: the driver's own setup queries too
        sent.clear()
        assert [_backend(engine) for _ in range(5)] == [first] * 5  # the same connection
        assert sent == [("cursor", PID)] * 5  # nothing else went to the server
    finally:
        engine.dispose()


def test_a_connection_whose_backend_ended_is_replaced_without_an_error(postgres_url, sent):
    engine = make_engine(postgres_url, pool_size=1)
    try:
        ended = _backend(engine)
        _terminate(ended, engine)
        sent.clear()
        replaced = _backend(engine)  # no OperationalError reaches the caller
        assert replaced != ended
        assert _backend(engine) == replaced
        # pinged once, because its socket spoke; the ping failed and the pool reconnected
        assert [q for q in sent if q[0] == "connection"] == [("connection", "SELECT 1")]
        assert [q for q in sent if q[1] == PID] == [("cursor", PID)] * 2
    finally:
        engine.dispose()
