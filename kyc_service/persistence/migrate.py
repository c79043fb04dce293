"""Alembic migrations run from code, without an ``alembic.ini``: the data and the key store."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from kyc_service.persistence.database import check_connection

HERE = Path(__file__).parent
DATA_MIGRATIONS = HERE / "migrations"
KEYSTORE_MIGRATIONS = HERE / "keystore_migrations"


def alembic_config(engine: Engine, keystore: bool = False) -> Config:
    """Return an Alembic configuration bound to ``engine`` (the key store's with ``keystore``)."""
    config = Config()
    location = KEYSTORE_MIGRATIONS if keystore else DATA_MIGRATIONS
    config.set_main_option("script_location", str(location))
    config.attributes["engine"] = engine
    config.attributes["keystore"] = keystore
    config.attributes["version_table"] = "keystore_version" if keystore else "alembic_version"
    return config


def upgrade(engine: Engine, revision: str = "head", keystore: bool = False) -> None:
    """Migrate the database behind ``engine`` to ``revision``.

    A database that cannot be reached or does not exist fails first with one line
    (:class:`~kyc_service.persistence.database.DatabaseUnavailable`), never a traceback.
    """
    check_connection(engine, "KYC_KEYSTORE_URL" if keystore else "KYC_DATABASE_URL")
    command.upgrade(alembic_config(engine, keystore), revision)


def revision(engine: Engine, message: str, keystore: bool = False) -> None:
    """Write a new migration that brings the schema up to the tables (developer tool)."""
    command.revision(alembic_config(engine, keystore), message=message, autogenerate=True)


@functools.cache
def _heads(keystore: bool) -> frozenset[str]:
    """The head revisions of the data (or key store) migrations."""
    config = Config()
    location = KEYSTORE_MIGRATIONS if keystore else DATA_MIGRATIONS
    config.set_main_option("script_location", str(location))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def is_current(engine: Engine, keystore: bool = False) -> bool:
    """Tell whether the database behind ``engine`` is migrated to this version's head."""
    table = "keystore_version" if keystore else "alembic_version"
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": table})
        return frozenset(context.get_current_heads()) == _heads(keystore)
