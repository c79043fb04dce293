"""A unit of work: one session, its repositories, commit or roll back as one."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from kyc_service.persistence.repositories import (
    ApiKeyRepository,
    IdempotencyRepository,
    TenantRepository,
    VerificationRepository,
)


class UnitOfWork:
    """Use as ``with uow: …; uow.commit()``; anything not committed is rolled back.

    Leaving the block closes the session without expiring what it loaded, so the
    objects read inside stay readable (detached) outside.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        self.tenants = TenantRepository(self.session)
        self.api_keys = ApiKeyRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.verifications = VerificationRepository(self.session)
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
