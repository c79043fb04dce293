"""Fixtures: an app on SQLite and on PostgreSQL, clients, and API keys."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kyc_service.app import create_app
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.persistence.database import make_engine, normalise_url
from kyc_service.persistence.migrate import upgrade
from kyc_service.services.api_keys import create_key

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "KYC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/kyc_test"
)
TEST_DATA = Path(
    os.environ.get("KYC_TEST_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


def missing(reason: str) -> None:
    """Skip on a developer's laptop that lacks something; fail under CI, where it must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


def _admin_engine():
    """Return an engine on the PostgreSQL server's maintenance database, in autocommit."""
    url = make_url(normalise_url(POSTGRES_URL)).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test clones it (skipped without PostgreSQL)."""
    try:
        admin = _admin_engine()
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    name = f"kyc_template_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    admin = _admin_engine()
    name = f"kyc_t_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    url = f"sqlite:///{tmp_path / 'kyc.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses the database runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """Settings for a test app; tests may change them before ``app`` is built."""
    return {
        "DATABASE_URL": database_url,
        "KEYSTORE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
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
