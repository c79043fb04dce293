"""The SQLAlchemy unit of work: one session, its repositories, commit or roll back as one."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from kyc_service.persistence.audit_event_repository import SqlAuditEventRepository
from kyc_service.persistence.phone_repository import PhoneVerificationRepository
from kyc_service.persistence.repositories import (
    ApiKeyRepository,
    IdempotencyRepository,
    TenantRepository,
)
from kyc_service.persistence.upstream_call_repository import SqlUpstreamCallRepository
from kyc_service.persistence.verification_repository import SqlVerificationRepository
from kyc_service.persistence.webhook_repository import SqlEventRepository, WebhookRepository
from kyc_service.persistence.wrapped_values import SqlWrappedValueRepository
from kyc_service.ports.storage import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """Use as ``with uow: …; uow.commit()``; anything not committed is rolled back.

    Leaving the block closes the session without expiring what it loaded, so the
    objects read inside stay readable (detached) outside. The vault works in the same
    session (``uow.session``), so sealed data and the verification commit together.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self.session_factory()
        self.tenants = TenantRepository(self.session)
        self.api_keys = ApiKeyRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.verifications = SqlVerificationRepository(self.session)
        self.events = SqlEventRepository(self.session)
        self.webhooks = WebhookRepository(self.session)
        self.phones = PhoneVerificationRepository(self.session)
        self.wrapped_values = SqlWrappedValueRepository(self.session)
        self.upstream_calls = SqlUpstreamCallRepository(self.session)
        self.audit_events = SqlAuditEventRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.session.close()

    def commit(self) -> None:
        """Commit everything staged in this unit of work."""
        self.session.commit()

    def rollback(self) -> None:
        """Discard everything staged since the last commit."""
        self.session.rollback()

    def flush(self) -> None:
        """Send what is staged to the database without committing."""
        self.session.flush()
