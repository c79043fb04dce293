"""Storage ports: the unit of work, its repositories, and the vault as the use cases see it.

The use cases depend on these abstractions only; the SQLAlchemy implementations are in
``kyc_service.persistence`` (and the vault in ``kyc_service.vault``), and the tests' fakes
in ``tests/fakes.py``. A unit of work is one transaction: ``with uow: …; uow.commit()`` —
anything not committed is rolled back when the block ends.

Records other than verifications and events (tenants, API keys, idempotency claims, phone
verifications, webhook endpoints and deliveries) are returned as read-only objects with the
attributes their repository's docstring names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from kyc_service.domain.events import Event
from kyc_service.domain.sealing import SubjectCopy, SubjectRef, SweepReport
from kyc_service.domain.usage import UpstreamCall
from kyc_service.domain.verification import Verification

Clock = Callable[[], datetime]
"""The one clock of a process: returns the current time, timezone-aware in UTC."""


class VerificationRepository(Protocol):
    """Verifications: by tenant and mode for a client, by id alone for workers."""

    def add(self, verification: Verification) -> None:
        """Stage a new verification (its ``seq`` is set)."""

    def get(self, tenant_id: str, mode: str, verification_id: str) -> Verification | None:
        """Return the verification if it belongs to this tenant and mode."""

    def by_id(self, verification_id: str, *, for_update: bool = False) -> Verification | None:
        """Return a verification by id alone (locked for this transaction if asked)."""

    def save(
        self, verification: Verification, *, strict: bool = False, lease: datetime | None = None
    ) -> None:
        """Store the changes; refuse (409) if its status changed since it was loaded
        (``strict``: if the verification was written at all since; ``lease``: if its next
        attempt is no longer that — another run claimed it)."""

    def page(
        self,
        tenant_id: str,
        mode: str,
        *,
        limit: int,
        after_seq: int | None = None,
        filters: Mapping[str, str] | None = None,
        oldest_first: bool = False,
    ) -> Sequence[Verification]:
        """Return up to ``limit`` verifications after ``after_seq``: newest first, or
        ``oldest_first``."""

    def of_subject(self, ref: SubjectRef, *, for_update: bool = False) -> Sequence[Verification]:
        """Return every verification of one subject."""

    def due_for_retry(self, now: datetime, limit: int) -> Sequence[tuple[str, datetime]]:
        """Return (id, next attempt) of processing verifications whose attempt is due."""

    def claim_attempt(self, verification_id: str, seen: datetime, lease_until: datetime) -> bool:
        """Move a due attempt to ``lease_until`` unless another worker already did (the
        periodic retry's claim; the run it starts counts itself with ``claim_run``)."""

    def claim_run(
        self, verification_id: str, seen: datetime, lease_until: datetime, *, below: int
    ) -> Verification | None:
        """Claim a run of the checks and read the verification in one step: only if it is
        processing, its lease is still ``seen`` and fewer than ``below`` runs stopped
        unfinished (then its lease moves to ``lease_until`` and ``unfinished_runs`` goes up
        by one); None, with nothing written, otherwise."""

    def hold_run(
        self, verification_id: str, lease_until: datetime, *, below: int
    ) -> Verification | None:
        """``claim_run`` for a run without a lease token (whatever the lease): its next
        attempt moves to ``lease_until``, so the periodic retry leaves it alone meanwhile."""

    def expired_deposits(self, now: datetime, limit: int) -> Sequence[str]:
        """Ids of verifications awaiting a micro-deposit past its time."""


class EventRepository(Protocol):
    """Events of one tenant and mode."""

    def add_for_delivery(self, event: Event) -> Sequence[Any]:
        """Write an event; return the enabled endpoints of its tenant and mode (as
        PostgreSQL's ``FOR KEY SHARE``: an endpoint's delete waits), to queue its deliveries to."""

    def get(self, tenant_id: str, mode: str, event_id: str) -> Any | None:
        """Return the event record (``seq``, ``id``, ``type``, ``payload``, ``created_at``)."""

    def page(
        self, tenant_id: str, mode: str, *, limit: int, after_seq: int | None, type_: str | None
    ) -> Sequence[Any]:
        """Return up to ``limit`` event records, newest first."""


class WebhookRepository(Protocol):
    """Endpoints (``id``, ``seq``, ``url``, ``events``, ``mode``, ``secret_kek_id``,
    ``secret_wrapped``, ``created_at``, ``disabled_at``, ``previous_secret_expires_at``) and
    their deliveries."""

    def add_endpoint(self, **values: Any) -> Any:
        """Stage a new endpoint and return it."""

    def endpoint(self, tenant_id: str, mode: str, endpoint_id: str) -> Any | None:
        """Return the endpoint if it belongs to this tenant and mode."""

    def endpoints(
        self, tenant_id: str, mode: str, *, limit: int | None = None, after_seq: int | None = None
    ) -> Sequence[Any]:
        """Return the tenant's endpoints in this mode, enabled or disabled, newest first."""

    def update_endpoint(self, endpoint_id: str, **values: Any) -> None:
        """Change an endpoint's ``url``, ``events`` or ``disabled_at``."""

    def replace_secret(
        self,
        endpoint_id: str,
        seen: str,
        *,
        kek_id: str,
        wrapped: str,
        previous_expires_at: datetime | None,
    ) -> bool:
        """Store new wrapped secrets unless they changed since ``seen`` was read; True if
        stored."""

    def expired_previous_secrets(self, now: datetime, limit: int) -> Sequence[Any]:
        """Endpoints whose replaced secret stopped signing by ``now``."""

    def cancel_pending_deliveries(self, endpoint_id: str, reason: str) -> int:
        """Stop the endpoint's pending deliveries (state ``canceled``); how many."""

    def delete_endpoint(self, endpoint_id: str) -> int:
        """Delete an endpoint and its deliveries; how many were still pending."""

    def lock_tenant_endpoints(self, tenant_id: str, mode: str) -> None:
        """Serialise changes to one tenant and mode's endpoints, for this transaction."""

    def add_delivery(self, event_id: str, endpoint_id: str, at: datetime) -> None:
        """Queue one delivery of an event to an endpoint, due at ``at``."""

    def due_deliveries(self, now: datetime, limit: int) -> Sequence[tuple[int, datetime]]:
        """Return (id, next attempt) of due deliveries."""

    def claim(self, delivery_id: int, seen: datetime, lease_until: datetime) -> bool:
        """Take a due delivery for one runner."""

    def delivery(self, delivery_id: int) -> tuple[Any, Any, Any] | None:
        """Return a delivery (``id``, ``attempts``), its event record and its endpoint."""

    def finish_attempt(self, delivery_id: int, lease_until: datetime, **values: Any) -> bool:
        """Record an attempt's outcome unless the lease was lost."""


class TenantRepository(Protocol):
    """Tenants (``id``, ``name``)."""

    def by_name(self, name: str) -> Any | None:
        """Return the tenant called ``name``."""

    def create(self, **values: Any) -> Any:
        """Stage a new tenant and return it."""


class ApiKeyRepository(Protocol):
    """API keys (``id``, ``tenant_id``, ``mode``, ``scopes``, ``salt``, ``secret_hash``)."""

    def by_lookup(self, lookup: str) -> Any | None:
        """Return the key with this lookup prefix."""

    def create(self, **values: Any) -> Any:
        """Stage a new key and return it."""


class PhoneVerificationRepository(Protocol):
    """Phone verifications (``id``, ``status``, ``attempts``, ``code_salt``, ``code_hash``,
    ``expires_at``, ``phone_index``, ``phone_masked``, …)."""

    def get(self, tenant_id: str, mode: str, pv_id: str) -> Any | None:
        """Return the phone verification if it belongs to this tenant and mode."""

    def create(self, **values: Any) -> Any:
        """Stage a new phone verification (counted by ``sent_since`` at once)."""

    def refresh(self, row: Any) -> None:
        """Read the record's current values again."""

    def lock_phone(self, tenant_id: str, mode: str, phone_index: str) -> None:
        """Serialise sends to one phone for this transaction."""

    def sent_since(
        self, tenant_id: str, mode: str, phone_index: str, since: datetime, *, excluding: str = ""
    ) -> Sequence[datetime]:
        """Return when codes were sent to the phone since ``since``."""

    def delete(self, pv_id: str) -> None:
        """Drop a phone verification."""

    def count_wrong_code(self, pv_id: str, max_attempts: int) -> int | None:
        """Count one wrong code; return the attempts so far, or None if none was left."""

    def mark_verified(self, pv_id: str, max_attempts: int, now: datetime) -> bool:
        """Mark it verified unless attempts ran out; True if marked."""


class IdempotencyRepository(Protocol):
    """Idempotency claims (``id``, ``request_hash``, ``status_code``, ``response_body``, …)."""

    def get(self, tenant_id: str, mode: str, key: str) -> Any | None:
        """Return the claim of a key."""

    def by_id(self, row_id: int) -> Any | None:
        """Return a claim by id."""

    def claim(self, **values: Any) -> Any | None:
        """Insert a claim unless the key is taken; return it, or None when taken."""

    def complete(self, row_id: int, status: int, body: str, headers: dict[str, str]) -> None:
        """Store the response of the request that holds the claim."""

    def delete(self, row_id: int) -> None:
        """Drop a claim."""

    def delete_expired(self, now: datetime) -> int:
        """Drop claims past their time; return how many."""


class WrappedValueRepository(Protocol):
    """Every value wrapped by a KEK outside the key store (webhook secrets, idempotent
    responses), for key rotation. Each swap is a compare-and-set on the value read."""

    def endpoint_secrets_not_under(self, kek_id: str, after: str, limit: int) -> Sequence[Any]:
        """Endpoints (``id``, ``secret_kek_id``, ``secret_wrapped``) not under ``kek_id``."""

    def replace_endpoint_secret(
        self, endpoint_id: str, seen: str, kek_id: str, wrapped: str
    ) -> int:
        """Store a re-wrapped secret unless it changed since it was read; 1 if stored."""

    def sealed_responses_not_under(
        self, sealed_prefix: str, current_prefix: str, after: int, limit: int
    ) -> Sequence[Any]:
        """Responses (``id``, ``tenant_id``, ``mode``, ``key``, ``response_body``) sealed
        under another KEK."""

    def replace_response(self, row_id: int, seen: str, body: str) -> int:
        """Store a re-sealed response unless it changed since it was read; 1 if stored."""

    def endpoint_secret_keks(self) -> set[str]:
        """The KEK ids that wrap a webhook secret."""

    def sealed_responses(self, sealed_prefix: str) -> Sequence[str]:
        """Every sealed idempotent response body."""


class UpstreamCallRepository(Protocol):
    """The call ledger: upstream verifier calls, without personal data."""

    def add(
        self,
        tenant_id: str,
        mode: str,
        verification_id: str | None,
        calls: Sequence[UpstreamCall],
        at: datetime,
    ) -> None:
        """Store the calls; a call billable under a request id already billed is stored as
        not billable (one charge per request id)."""

    def summary(
        self, tenant_id: str, mode: str, start: datetime, end: datetime
    ) -> Sequence[tuple[str, str, str, int, int]]:
        """``(role, provider, outcome, calls, billable calls)`` of ``[start, end)``."""

    def of_verification(self, verification_id: str) -> Sequence[UpstreamCall]:
        """A verification's calls, oldest first."""


class AuditEventRepository(Protocol):
    """The audit chain, read per tenant and mode. Records have ``id``, ``actor``,
    ``action``, ``reference``, ``verification_id``, ``reason``, ``details``, ``created_at``."""

    def seq_of(self, tenant_id: str, mode: str, event_id: str) -> int | None:
        """The position of the tenant's event (None when unknown or foreign)."""

    def page(
        self,
        tenant_id: str,
        mode: str,
        *,
        limit: int,
        after_seq: int | None = None,
        verification_id: str | None = None,
        reference: str | None = None,
    ) -> Sequence[Any]:
        """Up to ``limit`` events older than ``after_seq``, newest first."""


class UnitOfWork(ABC):
    """One transaction over the repositories."""

    verifications: VerificationRepository
    events: EventRepository
    webhooks: WebhookRepository
    tenants: TenantRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    phones: PhoneVerificationRepository
    wrapped_values: WrappedValueRepository
    upstream_calls: UpstreamCallRepository
    audit_events: AuditEventRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()

    @abstractmethod
    def commit(self) -> None:
        """Commit everything staged in this unit of work."""

    @abstractmethod
    def rollback(self) -> None:
        """Discard everything staged since the last commit."""

    @abstractmethod
    def flush(self) -> None:
        """Send what is staged to the database (ids, constraints) without committing."""


class SealedStore(Protocol):
    """The vault as the use cases see it: each call inside the caller's unit of work."""

    clock: Clock

    def put_fields(
        self,
        uow: UnitOfWork,
        ref: SubjectRef,
        verification_id: str,
        fields: Mapping[str, str],
        *,
        purposes: Mapping[str, Iterable[str]],
        indexed: Mapping[str, str],
        replace: bool,
    ) -> None:
        """Seal each field (name → value) under the subject's data key, with its purposes;
        blind-index the ``indexed`` ones (name → kind)."""

    def get_fields(
        self,
        uow: UnitOfWork,
        ref: SubjectRef,
        verification_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> dict[str, str]:
        """Open a verification's fields (audited); DataUnavailable when gone."""

    def put_document(
        self,
        uow: UnitOfWork,
        ref: SubjectRef,
        verification_id: str,
        kind: str,
        image: bytes,
        media_type: str,
        purposes: Iterable[str],
        *,
        quality: Mapping[str, Any] | None = None,
    ) -> str:
        """Seal a document image; a second of the same kind replaces it. Return its id."""

    def document_kinds(self, uow: UnitOfWork, ref: SubjectRef, verification_id: str) -> list[str]:
        """Return the kinds of the documents held for a verification."""

    def documents(
        self, uow: UnitOfWork, ref: SubjectRef, verification_id: str
    ) -> dict[str, tuple[str, dict]]:
        """Return kind → (document id, measures) of a verification's documents."""

    def get_document(
        self,
        uow: UnitOfWork,
        ref: SubjectRef,
        document_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> tuple[bytes, str]:
        """Open a document image (audited); DataUnavailable when gone."""

    def unreadable(self, uow: UnitOfWork, ref: SubjectRef) -> str | None:
        """Why the subject's data can no longer be opened (``not_held``, ``erased``,
        ``past_retention``: the reasons of DataUnavailable), or None while it can; opens
        nothing. It looks at the subject only: a verification's own fields deleted (a
        withdrawal) or a key destroyed without the erasure recorded pass here and fail on
        opening — the erasure and the withdrawal cancel their verifications themselves."""

    def record_decision(
        self, uow: UnitOfWork, ref: SubjectRef, verification_id: str, decided_at: datetime
    ) -> None:
        """Start the retention clocks of a decided verification's data."""

    def erase(
        self, uow: UnitOfWork, ref: SubjectRef, *, actor: str, reason: str | None = None
    ) -> datetime | None:
        """Destroy the subject's key and data; return when, or None if never held."""

    def sweep(self, uow: UnitOfWork, batch: int = 500) -> SweepReport:
        """Delete what is past its retention."""

    def export(
        self, uow: UnitOfWork, ref: SubjectRef, *, actor: str, include_documents: bool = False
    ) -> SubjectCopy | None:
        """Everything held about the subject, opened (audited); None for one never held."""

    def withdraw(
        self, uow: UnitOfWork, ref: SubjectRef, purposes: Iterable[str], *, actor: str
    ) -> int:
        """Delete what was held only for the withdrawn purposes; return how many items."""

    def withdrawn(self, uow: UnitOfWork, ref: SubjectRef) -> tuple[str, ...]:
        """The purposes the subject has withdrawn (and not granted again since)."""

    def consent_given(
        self, uow: UnitOfWork, ref: SubjectRef, purposes: Iterable[str], *, actor: str
    ) -> None:
        """A fresh consent grants withdrawn purposes again."""

    def keyed_digest(self, tenant_id: str, purpose: str, value: str) -> str:
        """A tenant-scoped keyed hash of ``value`` (the key is kept apart from the data)."""

    def record_access(
        self,
        uow: UnitOfWork,
        tenant_id: str,
        mode: str,
        *,
        actor: str,
        action: str,
        details: Mapping[str, Any] | None = None,
        reference: str | None = None,
    ) -> None:
        """Append an event about no one subject (an ops read), or about the subject
        ``reference`` it was narrowed to, to the audit chain."""

    def record_action(
        self,
        uow: UnitOfWork,
        ref: SubjectRef,
        verification_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Append an event to the audit chain (who did what, and why; masked)."""
