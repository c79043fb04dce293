"""In-memory fakes of the storage ports, the vault and the verifier adapters.

In the style of cosmicpython's ``FakeUnitOfWork``: the use cases run against these with no
database, no Flask and no image model, so their rules are tested in milliseconds. The fake
unit of work is transactional like the real one: work happens on a copy of the committed
state, ``commit`` publishes it, leaving the block without committing discards it.
"""

from __future__ import annotations

import copy
import dataclasses
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from kyc_service.config import DEFAULTS
from kyc_service.domain.access import Mode
from kyc_service.domain.errors import Conflict, UpstreamUnavailable
from kyc_service.domain.events import Event
from kyc_service.domain.results import FaceComparison, Match, Mismatch, TextLine
from kyc_service.domain.sealing import DataUnavailable, SubjectRef, SweepReport
from kyc_service.domain.usage import UpstreamCall
from kyc_service.domain.verification import Status, Verification
from kyc_service.ports.storage import UnitOfWork


@dataclass
class State:
    """Everything a fake database holds."""

    verifications: dict[str, Verification] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    endpoints: list[Any] = field(default_factory=list)
    deliveries: list[tuple[str, str, datetime]] = field(default_factory=list)
    fields: dict[tuple[SubjectRef, str], dict[str, str]] = field(default_factory=dict)
    documents: dict[str, tuple[SubjectRef, str, str, bytes, dict]] = field(default_factory=dict)
    erased: dict[SubjectRef, datetime] = field(default_factory=dict)
    decisions: list[tuple[str, datetime]] = field(default_factory=list)
    openings: list[tuple[str, str]] = field(default_factory=list)
    withdrawn: dict[SubjectRef, tuple[str, ...]] = field(default_factory=dict)
    upstream_calls: list[tuple[str | None, UpstreamCall]] = field(default_factory=list)


class FakeDatabase:
    """The committed state, shared by every unit of work made on it."""

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0


