"""The ``kyc-service`` command: migrations, API keys, the development setup."""

from __future__ import annotations

import json
import sqlite3
import stat
from base64 import b64decode
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from kyc_service.app import create_app
from kyc_service.cli import main
from kyc_service.domain.access import ALL_SCOPES, Scope
from kyc_service.services.api_keys import authenticate
from tests.conftest import assert_error


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory for the command, which is also its ``KYC_HOME``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYC_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def db_url(workdir: Path) -> str:
    """A SQLite file in the working directory (not yet created)."""
    return f"sqlite:///{workdir / 'data' / 'kyc.db'}"


def run(db_url: str, *args: str, env: dict | None = None) -> Result:
    """Run ``kyc-service ARGS`` on the given database (and a key store beside it)."""
    keystore = db_url.replace("kyc.db", "keys.db")
    environment = {"KYC_DATABASE_URL": db_url, "KYC_KEYSTORE_URL": keystore, **(env or {})}
    return CliRunner().invoke(main, list(args), env=environment)


def create(db_url: str, tenant: str, mode: str, scopes: str) -> Result:
    """Run ``kyc-service keys create``."""
    return run(db_url, "keys", "create", "--tenant", tenant, "--mode", mode, "--scopes", scopes)


@pytest.fixture
def app_on(workdir: Path) -> Iterator:
    """Build apps on a given database; close them afterwards."""
    apps: list[Flask] = []

    def build(url: str) -> Flask:
        keystore = f"sqlite:///{workdir / 'keys.db'}"
        apps.append(create_app({"DATABASE_URL": url, "KEYSTORE_URL": keystore, "TESTING": True}))
        return apps[-1]

    yield build
    for app in apps:
        app.extensions["kyc"].close()


def test_db_upgrade_creates_the_schema_and_can_run_again(db_url, workdir):
    first = run(db_url, "db", "upgrade")
    assert first.exit_code == 0, first.output
    second = run(db_url, "db", "upgrade")
    assert second.exit_code == 0, second.output
    with closing(sqlite3.connect(workdir / "data" / "kyc.db")) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert len(versions) == 1
    assert {"tenants", "api_keys"} <= tables


def test_keys_create_prints_a_working_key_with_exactly_its_scopes(db_url, app_on):
    assert run(db_url, "db", "upgrade").exit_code == 0
    result = create(db_url, "t", "live", "verifications:read,ops")
    assert result.exit_code == 0, result.output
    key = result.stdout.splitlines()[-1]
    assert key.startswith("kyc_live_") and " " not in key

    app = app_on(db_url)
    principal = authenticate(app.extensions["kyc"].unit_of_work(), key)
    assert principal.scopes == {Scope.VERIFICATIONS_READ, Scope.OPS}
    assert principal.mode == "live"
    client = app.test_client()
    response = client.get("/v1/verifications", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)

    ops_only = create(db_url, "t", "live", "ops")
    assert ops_only.exit_code == 0, ops_only.output
    headers = {"Authorization": f"Bearer {ops_only.stdout.splitlines()[-1]}"}
    response = client.get("/v1/verifications", headers=headers)
    assert_error(response, 403, "permission", "scope_missing")


def test_only_a_hash_of_the_key_is_stored(db_url, workdir):
    assert run(db_url, "db", "upgrade").exit_code == 0
    result = create(db_url, "hash-probe", "test", "*")
    key = result.stdout.splitlines()[-1]
    secret = key.removeprefix("kyc_test_")
    stored = b"".join(path.read_bytes() for path in (workdir / "data").glob("kyc.db*"))
    assert b"hash-probe" in stored  # the rows are in the bytes read
    assert key.encode() not in stored
    assert secret[12:].encode() not in stored


def test_an_unknown_scope_is_a_usage_error_listing_the_known_ones(db_url):
    assert run(db_url, "db", "upgrade").exit_code == 0
    result = create(db_url, "t", "test", "ops,nope")
    assert result.exit_code == 2, result.output
    assert "nope" in result.output
    for scope in ALL_SCOPES:
        assert scope.value in result.output
    assert "kyc_test_" not in result.output


def test_dev_setup_makes_var_with_secret_files_and_keeps_the_key_on_a_second_run(workdir, app_on):
    url = "sqlite:///var/kyc.db"
    development = {"KYC_KEK": None, "KYC_KEK_FILE": None}
    first = run(url, "dev-setup", env=development)
    assert first.exit_code == 0, first.output
    kek_file, key_file = workdir / "var" / "kek.json", workdir / "var" / "dev-api-key"
    for path in (kek_file, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    kek = json.loads(kek_file.read_text())
    assert len(b64decode(kek["keys"][kek["primary"]])) == 32
    key = key_file.read_text().strip()
    assert key.startswith("kyc_test_")
    assert first.stdout.splitlines()[-1] == key

    second = run(url, "dev-setup", env=development)
    assert second.exit_code == 0, second.output
    assert key_file.read_text().strip() == key
    assert json.loads(kek_file.read_text()) == kek
    assert key not in second.output

    assert (workdir / "var" / "keys.db").exists()
    principal = authenticate(app_on(url).extensions["kyc"].unit_of_work(), key)
    assert principal.scopes == set(ALL_SCOPES)


def test_serve_refuses_to_start_without_a_key_encryption_key(db_url):
    result = run(db_url, "serve", "--port", "1", env={"KYC_KEK": None, "KYC_KEK_FILE": None})
    assert result.exit_code == 1
    assert "key-encryption key" in result.output and "KYC_KEK" in result.output


def test_serve_refuses_an_unknown_adapter(db_url):
    result = run(db_url, "serve", "--port", "1", env={"KYC_BANK_ADAPTER": "nope"})
    assert result.exit_code == 1
    assert "BANK_ADAPTER" in result.output and "sandbox" in result.output


def test_kek_new_writes_a_usable_owner_only_key_file_and_never_overwrites(tmp_path, monkeypatch):
    from adapters.local.key_file import LocalKeyWrapper

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "secrets" / "kek.json"
    first = CliRunner().invoke(main, ["kek", "new", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert len(b64decode(document["keys"][document["primary"]])) == 32
    wrapper = LocalKeyWrapper.from_settings({"file": str(out)})
    kek_id, wrapped = wrapper.wrap(b"k" * 32, b"context")
    assert wrapper.unwrap(kek_id, wrapped, b"context") == b"k" * 32
    before = out.read_bytes()
    again = CliRunner().invoke(main, ["kek", "new", "--out", str(out)])
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert out.read_bytes() == before
