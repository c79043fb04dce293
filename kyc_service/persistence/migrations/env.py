"""Alembic environment: see ``kyc_service.persistence.alembic_env``."""

from kyc_service.persistence.alembic_env import run_migrations

run_migrations()
