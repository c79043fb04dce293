"""Settings (defaults, ``.env``, ``KYC_`` variables, the mapping), database URLs, adapters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kyc_service import config as config_module
from kyc_service.app import create_app
from kyc_service.bootstrap import AdapterConfigurationError, migrate
from kyc_service.config import DEFAULTS, kyc_home, load_settings
from kyc_service.persistence.database import make_engine, normalise_url

VARIABLES = ("KYC_RATE_LIMIT", "KYC_RETENTION_DAYS", "KYC_MAX_UPLOAD_MB", "KYC_IDENTITY_ADAPTER")
PATH_VARIABLES = (
    "KYC_DATABASE_URL",
    "KYC_KEYSTORE_URL",
    "KYC_KEK_FILE",
    "KYC_BEAT_SCHEDULE_FILE",
    "KYC_ENV",
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An empty working directory that is also ``KYC_HOME``, and none of the variables set;
    ``.env`` loads are undone."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYC_HOME", str(tmp_path))
    for name in VARIABLES + PATH_VARIABLES:
        monkeypatch.setenv(name, "")  # remembers the original, so teardown restores it
        monkeypatch.delenv(name)
    return monkeypatch


def build(tmp_path: Path, **config):
    """Create an app on a throwaway SQLite database."""
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'kyc.db'}", "KEYSTORE_URL": "sqlite://", **config}
    )
    app.extensions["kyc"].close()
    return app


def test_defaults_apply_without_settings(env, tmp_path):
    app = build(tmp_path)
    assert app.config["RATE_LIMIT"] == DEFAULTS["RATE_LIMIT"]
    assert app.config["RETENTION_DAYS"] == DEFAULTS["RETENTION_DAYS"]


def test_kyc_variables_override_the_defaults(env, tmp_path):
    env.setenv("KYC_RATE_LIMIT", "7 per minute")
    env.setenv("KYC_MAX_UPLOAD_MB", "3")
    app = build(tmp_path)
    assert app.config["RATE_LIMIT"] == "7 per minute"
    assert app.config["MAX_UPLOAD_MB"] == 3
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024 + 65536


def test_a_dotenv_file_in_kyc_home_is_read(env, tmp_path):
    (tmp_path / ".env").write_text("KYC_RETENTION_DAYS=12\nKYC_RATE_LIMIT=1 per day\n")
    env.setenv("KYC_RATE_LIMIT", "5 per second")
    settings = load_settings()
    assert settings["RETENTION_DAYS"] == 12
    assert settings["RATE_LIMIT"] == "5 per second"  # the environment beats .env


def test_only_kyc_homes_dotenv_is_read_not_the_working_directorys(env, tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / ".env").write_text("KYC_RETENTION_DAYS=12\n")
    (elsewhere / ".env").write_text("KYC_RETENTION_DAYS=99\nKYC_MAX_UPLOAD_MB=1\n")
    env.chdir(elsewhere)
    env.setenv("KYC_HOME", str(home))
    settings = load_settings()
    assert settings["RETENTION_DAYS"] == 12
    assert settings["MAX_UPLOAD_MB"] == DEFAULTS["MAX_UPLOAD_MB"]
    assert settings["HOME"] == str(home.resolve())


def test_relative_paths_in_settings_are_taken_from_kyc_home(env, tmp_path):
    home = tmp_path / "home"
    env.chdir(tmp_path)  # not the home: nothing may be relative to it
    env.setenv("KYC_HOME", str(home))
    env.setenv("KYC_DATABASE_URL", "sqlite:///data/x.db?timeout=3")
    env.setenv("KYC_KEK_FILE", "secrets/kek")
    env.setenv("KYC_BEAT_SCHEDULE_FILE", "var/beat-schedule")
    settings = load_settings({"KEYSTORE_URL": "sqlite:///var/keys.db"})
    assert settings["DATABASE_URL"] == f"sqlite:///{home}/data/x.db?timeout=3"
    assert settings["KEYSTORE_URL"] == f"sqlite:///{home}/var/keys.db"
    assert settings["KEK_FILE"] == str(home / "secrets" / "kek")
    assert settings["BEAT_SCHEDULE_FILE"] == str(home / "var" / "beat-schedule")


def test_the_defaults_live_in_kyc_home_var(env, tmp_path):
    settings = load_settings({"KEK": None})  # no key configured
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/var/kyc.db"
    assert settings["KEYSTORE_URL"] == f"sqlite:///{tmp_path}/var/keys.db"
    assert settings["KEK_FILE"] == str(tmp_path / "var" / "kek.json")  # development only
    assert load_settings({"ENV": "production", "KEK": None})["KEK_FILE"] is None
    assert load_settings({"KEK": "a-key"})["KEK_FILE"] is None


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:////srv/kyc/kyc.db",
        "postgresql://u:secret@h:5433/db",
        "sqlite:///file:x?mode=memory&uri=true",
    ],
)
def test_other_urls_are_left_as_they_are(env, url):
    assert load_settings({"DATABASE_URL": url})["DATABASE_URL"] == url


def test_kyc_home_is_the_variable_else_the_checkout_else_the_working_directory(env, tmp_path):
    assert kyc_home() == tmp_path
    env.delenv("KYC_HOME")
    checkout = Path(config_module.__file__).resolve().parent.parent
    assert (checkout / "setup.cfg").is_file()  # the tests run from a source checkout
    assert kyc_home() == checkout
    env.setattr(config_module, "source_checkout", lambda: None)
    assert kyc_home() == tmp_path


def test_the_mapping_given_to_create_app_beats_env_and_dotenv(env, tmp_path):
    (tmp_path / ".env").write_text("KYC_RETENTION_DAYS=12\n")
    env.setenv("KYC_RATE_LIMIT", "7 per minute")
    app = build(tmp_path, RATE_LIMIT="9 per hour", RETENTION_DAYS=99)
    assert app.config["RATE_LIMIT"] == "9 per hour"
    assert app.config["RETENTION_DAYS"] == 99


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u:secret@h:5433/db", "postgresql+psycopg://u:secret@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///var/kyc.db", "sqlite:///var/kyc.db"),
    ],
)
def test_normalise_url_chooses_psycopg_for_postgresql(url, expected):
    assert normalise_url(url) == expected


def test_a_plain_postgresql_url_makes_a_psycopg_engine():
    engine = make_engine("postgresql://u@h/db")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


def test_an_app_on_a_plain_postgresql_url_is_ready(postgres_url, tmp_path):
    url = make_url(postgres_url).set(drivername="postgresql")
    plain = url.render_as_string(hide_password=False)
    assert plain.startswith("postgresql://")
    settings = {"DATABASE_URL": plain, "KEYSTORE_URL": f"sqlite:///{tmp_path / 'k.db'}"}
    migrate(load_settings(settings))
    app = create_app(settings)
    try:
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        app.extensions["kyc"].close()


def test_an_unknown_adapter_fails_listing_the_installed_ones(env, tmp_path):
    env.setenv("KYC_IDENTITY_ADAPTER", "nope")
    with pytest.raises(AdapterConfigurationError) as failure:
        build(tmp_path)
    message = str(failure.value)
    assert "IDENTITY_ADAPTER" in message and "'nope'" in message
    assert "sandbox" in message
