"""The tables, declared with SQLAlchemy 2. Personal data never lives in a plain column.

Binary values (hashes, salts, ciphertexts) are kept as digit-free text, never as bytea or
hex: a dump then shows no long runs of digits that could be mistaken for, or hide, a
leaked ID, card or phone number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class TenantRow(Base):
    """A client application; every object belongs to one."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ApiKeyRow(Base):
    """An API key: only a lookup prefix and a salted hash of it are kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    scopes: Mapped[str] = mapped_column(Text)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdempotencyRow(Base):
    """A claimed ``Idempotency-Key`` and, once done, the (masked, JSON) response to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "mode", "key", name="uq_idempotency_key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    mode: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class VerificationRow(Base):
    """A verification's state, checks and masked display copy (never plain personal data)."""

    __tablename__ = "verifications"
    __table_args__ = (
        Index("ix_verifications_scope", "tenant_id", "mode", "seq"),
        Index("ix_verifications_reference", "tenant_id", "mode", "reference"),
    )

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    mode: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), index=True)
    requirements: Mapped[list[str]] = mapped_column(JSON, default=list)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    masked: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[str | None] = mapped_column(String(40))
    redacted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    unfinished_runs: Mapped[int] = mapped_column(Integer, default=0)
    """Runs of the checks started in a row that recorded nothing (see migration 0008)."""
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    consent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deposit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """An awaited micro-deposit: the keyed hash of its amount, attempts left, expiry."""


class SubjectRow(Base):
    """A data subject: a tenant's ``reference`` in one mode; its data key is in the key store."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("tenant_id", "mode", "reference", name="uq_subject"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    mode: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str] = mapped_column(String(255))
    key_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retain_until: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    withdrawn_purposes: Mapped[list[str]] = mapped_column(JSON, default=list)


class VaultFieldRow(Base):
    """One sealed personal field (AES-256-GCM under the subject's data key, as text)."""

    __tablename__ = "vault_fields"
    __table_args__ = (
        UniqueConstraint("subject_id", "verification_id", "name", name="uq_vault_field"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    verification_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[str] = mapped_column(Text)
    blind_index: Mapped[str | None] = mapped_column(String(64), index=True)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VaultDocumentRow(Base):
    """One sealed document image, re-encoded before sealing."""

    __tablename__ = "vault_documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    verification_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    media_type: Mapped[str] = mapped_column(String(40))
    ciphertext: Mapped[str] = mapped_column(Text)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delete_after: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class AuditEventRow(Base):
    """An append-only audit event; ``hash`` covers its fields and the previous event's hash
    (the previous one of its ``chain``)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_chain_seq", "chain", "seq"),)

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    chain: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(40), index=True)
    mode: Mapped[str | None] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    verification_id: Mapped[str | None] = mapped_column(String(40), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainRow(Base):
    """The head of one audit chain (a row per chain): its appenders lock it to take turns."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigIntId, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class EventRow(Base):
    """An event: a verification's status change, with its masked object, kept for polling."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_scope", "tenant_id", "mode", "seq"),)

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    mode: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(64))
    verification_id: Mapped[str | None] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookEndpointRow(Base):
    """A tenant's webhook endpoint; its signing secret is kept wrapped by the KEK.

    For 24 h after a rotation ``secret_wrapped`` wraps the new secret and the one it replaced
    together (one value, so a KEK rotation re-wraps both); ``previous_secret_expires_at``
    says until when the replaced one still signs.
    """

    __tablename__ = "webhook_endpoints"

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_kek_id: Mapped[str] = mapped_column(String(64))
    secret_wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebhookDeliveryRow(Base):
    """One event to deliver to one endpoint, retried with exponential backoff."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "endpoint_id", name="uq_delivery"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PhoneVerificationRow(Base):
    """A signup phone check: the phone only as a blind index and a masked copy; the code hashed."""

    __tablename__ = "phone_verifications"
    __table_args__ = (Index("ix_phone_sends", "tenant_id", "mode", "phone_index", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    mode: Mapped[str] = mapped_column(String(8))
    phone_index: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(20))
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class UpstreamCallRow(Base):
    """The call ledger: one upstream verifier call. No personal data: the request id is a
    hash of the verification id and the check's name."""

    __tablename__ = "upstream_calls"
    __table_args__ = (
        Index("ix_upstream_calls_scope", "tenant_id", "mode", "created_at"),
        Index(
            "uq_upstream_calls_billed",
            "request_id",
            unique=True,
            postgresql_where=text("billable"),
            sqlite_where=text("billable"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    mode: Mapped[str] = mapped_column(String(8))
    verification_id: Mapped[str | None] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(64))
    check_name: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    billable: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
