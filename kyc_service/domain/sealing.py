"""What the use cases know of sealed data: whose it is, and why it may be gone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SubjectRef:
    """A data subject: the tenant's own ``reference`` for it, in one mode."""

    tenant_id: str
    mode: str
    reference: str


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data and document images are kept after a decision."""

    data_days: int = 365
    document_days: int = 30


@dataclass
class SweepReport:
    """What one retention sweep deleted."""

    documents_deleted: int = 0
    subjects_erased: list[SubjectRef] = field(default_factory=list)


class DataUnavailable(Exception):
    """The data was erased, is past its retention, or was never held."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def associated_data(*parts: str) -> bytes:
    """Join the parts that bind a ciphertext to its place (tenant, subject, row, field)."""
    return "\x1f".join(parts).encode()


@dataclass(frozen=True)
class HeldField:
    """One personal field held about a subject, opened for the subject's copy of their data."""

    verification_id: str
    name: str
    value: str
    purposes: tuple[str, ...]
    delete_after: datetime | None


@dataclass(frozen=True)
class HeldDocument:
    """One document image held about a subject (the image only when asked for)."""

    id: str
    verification_id: str
    kind: str
    media_type: str
    size: int
    purposes: tuple[str, ...]
    created_at: datetime
    delete_after: datetime | None
    image: bytes | None = None


@dataclass(frozen=True)
class SubjectCopy:
    """Everything the vault holds about one subject (API.md § Subjects, export)."""

    created_at: datetime
    retain_until: datetime | None
    erased_at: datetime | None
    withdrawn_purposes: tuple[str, ...]
    fields: tuple[HeldField, ...] = ()
    documents: tuple[HeldDocument, ...] = ()
