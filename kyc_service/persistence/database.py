"""Engines and sessions for the configured database URL (SQLite or PostgreSQL)."""

from __future__ import annotations

import select
import shlex
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MAINTENANCE_DATABASES = ("postgres", "template1")
"""Where to connect on a PostgreSQL server to ask about, or create, another database."""


class DatabaseUnavailable(RuntimeError):
    """A database that cannot be reached, does not exist or cannot be created: the message
    is one line, naming the server and the setting, with the URL's password masked."""


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
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        connect_args={"connect_timeout": 5},
        hide_parameters=True,
    )
    event.listen(engine, "checkout", _check_idle_connection)
    return engine


def _check_idle_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out a pooled PostgreSQL connection only if it is still alive, without a round
    trip when nothing says otherwise.

    An idle connection's server sends nothing unasked, so a socket with something to read
    (or at its end) means the server closed it or is closing it — a restart, an idle-session
    timeout, a terminated backend. Only then is it pinged (``SELECT 1``), and a failed ping
    makes the pool replace it (``DisconnectionError``). SQLAlchemy's ``pool_pre_ping`` pings
    every checkout: five round trips in each verification's run.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection was closed")
    waiting = select.poll()  # not select.select: a busy process may hold fds past 1024
    waiting.register(dbapi_connection.fileno(), select.POLLIN)
    if not waiting.poll(0):
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:  # noqa: BLE001 - any failure of the ping: a dead connection
        raise DisconnectionError(type(exc).__name__) from None


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


def check_connection(engine: Engine, setting: str) -> None:
    """Connect once; raise :class:`DatabaseUnavailable` (one line) if that fails."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise connection_problem(engine.url, exc, setting) from None


def connection_problem(
    url: URL | str, exc: BaseException, setting: str, probe: bool = True
) -> DatabaseUnavailable:
    """The one-line error for a failed connection to ``url`` (named by ``setting``): the
    database does not exist (with the commands that create it), or the server's address and
    the driver's reason. With ``probe``, a server that answered is asked whether the
    database exists (its messages may be in another language)."""
    parsed = make_url(url) if isinstance(url, str) else url
    reason = driver_reason(exc)
    if parsed.get_backend_name() == "sqlite":
        return DatabaseUnavailable(
            f"cannot open the SQLite database {parsed.database} ({setting}): {reason}"
        )
    shown = parsed.set(drivername=parsed.get_backend_name())  # as written, no driver
    named = f"{setting}={shown.render_as_string(hide_password=True)}"
    if database_missing(parsed, exc, probe):
        return DatabaseUnavailable(
            f'the database "{parsed.database}" does not exist on {server_address(parsed)} '
            f"({named}): create it with '{createdb_command(parsed)}' "
            "or run 'kyc-service db upgrade --create'"
        )
    return DatabaseUnavailable(f"cannot connect to {server_address(parsed)} ({named}): {reason}")


def driver_reason(exc: BaseException) -> str:
    """The driver's reason for a failed connection, on one line (``Connection refused``)."""
    original = getattr(exc, "orig", None) or exc
    line = (str(original).strip().splitlines() or [type(original).__name__])[0]
    line = line.rsplit(" failed: ", 1)[-1].removeprefix("connection failed: ")
    return line.removeprefix("FATAL:").strip() or type(original).__name__


def database_missing(url: URL, exc: BaseException, probe: bool = True) -> bool:
    """Tell whether a failed connection means the database itself does not exist."""
    if database_missing_text(exc, str(url.database)):
        return True
    if not probe or "FATAL" not in str(exc):  # the server never answered: nothing to ask
        return False
    try:
        return database_exists(url, "the URL") is False
    except DatabaseUnavailable:
        return False


def server_address(url: URL) -> str:
    """``host:port`` of a PostgreSQL URL (the local socket when it names no host)."""
    return f"{url.host or 'the local socket'}:{url.port or 5432}"


def createdb_command(url: URL) -> str:
    """The ``createdb`` command that creates the database of ``url`` (no password in it)."""
    words = ["createdb"]
    if url.host:
        words += ["-h", url.host]
    if url.port:
        words += ["-p", str(url.port)]
    if url.username:
        words += ["-U", url.username]
    return shlex.join([*words, str(url.database)])


def database_exists(url: URL, setting: str) -> bool | None:
    """Ask the server of ``url`` whether its database exists; None when no maintenance
    database lets us ask. Raise :class:`DatabaseUnavailable` if the server cannot be reached."""
    for maintenance in MAINTENANCE_DATABASES:
        engine = _maintenance_engine(url, maintenance)
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": url.database},
                ).first()
            return found is not None
        except OperationalError as exc:
            if not database_missing_text(exc, maintenance):
                raise connection_problem(url, exc, setting, probe=False) from None
        finally:
            engine.dispose()
    return None


def database_missing_text(exc: BaseException, name: str) -> bool:
    """Tell whether the driver says database ``name`` does not exist."""
    return f'database "{name}" does not exist' in str(getattr(exc, "orig", exc))


def create_database(url: str, setting: str) -> str | None:
    """Create the PostgreSQL database that ``url`` names unless it exists; return its name
    when it was created. A SQLite file is made when first opened, so nothing is done for it.
    Fails with :class:`DatabaseUnavailable` (one line) when the server cannot be reached or
    refuses (no ``CREATEDB`` right)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return None
    if database_exists(parsed, setting) is not False:
        return None
    engine = _maintenance_engine(parsed, MAINTENANCE_DATABASES[0])
    quoted = engine.dialect.identifier_preparer.quote(parsed.database)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    except ProgrammingError as exc:
        if "already exists" in str(exc.orig):  # created by another process meanwhile
            return None
        raise DatabaseUnavailable(
            f'cannot create the database "{parsed.database}" on {server_address(parsed)} '
            f"({setting}): {driver_reason(exc)}"
        ) from None
    finally:
        engine.dispose()
    return parsed.database


def _maintenance_engine(url: URL, database: str) -> Engine:
    """An autocommit engine on another database of the server of ``url``, one connection."""
    return create_engine(
        url.set(database=database),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
        hide_parameters=True,
    )