class FakeVerifications:
    """``VerificationRepository`` over a dict; entities are copied in and out, as rows are."""

    def __init__(self, state: State) -> None:
        self.state = state

    def _out(self, verification: Verification | None) -> Verification | None:
        if verification is None:
            return None
        loaded = copy.deepcopy(verification)
        loaded.changes = []
        loaded.loaded_status = loaded.status
        loaded.loaded_updated_at = loaded.updated_at
        return loaded

    def add(self, verification: Verification) -> None:
        verification.seq = len(self.state.verifications) + 1
        verification.loaded_status = verification.status
        self.state.verifications[verification.id] = copy.deepcopy(verification)

    def get(self, tenant_id: str, mode: str, verification_id: str) -> Verification | None:
        found = self.state.verifications.get(verification_id)
        if found is None or (found.tenant_id, found.mode) != (tenant_id, mode):
            return None
        return self._out(found)

    def by_id(self, verification_id: str, *, for_update: bool = False) -> Verification | None:
        return self._out(self.state.verifications.get(verification_id))

    def save(
        self, verification: Verification, *, strict: bool = False, lease: datetime | None = None
    ) -> None:
        stored = self.state.verifications.get(verification.id)
        if stored is None or stored.status != verification.loaded_status:
            raise Conflict("the verification changed meanwhile; read it again")
        if lease is not None and stored.next_attempt_at != lease:
            raise Conflict("another run claimed the verification")
        loaded_at = verification.loaded_updated_at
        if strict and loaded_at is not None and stored.updated_at != loaded_at:
            raise Conflict("the verification changed meanwhile; read it again")
        kept = copy.deepcopy(verification)
        kept.changes = []
        self.state.verifications[verification.id] = kept
        verification.loaded_status = verification.status
        verification.loaded_updated_at = verification.updated_at

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
        def after(v: Verification) -> bool:
            seq = v.seq or 0
            return after_seq is None or (seq > after_seq if oldest_first else seq < after_seq)

        found = [
            v
            for v in self.state.verifications.values()
            if (v.tenant_id, v.mode) == (tenant_id, mode)
            and after(v)
            and all(str(getattr(v, k)) == value for k, value in (filters or {}).items())
        ]
        found.sort(key=lambda v: v.seq or 0, reverse=not oldest_first)
        return [self._out(v) for v in found[:limit]]

    def of_subject(self, ref: SubjectRef, *, for_update: bool = False) -> Sequence[Verification]:
        return [
            self._out(v)
            for v in self.state.verifications.values()
            if SubjectRef(v.tenant_id, v.mode, v.reference) == ref
        ]

    def due_for_retry(self, now: datetime, limit: int) -> Sequence[tuple[str, datetime]]:
        due = [
            (v.id, v.next_attempt_at)
            for v in self.state.verifications.values()
            if v.status == Status.PROCESSING and v.next_attempt_at and v.next_attempt_at <= now
        ]
        return sorted(due, key=lambda pair: pair[1])[:limit]

    def expired_deposits(self, now: datetime, limit: int) -> Sequence[str]:
        return [
            v.id
            for v in self.state.verifications.values()
            if v.status == Status.AWAITING_CONFIRMATION
            and v.next_attempt_at is not None
            and v.next_attempt_at <= now
        ][:limit]

    def claim_run(
        self, verification_id: str, seen: datetime, lease_until: datetime, *, below: int
    ) -> Verification | None:
        stored = self.state.verifications.get(verification_id)
        if stored is None or stored.status != Status.PROCESSING:
            return None
        if stored.unfinished_runs >= below or not self.claim_attempt(
            verification_id, seen, lease_until
        ):
            return None
        stored.unfinished_runs += 1
        return self._out(stored)

    def hold_run(
        self, verification_id: str, lease_until: datetime, *, below: int
    ) -> Verification | None:
        stored = self.state.verifications.get(verification_id)
        if stored is None or stored.status != Status.PROCESSING or stored.unfinished_runs >= below:
            return None
        stored.next_attempt_at = lease_until
        stored.unfinished_runs += 1
        return self._out(stored)

    def claim_attempt(self, verification_id: str, seen: datetime, lease_until: datetime) -> bool:
        stored = self.state.verifications[verification_id]
        if stored.next_attempt_at != seen:
            return False
        stored.next_attempt_at = lease_until
        return True


class FakeEvents:
    """``EventRepository`` over a list."""

    def __init__(self, state: State) -> None:
        self.state = state

    def add_for_delivery(self, event: Event) -> Sequence[Any]:
        self.state.events.append(event)
        scope = (event.tenant_id, event.mode)
        return [e for e in self.state.endpoints if (e.tenant_id, e.mode) == scope]


class FakeWebhooks:
    """Endpoints and deliveries: enough for ``enqueue_deliveries``."""

    def __init__(self, state: State) -> None:
        self.state = state

    def add_delivery(self, event_id: str, endpoint_id: str, at: datetime) -> None:
        self.state.deliveries.append((event_id, endpoint_id, at))


class FakeUpstreamCalls:
    """The call ledger over a list: ``(verification id, call)``; one billable per request id."""

    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, tenant_id: str, mode: str, verification_id: str | None, calls, at) -> None:  # noqa: ANN001
        billed = {c.request_id for _, c in self.state.upstream_calls if c.billable}
        for call in calls:
            if call.billable and call.request_id in billed:
                call = dataclasses.replace(call, billable=False)
            billed |= {call.request_id} if call.billable else set()
            self.state.upstream_calls.append((verification_id, call))

    def of_verification(self, verification_id: str) -> list[UpstreamCall]:
        return [c for v, c in self.state.upstream_calls if v == verification_id]


