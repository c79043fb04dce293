"""Alembic environment: migrates the database named by the service's settings."""

from alembic import context
from sqlalchemy import Engine

from kyc_service.persistence.tables import Base

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
