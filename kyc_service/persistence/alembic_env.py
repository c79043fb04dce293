"""What both Alembic environments (the data's and the key store's) run."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Engine

from kyc_service.persistence.keystore_tables import KeyStoreBase
from kyc_service.persistence.tables import Base, UtcDateTime


def _render_item(type_: str, item: Any, autogen_context: Any) -> str | bool:
    """Write the service's UTC datetime type as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    """Migrate the engine bound in the configuration's attributes, with the right metadata."""
    attributes = context.config.attributes
    engine: Engine = attributes["engine"]
    metadata = KeyStoreBase.metadata if attributes.get("keystore") else Base.metadata
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=_render_item,
            version_table=attributes.get("version_table", "alembic_version"),
        )
        with context.begin_transaction():
            context.run_migrations()
