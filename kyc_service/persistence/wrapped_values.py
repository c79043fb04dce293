"""The values wrapped by a KEK outside the key store: webhook secrets, idempotent responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kyc_service.persistence.tables import IdempotencyRow, WebhookEndpointRow


class SqlWrappedValueRepository:
    """Read and swap, by compare-and-set, the KEK-wrapped values of the service database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def endpoint_secrets_not_under(self, kek_id: str, after: str, limit: int) -> Sequence[Any]:
        """Endpoints (``id``, ``secret_kek_id``, ``secret_wrapped``) not under ``kek_id``."""
        return self.session.execute(
            select(
                WebhookEndpointRow.id,
                WebhookEndpointRow.secret_kek_id,
                WebhookEndpointRow.secret_wrapped,
            )
            .where(WebhookEndpointRow.id > after, WebhookEndpointRow.secret_kek_id != kek_id)
            .order_by(WebhookEndpointRow.id)
            .limit(limit)
        ).all()

    def replace_endpoint_secret(
        self, endpoint_id: str, seen: str, kek_id: str, wrapped: str
    ) -> int:
        """Store a re-wrapped secret unless it changed since it was read; 1 if stored."""
        result = self.session.execute(
            update(WebhookEndpointRow)
            .where(WebhookEndpointRow.id == endpoint_id, WebhookEndpointRow.secret_wrapped == seen)
            .values(secret_kek_id=kek_id, secret_wrapped=wrapped)
        )
        return result.rowcount or 0

    def sealed_responses_not_under(
        self, sealed_prefix: str, current_prefix: str, after: int, limit: int
    ) -> Sequence[Any]:
        """Responses (``id``, ``tenant_id``, ``mode``, ``key``, ``response_body``) sealed
        under another KEK than the one of ``current_prefix``."""
        return self.session.execute(
            select(
                IdempotencyRow.id,
                IdempotencyRow.tenant_id,
                IdempotencyRow.mode,
                IdempotencyRow.key,
                IdempotencyRow.response_body,
            )
            .where(
                IdempotencyRow.id > after,
                IdempotencyRow.response_body.startswith(sealed_prefix),
                ~IdempotencyRow.response_body.startswith(current_prefix),
            )
            .order_by(IdempotencyRow.id)
            .limit(limit)
        ).all()

    def replace_response(self, row_id: int, seen: str, body: str) -> int:
        """Store a re-sealed response unless it changed since it was read; 1 if stored."""
        result = self.session.execute(
            update(IdempotencyRow)
            .where(IdempotencyRow.id == row_id, IdempotencyRow.response_body == seen)
            .values(response_body=body)
        )
        return result.rowcount or 0

    def endpoint_secret_keks(self) -> set[str]:
        """The KEK ids that wrap a webhook secret."""
        return set(self.session.scalars(select(WebhookEndpointRow.secret_kek_id).distinct()))

    def sealed_responses(self, sealed_prefix: str) -> Sequence[str]:
        """Every sealed idempotent response body."""
        return self.session.scalars(
            select(IdempotencyRow.response_body).where(
                IdempotencyRow.response_body.startswith(sealed_prefix)
            )
        ).all()
