"""An event: one status change of a verification, as recorded and delivered to webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """``verification.<status>`` with the masked verification object as it stood then."""

    id: str
    tenant_id: str
    mode: str
    type: str
    verification_id: str | None
    payload: dict[str, Any]
    created_at: datetime
