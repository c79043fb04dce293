"""Engines and sessions for the configured database URL (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Choose the driver: a plain ``postgresql://`` URL is served by psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL, or None for another database or memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _tune_sqlite(dbapi_connection, _record) -> None:  # noqa: ANN001
    """Let SQLite writers wait for each other, enforce foreign keys, and sync as WAL allows.

    With WAL, ``synchronous=NORMAL`` survives a crash of the process; only the last
    commits before a power loss can be lost (PostgreSQL is the production database).
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _owner_only(path: Path) -> None:
    """Keep the SQLite file and its WAL companions readable by the service's user only."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """Create an engine for ``url``, making the SQLite file's folder if needed.

    Statement parameters are hidden from every error and log line (``hide_parameters``):
    a failed statement is logged by its shape, never with the caller's values.
    """
    url = normalise_url(url)
    path = sqlite_path(url)
    if make_url(url).get_backend_name() == "sqlite":
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _tune_sqlite)
        if path is not None:
            event.listen(engine, "connect", lambda *_: _owner_only(path))
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
        hide_parameters=True,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Run ``SELECT 1``; raise the driver's error when the database does not answer."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def database_unreachable(exc: BaseException) -> bool:
    """Tell whether ``exc`` says the database cannot be reached (not a bug of a query)."""
    if not isinstance(exc, DBAPIError):
        return False
    return isinstance(exc, OperationalError) or bool(exc.connection_invalidated)