class FakeUnitOfWork(UnitOfWork):
    """A transaction over a :class:`FakeDatabase`."""

    def __init__(self, database: FakeDatabase) -> None:
        self.database = database

    def __enter__(self) -> FakeUnitOfWork:
        self.working = copy.deepcopy(self.database.state)
        self.verifications = FakeVerifications(self.working)
        self.events = FakeEvents(self.working)
        self.webhooks = FakeWebhooks(self.working)
        self.upstream_calls = FakeUpstreamCalls(self.working)
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        self.database.state = copy.deepcopy(self.working)
        self.database.commits += 1

    def rollback(self) -> None:
        self.working = copy.deepcopy(self.database.state)
        self.verifications = FakeVerifications(self.working)
        self.events = FakeEvents(self.working)
        self.webhooks = FakeWebhooks(self.working)
        self.upstream_calls = FakeUpstreamCalls(self.working)

    def flush(self) -> None:
        """Nothing to send."""


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeVault:
    """``SealedStore`` in the fake unit of work's state: fields and documents in the clear."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def put_fields(
        self,
        uow: Any,
        ref: SubjectRef,
        verification_id: str,
        fields: Mapping[str, str],
        *,
        purposes: Mapping[str, Iterable[str]],
        indexed: Mapping[str, str],
        replace: bool,
    ) -> None:
        uow.working.erased.pop(ref, None)
        uow.working.fields[(ref, verification_id)] = dict(fields)

    def get_fields(
        self,
        uow: Any,
        ref: SubjectRef,
        verification_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> dict[str, str]:
        if ref in uow.working.erased:
            raise DataUnavailable("erased")
        uow.working.openings.append((verification_id, action))
        return dict(uow.working.fields[(ref, verification_id)])

    def put_document(
        self,
        uow: Any,
        ref: SubjectRef,
        verification_id: str,
        kind: str,
        image: bytes,
        media_type: str,
        purposes: Iterable[str],
        *,
        quality: Mapping[str, Any] | None = None,
    ) -> str:
        documents = uow.working.documents
        for document_id, (_, held_for, held_kind, _, _) in list(documents.items()):
            if (held_for, held_kind) == (verification_id, kind):
                del documents[document_id]
        document_id = f"doc_{len(documents) + 1}_{kind}"
        documents[document_id] = (ref, verification_id, kind, image, dict(quality or {}))
        return document_id

    def documents(
        self, uow: Any, ref: SubjectRef, verification_id: str
    ) -> dict[str, tuple[str, dict]]:
        return {
            kind: (document_id, quality)
            for document_id, (_, held_for, kind, _, quality) in uow.working.documents.items()
            if held_for == verification_id
        }

    def document_kinds(self, uow: Any, ref: SubjectRef, verification_id: str) -> list[str]:
        return sorted(self.documents(uow, ref, verification_id))

    def get_document(
        self,
        uow: Any,
        ref: SubjectRef,
        document_id: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> tuple[bytes, str]:
        if ref in uow.working.erased:
            raise DataUnavailable("erased")
        return uow.working.documents[document_id][3], "image/jpeg"

    def unreadable(self, uow: Any, ref: SubjectRef) -> str | None:
        if ref in uow.working.erased:
            return "erased"
        return None if any(key[0] == ref for key in uow.working.fields) else "not_held"

    def record_decision(
        self, uow: Any, ref: SubjectRef, verification_id: str, decided_at: datetime
    ) -> None:
        uow.working.decisions.append((verification_id, decided_at))

    def erase(
        self, uow: Any, ref: SubjectRef, *, actor: str, reason: str | None = None
    ) -> datetime | None:
        held = [key for key in uow.working.fields if key[0] == ref]
        if not held:
            return None
        for key in held:
            del uow.working.fields[key]
        for document_id, document in list(uow.working.documents.items()):
            if document[0] == ref:
                del uow.working.documents[document_id]
        uow.working.erased[ref] = self.clock()
        return self.clock()

    def sweep(self, uow: Any, batch: int = 500) -> SweepReport:
        return SweepReport()

    def keyed_digest(self, tenant_id: str, purpose: str, value: str) -> str:
        return f"digest:{tenant_id}:{purpose}:{value[::-1]}"

    def record_action(self, uow: Any, ref: SubjectRef, verification_id: str, **event: Any) -> None:
        uow.working.openings.append((verification_id, event["action"]))

    def record_access(self, uow: Any, tenant_id: str, mode: str, **event: Any) -> None:
        uow.working.openings.append(("", event["action"]))

    def withdrawn(self, uow: Any, ref: SubjectRef) -> tuple[str, ...]:
        return tuple(uow.working.withdrawn.get(ref, ()))

    def consent_given(
        self, uow: Any, ref: SubjectRef, purposes: Iterable[str], *, actor: str
    ) -> None:
        still = set(uow.working.withdrawn.get(ref, ())) - set(purposes)
        uow.working.withdrawn[ref] = tuple(sorted(still))


def tiny_jpeg() -> bytes:
    """A small real JPEG (the pipeline decodes the card image before reading it)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 40), (230, 230, 230)).save(out, "JPEG")
    return out.getvalue()


