"""Settings: defaults, then ``$KYC_HOME/.env``, then ``KYC_``-prefixed environment variables.

Every relative path in the settings — a SQLite database (``sqlite:///var/kyc.db``),
``KYC_KEK_FILE``, ``KYC_BEAT_SCHEDULE_FILE`` — is relative to ``KYC_HOME``, not to the
working directory, so a command run from cron or another directory finds the same files.
``KYC_HOME`` is the environment variable if set; else the source checkout the service runs
from (the directory with its ``setup.cfg``); else the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Config
from sqlalchemy.engine import make_url

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "DATABASE_URL": "sqlite:///var/kyc.db",
    "KEYSTORE_URL": "sqlite:///var/keys.db",
    "KEK_ADAPTER": "local",
    "KEK_FILE": None,
    "KEK": None,
    "EXECUTOR": "inline",
    "BROKER_URL": None,
    "REDIS_URL": None,
    "IDENTITY_ADAPTER": "sandbox",
    "PORTRAIT_ADAPTER": "sandbox",
    "BANK_ADAPTER": "sandbox",
    "REGISTRY_ADAPTER": "sandbox",
    "ACCOUNT_ADAPTER": "sandbox",
    "DEPOSIT_ATTEMPTS": 3,
    "DEPOSIT_HOURS": 72,
    "SMS_ADAPTER": "sandbox",
    "FACE_ADAPTER": "face_recognition",
    "OCR_ADAPTER": "rapidocr",
    "IMAGING_ADAPTER": "opencv",
    "WEBHOOKS_ADAPTER": "http",
    "MAX_UPLOAD_MB": 10,
    "MAX_IMAGE_MEGAPIXELS": 40,
    "RETENTION_DAYS": 365,
    "DOCUMENT_RETENTION_DAYS": 30,
    "RATE_LIMIT": "50 per second",
    "IDEMPOTENCY_TTL_HOURS": 24,
    "IDEMPOTENCY_WAIT_SECONDS": 10,
    "IDEMPOTENCY_LEASE_SECONDS": 150,
    "LOG_LEVEL": "INFO",
    "DB_POOL_SIZE": 5,
    "UPSTREAM_RETRY_LIMIT": 5,
    "UPSTREAM_RETRY_SECONDS": 60,
    "CHECKS_LEASE_SECONDS": 600,
    "UNFINISHED_RUNS_LIMIT": 3,
    "TASK_TIME_LIMIT": 300,
    "BEAT_RETRY_SECONDS": 30,
    "BEAT_WEBHOOKS_SECONDS": 10,
    "BEAT_DEPOSITS_SECONDS": 300,
    "BEAT_RETENTION_SECONDS": 3600,
    "BEAT_SCHEDULE_FILE": None,
    "MIN_IMAGE_WIDTH": 320,
    "MIN_IMAGE_HEIGHT": 240,
    "METRICS_ALLOW": "127.0.0.1/32,::1/128",
    "WEBHOOKS_ENDPOINTS_PER_MODE": 16,
    "WEBHOOKS_DEADLINE_SECONDS": 10,
    "WEBHOOKS_CONCURRENCY": 8,
    "UNAUTHENTICATED_RATE_LIMIT": "20 per second",
    "AUTH_CACHE_SECONDS": 2,
}


HOME_VARIABLE = "KYC_HOME"
DEVELOPMENT_KEK_FILE = "var/kek.json"
"""The development key-encryption key file (``kyc-service dev-setup``), under ``KYC_HOME``."""
PATH_SETTINGS = ("KEK_FILE", "BEAT_SCHEDULE_FILE")
"""Settings that name a file; a relative one is taken from ``KYC_HOME``."""
URL_SETTINGS = ("DATABASE_URL", "KEYSTORE_URL")
"""Settings that name a database; a relative SQLite file is taken from ``KYC_HOME``."""


def kyc_home() -> Path:
    """Return ``KYC_HOME``: the variable if set, else the source checkout, else the cwd."""
    value = os.environ.get(HOME_VARIABLE, "").strip()
    if value:
        return Path(value).expanduser().resolve()
    return source_checkout() or Path.cwd()


def source_checkout() -> Path | None:
    """Return the project directory when the service runs from a source (or editable)
    checkout: the one above the package holding this project's ``setup.cfg``."""
    root = Path(__file__).resolve().parent.parent
    try:
        metadata = (root / "setup.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    if (root / "pyproject.toml").is_file() and "name = kyc-service" in metadata:
        return root
    return None


def load_settings(config: Mapping[str, Any] | None = None, root: Path | None = None) -> Config:
    """Return the settings: defaults, then ``.env`` and ``KYC_*`` variables, then ``config``.

    Keys are the variable names without the ``KYC_`` prefix (``DATABASE_URL``). ``.env`` is
    read from ``KYC_HOME`` (``HOME`` in ``config`` overrides the variable); ``HOME`` in the
    result is that directory, and every relative path in the settings is made absolute
    under it.
    """
    home = Path(config["HOME"]).resolve() if config and config.get("HOME") else kyc_home()
    settings = Config(str(root or home))
    settings.from_mapping(DEFAULTS)
    load_dotenv(home / ".env", override=False)
    settings.from_prefixed_env("KYC")
    if config:
        settings.from_mapping(config)
    settings["HOME"] = str(home)
    anchor_paths(settings, home)
    return settings


def anchor_paths(settings: dict[str, Any], home: Path) -> None:
    """Make the settings' relative paths absolute under ``home``; in development, name the
    development key-encryption key file when no key is configured."""
    for name in URL_SETTINGS:
        if settings.get(name):
            settings[name] = anchor_sqlite_url(str(settings[name]), home)
    for name in PATH_SETTINGS:
        if settings.get(name):
            settings[name] = str(home / Path(str(settings[name])).expanduser())
    development = settings.get("ENV") != "production"
    if development and not settings.get("KEK") and not settings.get("KEK_FILE"):
        settings["KEK_FILE"] = str(home / DEVELOPMENT_KEK_FILE)


def anchor_sqlite_url(url: str, home: Path) -> str:
    """Return ``url`` with a relative SQLite file made absolute under ``home``; any other
    URL (PostgreSQL, an absolute file, memory, a ``file:`` URI) as it is."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is reported where it is used
        return url
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(home / database)).render_as_string(hide_password=False)


def adapter_settings(settings: Mapping[str, Any], port: str) -> dict[str, Any]:
    """Return the settings of one port's adapter: ``IDENTITY_URL`` becomes ``url``."""
    prefix = port.upper() + "_"
    return {
        key[len(prefix) :].lower(): value
        for key, value in settings.items()
        if key.startswith(prefix) and key != prefix + "ADAPTER"
    }
