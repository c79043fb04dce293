"""The command from an operator's seat: ``KYC_HOME`` from any directory, key files in either
format, and one clear line — never a traceback — for a bad key file or a database that is
missing or unreachable (issue 16).

The commands run as a real process (the installed ``kyc-service``), from ``/``, with none of
the test session's ``KYC_`` variables, so what they find is what an operator's cron finds.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from kyc_service.app import create_app
from kyc_service.cli import main
from kyc_service.vault import SubjectRef
from tests.conftest import _admin_engine, _drop, _pg_url, missing
from tests.vault_support import add_tenant

PASSWORD = "pw-not-to-be-shown-7c1e"
"""A password put in database URLs: PostgreSQL here trusts loopback, so it is ignored, and
it must never appear in the command's output."""
GARBAGE = "this is not a key: kyc-garbage-5d2f\n"


def kyc_service(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``kyc-service ARGS`` from ``/`` with ``KYC_HOME=home`` and only ``env`` set."""
    script = Path(sys.executable).with_name("kyc-service")
    fallback = [sys.executable, "-c", "from kyc_service.cli import main; main()"]
    command = [str(script)] if script.exists() else fallback
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
    environment.update({"KYC_HOME": str(home), **(env or {})})
    return subprocess.run(
        [*command, *args],
        cwd="/",
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed with exactly one line on stderr and no traceback; return it."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty ``KYC_HOME``, away from the working directory of the commands (``/``)."""
    path = tmp_path / "kyc home"  # a space, as operators' paths sometimes have
    path.mkdir()
    return path


# -- KYC_HOME --------------------------------------------------------------------------------


def test_commands_run_from_another_directory_use_kyc_home(home):
    setup = kyc_service("dev-setup", home=home)
    assert setup.returncode == 0, setup.stderr
    var = home / "var"
    for name in ("kek.json", "dev-api-key", "kyc.db", "keys.db"):
        assert (var / name).is_file(), name
    assert setup.stdout.strip().splitlines()[-1] == (var / "dev-api-key").read_text().strip()

    rotated = kyc_service("kek", "rotate", home=home)  # needs the KEK dev-setup made
    assert rotated.returncode == 0, rotated.stderr
    assert "new primary KEK kek-2" in rotated.stdout
    assert json.loads((var / "kek.json").read_text())["primary"] == "kek-2"

    helped = kyc_service("--help", home=home)
    unwrapped = "".join(helped.stdout.split())  # help wraps lines, even inside a path
    assert "".join(f"KYC_HOME (now: {home})".split()) in unwrapped


# -- key files ------------------------------------------------------------------------------


def test_a_bare_base64_key_file_seals_and_opens_and_rotates(
    tmp_path, sqlite_url, sqlite_keystore_url
):
    kek_file = tmp_path / "kek"
    kek_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")  # openssl's
    settings = {
        "DATABASE_URL": sqlite_url,
        "KEYSTORE_URL": sqlite_keystore_url,
        "KEK": "",
        "KEK_FILE": str(kek_file),
        "TESTING": True,
    }
    app = create_app(settings)
    services = app.extensions["kyc"]
    try:
        bare_id = services.vault.keystore.wrapper.primary_id()
        ref = SubjectRef(add_tenant(services.session_factory, "acme"), "test", "cust-1")
        with services.unit_of_work() as uow:
            fields = {"individual.name": "测试甲", "individual.phone": "+86 139 0000 0000"}
            services.vault.put_fields(
                uow.session, ref, "ver_bare", fields, ["identity_verification"]
            )
            uow.commit()
    finally:
        services.close()
    assert bare_id.startswith("kek-") and not any(c.isdigit() for c in bare_id)

    env = {
        "KYC_DATABASE_URL": sqlite_url,
        "KYC_KEYSTORE_URL": sqlite_keystore_url,
        "KYC_KEK": "",
        "KYC_KEK_FILE": str(kek_file),
    }
    rotated = CliRunner().invoke(main, ["kek", "rotate"], env=env)
    assert rotated.exit_code == 0, rotated.output
    document = json.loads(kek_file.read_text())  # rotation writes the JSON form
    assert document["primary"] != bare_id and bare_id in document["keys"]

    app = create_app(settings)
    services = app.extensions["kyc"]
    try:
        with services.unit_of_work() as uow:
            opened = services.vault.get_fields(
                uow.session, ref, "ver_bare", actor="test", action="test.bare_key"
            )
            uow.commit()
    finally:
        services.close()
    assert opened == fields


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--port", "1"],
        ["worker", "--pool", "solo"],
        ["retention", "sweep"],
        ["kek", "rotate"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_key_file_in_neither_format_is_one_line_naming_both(home, command):
    kek_file = home / "kek"
    kek_file.write_text(GARBAGE)
    result = kyc_service(*command, home=home, env={"KYC_KEK_FILE": "kek"})  # under KYC_HOME
    line = one_line_failure(result)
    assert f"key-encryption key file {kek_file} is not usable" in line
    assert "kyc-service kek new --out FILE" in line and "openssl rand -base64 32" in line
    assert "kyc-garbage" not in result.stdout + result.stderr  # the file is never quoted


@pytest.mark.parametrize(
    "document",
    ['{"primary": "k", "keys": ["kyc-garbage"]}', '{"keys": "kyc-garbage"}', "[1, 2]"],
)
def test_a_json_key_file_of_the_wrong_shape_is_one_line(home, document):
    (home / "kek").write_text(document)
    result = kyc_service("retention", "sweep", home=home, env={"KYC_KEK_FILE": "kek"})
    line = one_line_failure(result)
    assert "key-encryption key" in line
    assert "kyc-garbage" not in result.stdout + result.stderr


def test_db_upgrade_does_not_need_the_key_file(home):
    (home / "kek").write_text(GARBAGE)
    result = kyc_service("db", "upgrade", home=home, env={"KYC_KEK_FILE": "kek"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


# -- databases ------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_db_upgrade_on_an_unreachable_server_is_one_line(home):
    port = closed_port()
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/kyc"
    result = kyc_service("db", "upgrade", home=home, env={"KYC_DATABASE_URL": url})
    line = one_line_failure(result)
    assert f"cannot connect to 127.0.0.1:{port}" in line and "KYC_DATABASE_URL" in line
    assert PASSWORD not in result.stdout + result.stderr
    assert "***" in line


@pytest.fixture
def postgres_admin() -> Iterator:
    """An autocommit engine on the test PostgreSQL server's maintenance database."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        missing(f"PostgreSQL is not reachable: {type(exc).__name__}")
    yield admin
    admin.dispose()


def database_exists(admin, name: str) -> bool:
    """Tell whether database ``name`` exists on the test server."""
    with admin.connect() as connection:
        query = text("SELECT 1 FROM pg_database WHERE datname = :name")
        return connection.execute(query, {"name": name}).first() is not None


def with_password(url: str) -> str:
    """``url`` with the password that must never be shown."""
    return url.replace("postgres@", f"postgres:{PASSWORD}@", 1)


def test_db_upgrade_on_a_missing_database_is_one_line_with_the_fix(home, postgres_admin):
    name = f"kyc_missing_{secrets.token_hex(4)}"
    url = with_password(_pg_url(name))
    result = kyc_service("db", "upgrade", home=home, env={"KYC_DATABASE_URL": url})
    line = one_line_failure(result)
    assert f'database "{name}" does not exist' in line
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in line
    assert "kyc-service db upgrade --create" in line
    assert PASSWORD not in result.stdout + result.stderr
    assert not database_exists(postgres_admin, name)


def test_db_upgrade_create_makes_both_databases_then_migrates(home, postgres_admin):
    names = [f"kyc_missing_{secrets.token_hex(4)}", f"kyc_missing_keys_{secrets.token_hex(4)}"]
    env = {
        "KYC_DATABASE_URL": with_password(_pg_url(names[0])),
        "KYC_KEYSTORE_URL": with_password(_pg_url(names[1])),
    }
    try:
        result = kyc_service("db", "upgrade", "--create", home=home, env=env)
        assert result.returncode == 0, result.stderr
        for name in names:
            assert f"created database {name}" in result.stdout
        assert PASSWORD not in result.stdout + result.stderr
        again = kyc_service("db", "upgrade", "--create", home=home, env=env)
        assert again.returncode == 0, again.stderr
        assert "created database" not in again.stdout
        for name, table in zip(names, ("alembic_version", "keystore_version"), strict=True):
            assert database_exists(postgres_admin, name)
            assert versions(name, table) == 1
    finally:
        for name in names:
            _drop(postgres_admin, name)
    assert not any(database_exists(postgres_admin, name) for name in names)


def versions(name: str, table: str) -> int:
    """How many rows the migration version table of database ``name`` holds."""
    engine = create_engine(_pg_url(name))
    try:
        with engine.connect() as connection:
            return len(connection.execute(text(f"SELECT * FROM {table}")).all())
    finally:
        engine.dispose()
