"""The key store's tables: wrapped data keys, in a database apart from the data.

Backed up on its own, so restoring a backup of the data never brings back a destroyed key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kyc_service.persistence.tables import UtcDateTime


class KeyStoreBase(DeclarativeBase):
    """Declarative base of the key store (its own metadata and migrations)."""


class DataKeyRow(KeyStoreBase):
    """One wrapped data key: a subject's, or the blind-index key."""

    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    kek_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rewrapped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
