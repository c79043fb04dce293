"""Settings: defaults, then a ``.env`` file, then ``KYC_``-prefixed environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Config

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


def load_settings(config: Mapping[str, Any] | None = None, root: Path | None = None) -> Config:
    """Return the settings: defaults, then ``.env`` and ``KYC_*`` variables, then ``config``.

    Keys are the variable names without the ``KYC_`` prefix (``DATABASE_URL``).
    """
    settings = Config(str(root or Path.cwd()))
    settings.from_mapping(DEFAULTS)
    load_dotenv(Path.cwd() / ".env", override=False)
    settings.from_prefixed_env("KYC")
    if config:
        settings.from_mapping(config)
    return settings


def adapter_settings(settings: Mapping[str, Any], port: str) -> dict[str, Any]:
    """Return the settings of one port's adapter: ``IDENTITY_URL`` becomes ``url``."""
    prefix = port.upper() + "_"
    return {
        key[len(prefix) :].lower(): value
        for key, value in settings.items()
        if key.startswith(prefix) and key != prefix + "ADAPTER"
    }
