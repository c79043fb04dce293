"""The vault's interface: seal, open, find, erase, withdraw and sweep a subject's data.

Every method works inside the caller's transaction, given as its unit of work or a
SQLAlchemy session (one transaction with the caller's own writes); the key store commits
on its own. Opening personal data is audited.

``Vault`` is composed of its parts: subjects and data keys (``subjects``), sealed fields
(``fields``), sealed documents (``documents``) and retention and erasure (``lifecycle``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kyc_service.domain.encoding import encode_bytes
from kyc_service.domain.sealing import DataUnavailable, RetentionPolicy, SubjectRef, SweepReport
from kyc_service.vault.audit import AuditLog
from kyc_service.vault.documents import SealedDocuments
from kyc_service.vault.export import SubjectExport
from kyc_service.vault.fields import SealedFields
from kyc_service.vault.keystore import KeyStore
from kyc_service.vault.lifecycle import SYSTEM_ACTOR, SubjectLifecycle

__all__ = [
    "SYSTEM_ACTOR",
    "DataUnavailable",
    "RetentionPolicy",
    "SubjectRef",
    "SweepReport",
    "Vault",
]


class Vault(SealedFields, SealedDocuments, SubjectLifecycle, SubjectExport):
    """The only place personal data is sealed and opened."""

    def __init__(
        self,
        keystore: KeyStore,
        clock: Callable[[], datetime],
        retention: RetentionPolicy | None = None,
    ) -> None:
        self.keystore = keystore
        self.clock = clock
        self.retention = retention or RetentionPolicy()
        self.audit = AuditLog(clock)

    def keyed_digest(self, tenant_id: str, purpose: str, value: str) -> str:
        """A tenant-scoped HMAC-SHA256 of ``value`` under the blind-index key (e.g. the
        amount of a micro-deposit, kept only as this digest)."""
        message = "\x1f".join((tenant_id, purpose, value)).encode()
        digest = hmac.new(self.keystore.blind_index_key(), message, hashlib.sha256).digest()
        return encode_bytes(digest)

    def record_access(
        self,
        transaction: Any,
        tenant_id: str,
        mode: str,
        *,
        actor: str,
        action: str,
        details: Mapping[str, Any] | None = None,
        reference: str | None = None,
    ) -> None:
        """Append an event about no one subject (an ops read of a queue, a ledger, the log),
        or about the subject ``reference`` it was narrowed to."""
        self.audit.append(
            getattr(transaction, "session", transaction),
            actor=actor,
            action=action,
            tenant_id=tenant_id,
            mode=mode,
            reference=reference,
            details=details,
        )

    def record_action(
        self,
        transaction: Any,
        ref: SubjectRef,
        verification_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Append an event to the audit chain in the caller's transaction (masked)."""
        self.audit.append(
            getattr(transaction, "session", transaction),
            actor=actor,
            action=action,
            tenant_id=ref.tenant_id,
            mode=ref.mode,
            reference=ref.reference,
            verification_id=verification_id,
            reason=reason,
            details=details,
        )
