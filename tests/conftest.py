"""Fixtures: an app on SQLite and on PostgreSQL, clients, and API keys."""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from kyc_service.app import create_app
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.persistence.database import make_engine, normalise_url
from kyc_service.persistence.migrate import upgrade
from kyc_service.services.api_keys import create_key

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_KEK = {
    "primary": "kek-1",
    "keys": {"kek-1": base64.b64encode(secrets.token_bytes(32)).decode()},
}
os.environ.setdefault("KYC_KEK", json.dumps(TEST_KEK))
_SESSION_VAR = tempfile.mkdtemp(prefix="kyc-tests-")
os.environ.setdefault("KYC_KEYSTORE_URL", f"sqlite:///{_SESSION_VAR}/keys.db")
os.environ.setdefault("KYC_HOME", _SESSION_VAR)  # default paths and .env: never the checkout's
POSTGRES_URL = os.environ.get(
    "KYC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/kyc_test"
)
TEST_DATA = Path(os.environ.get("KYC_TEST_DATA", Path(__file__).resolve().parent / "data"))
"""The real photos the tests use (``tests/data``: faces/ and photos/, each with its LICENSE)."""


def missing(reason: str) -> None:
    """Skip on a developer's laptop that lacks something; fail under CI, where it must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


def redis_reachable(url: str) -> str:
    """``url`` when a Redis server answers there; otherwise skip (fail under CI)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach it: the reason's class
        missing(f"Redis is not reachable at {url}: {type(exc).__name__}")
    return url


def _admin_engine():
    """Return an engine on the PostgreSQL server's maintenance database, in autocommit."""
    url = make_url(normalise_url(POSTGRES_URL)).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def _pg_url(name: str) -> str:
    """Return the URL of database ``name`` on the test PostgreSQL server."""
    return make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(False)


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[dict[str, str]]:
    """Migrated template databases (data, key store); tests clone them. Needs PostgreSQL."""
    try:
        admin = _admin_engine()
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    names = {"data": f"kyc_template_{os.getpid()}", "keystore": f"kyc_ks_template_{os.getpid()}"}
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    for purpose, name in names.items():
        engine = make_engine(_pg_url(name))
        upgrade(engine, keystore=purpose == "keystore")
        engine.dispose()
    yield names
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _clone(template: str) -> Iterator[str]:
    """Yield the URL of a fresh copy of ``template``, dropped afterwards."""
    admin = _admin_engine()
    name = f"kyc_t_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    _drop(admin, name)
    admin.dispose()


def _drop(admin, name: str, attempts: int = 5) -> None:
    """Drop a test database; retry when a session connects between FORCE and the drop."""
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


@pytest.fixture
def postgres_url(postgres_templates: dict[str, str]) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    yield from _clone(postgres_templates["data"])


@pytest.fixture
def postgres_keystore_url(postgres_templates: dict[str, str]) -> Iterator[str]:
    """A fresh, migrated PostgreSQL key-store database for one test."""
    yield from _clone(postgres_templates["keystore"])


def _migrated_sqlite(path: Path, keystore: bool = False) -> str:
    """Create and migrate a SQLite database file; return its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine, keystore=keystore)
    engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    return _migrated_sqlite(tmp_path / "kyc.db")


@pytest.fixture
def sqlite_keystore_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite key store for one test."""
    return _migrated_sqlite(tmp_path / "keys.db", keystore=True)


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses the database runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def keystore_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The key store: on the same kind of server as the data, in a database of its own."""
    kind = "postgres" if database_url.startswith("postgresql") else "sqlite"
    return request.getfixturevalue(f"{kind}_keystore_url")


@pytest.fixture
def app_config(database_url: str, keystore_url: str) -> dict:
    """Settings for a test app; tests may change them before ``app`` is built."""
    return {
        "DATABASE_URL": database_url,
        "KEYSTORE_URL": keystore_url,
        "RATE_LIMIT": "10000 per second",
        "TESTING": True,
    }


@pytest.fixture
def app(app_config: dict) -> Iterator[Flask]:
    """The service, built by its own factory."""
    application = create_app(app_config)
    yield application
    application.extensions["kyc"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def make_key(app: Flask) -> Callable[..., dict[str, str]]:
    """Create a key and return its ``Authorization`` header."""

    def make(tenant: str = "acme", mode: str = "test", scopes: str = "*") -> dict[str, str]:
        key = create_key(
            app.extensions["kyc"].unit_of_work(), tenant, Mode(mode), parse_scopes(scopes)
        )
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def auth(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    """A test-mode key of tenant ``acme`` with every scope."""
    return make_key()


def assert_error(response, status: int, type_: str, code: str) -> dict:
    """Check the contract's error shape and return the error body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert (error["type"], error["code"]) == (type_, code)
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert error["request_id"].startswith("req_")
    return error


@pytest.fixture(scope="session")
def matcher():
    """The face adapter, built as the service builds it, with its models loaded once."""
    from adapters.face_recognition_matcher import FaceRecognitionMatcher, face_library

    face_library()
    return FaceRecognitionMatcher.from_settings({})


@pytest.fixture(scope="session")
def face() -> dict[str, bytes]:
    """The bytes of each shared face photo, by name without the extension."""
    folder = TEST_DATA / "faces"
    if not folder.is_dir():
        missing(f"face photos not found at {folder} (set KYC_TEST_DATA)")
    return {path.stem: path.read_bytes() for path in sorted(folder.glob("*.jpg"))}