class FakeIdentity:
    """The identity authority: a match, or the answers a test sets."""

    def __init__(self) -> None:
        self.answer: Any = Match()
        self.calls = 0
        self.request_ids: list[str] = []

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> Any:
        self.calls += 1
        self.request_ids.append(request_id)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FakePortrait(FakeIdentity):
    """The identity authority's portrait comparison."""

    def compare(self, name: str, id_number: str, selfie: bytes, *, request_id: str = "") -> Any:
        return self.verify(name, id_number, request_id=request_id)


class FakeBank(FakeIdentity):
    """The bank's 4-element check."""

    def verify(self, *elements: str, request_id: str = "") -> Any:  # type: ignore[override]
        return super().verify(*elements[:2], request_id=request_id)


class FakeReader:
    """OCR that reads back the lines a test put on the card."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def read_lines(self, image: Any) -> list[TextLine]:
        return [TextLine(text, 0.99) for text in self.lines]


class FakeImaging:
    """Finds no card outline: the stored image is read whole."""

    def find_document(self, pixels: Any, shape: Any) -> None:
        return None


class FakeFaces:
    """A face matcher answering a fixed similarity."""

    def __init__(self, similarity: float = 0.95) -> None:
        self.similarity = similarity

    def compare(self, reference: Any, probe: Any, probe_face: Any = None) -> FaceComparison:
        return FaceComparison(self.similarity)


@dataclass
class FakeAdapters:
    """``AdapterLookup`` over the fakes, the same in both modes."""

    identity: FakeIdentity = field(default_factory=FakeIdentity)
    bank: FakeBank = field(default_factory=FakeBank)
    portrait: FakePortrait = field(default_factory=FakePortrait)
    ocr: FakeReader = field(default_factory=FakeReader)
    imaging: FakeImaging = field(default_factory=FakeImaging)
    face: FakeFaces = field(default_factory=FakeFaces)

    def get(self, port: str, mode: Mode) -> Any:
        return getattr(self, port)

    def name_for(self, port: str, mode: Mode) -> str:
        return "fake"

    def names_for(self, port: str, mode: Mode) -> list[str]:
        return ["fake"]

    def named(self, port: str, mode: Mode, name: str) -> Any:
        return self.get(port, mode)


@dataclass
class FakeServices:
    """The use cases' dependencies, built from fakes (what ``bootstrap`` builds for real)."""

    clock: FakeClock = field(default_factory=FakeClock)
    database: FakeDatabase = field(default_factory=FakeDatabase)
    adapters: FakeAdapters = field(default_factory=FakeAdapters)
    settings: dict[str, Any] = field(
        default_factory=lambda: {
            "UPSTREAM_RETRY_LIMIT": 5,
            "UPSTREAM_RETRY_SECONDS": 60,
            "UNFINISHED_RUNS_LIMIT": DEFAULTS["UNFINISHED_RUNS_LIMIT"],
        }
    )

    def __post_init__(self) -> None:
        self.vault = FakeVault(self.clock)

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.database)

    @property
    def state(self) -> State:
        """The committed state."""
        return self.database.state


__all__ = [
    "FakeServices",
    "Mismatch",
    "UpstreamUnavailable",
    "tiny_jpeg",
]
