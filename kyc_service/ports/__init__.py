"""Ports: the abstract interfaces the service layer depends on.

Each verifier port answers with the frozen results of ``kyc_service.domain.results``
and raises ``UpstreamUnavailable`` when its upstream does not answer. Concrete
adapters live in ``adapters/`` and are chosen by configuration through entry points
(see ``kyc_service.bootstrap``).

Every billed verifier call takes a keyword ``request_id``: the same id for the same check of
the same verification, however often it is repeated (after a timeout, after a crash). An
adapter whose upstream supports idempotency passes it on, so a repeat is never billed twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Self

from kyc_service.domain.access import Mode
from kyc_service.domain.document_shapes import DocumentShape
from kyc_service.domain.results import (
    CheckOutcome,
    FaceBox,
    FaceComparison,
    FoundDocument,
    Match,
    Payment,
    SealFinding,
    TextLine,
    WebhookTarget,
)

Image = Any
"""Image bytes (JPEG, PNG or WebP) or an RGB pixel array (height × width × 3, uint8)."""


class Adapter(ABC):
    """Base of every pluggable adapter: built from its own settings."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build the adapter from its settings (``KYC_<PORT>_<NAME>`` without the prefix)."""
        return cls()

    def close(self) -> None:
        """Release connections or models; the default holds none."""


class IdentityAuthority(Adapter):
    """Checks a name and resident ID number at the identity authority."""

    @abstractmethod
    def verify(self, name: str, id_number: str, *, request_id: str = "") -> CheckOutcome:
        """Answer Match, Mismatch('name_id_mismatch') or NotFound('id_not_found')."""


class PortraitAuthority(Adapter):
    """Compares a selfie with the identity authority's photo of the person."""

    @abstractmethod
    def compare(
        self, name: str, id_number: str, selfie_jpeg: bytes, *, request_id: str = ""
    ) -> CheckOutcome:
        """Answer Match or Mismatch('portrait_mismatch'), with a score when known."""


class BankVerifier(Adapter):
    """Checks card, name, ID number and bank-reserved phone together (4 elements)."""

    @abstractmethod
    def verify(
        self,
        card_number: str,
        name: str,
        id_number: str,
        reserved_phone: str,
        *,
        request_id: str = "",
    ) -> CheckOutcome:
        """Answer Match or Mismatch with the bank_card check's failure code."""


class BusinessRegistry(Adapter):
    """Checks an entity's name, USCC and legal representative at the registry."""

    @abstractmethod
    def verify(
        self, entity_name: str, uscc: str, legal_representative: str, *, request_id: str = ""
    ) -> CheckOutcome:
        """Answer Match, Mismatch or NotFound('entity_not_found')."""


class AccountVerifier(Adapter):
    """Pays a micro-deposit (对公打款) into a corporate bank account, to prove it is held."""

    @abstractmethod
    def pay_micro_deposit(
        self, bank_name: str, account_number: str, account_name: str, *, request_id: str = ""
    ) -> Payment:
        """Pay a random amount of 0.01–0.99 CNY; return it (``Payment("0.37")``), or raise
        UpstreamUnavailable."""


class SmsSender(Adapter):
    """Sends a text message to a mainland mobile number."""

    @abstractmethod
    def send(self, phone: str, text: str, *, request_id: str = "") -> Match:
        """Send ``text`` to ``phone`` (``Match``: sent; its ``billable``: charged); raise
        UpstreamUnavailable when the gateway fails."""


class FaceMatcher(Adapter):
    """Finds faces in images and says how alike two are."""

    @abstractmethod
    def compare(
        self, reference_image: Image, probe_image: Image, probe_face: FaceBox | None = None
    ) -> FaceComparison:
        """Compare the face of ``reference_image`` with the one face of ``probe_image``.

        ``probe_face`` is where that face is, when it was found before (on upload).
        """

    @abstractmethod
    def find_faces(self, image: Image, small_faces: bool = True) -> list[FaceBox]:
        """Return the box of every face ``image`` shows, in its own pixels, largest first.

        ``small_faces`` False may skip the slower search for faces under ~10 % of the
        image (a rectified card's portrait is larger than that).
        """

    def count_faces(self, image: Image) -> int:
        """Return how many faces ``image`` shows."""
        return len(self.find_faces(image))

    def warm_up(self) -> None:
        """Load the models now (at worker start) rather than on the first request."""


class DocumentReader(Adapter):
    """Reads the text printed on a document photo (OCR)."""

    @abstractmethod
    def read_lines(self, image: Image) -> list[TextLine]:
        """Return the lines of text found in ``image``, top to bottom."""

    def warm_up(self) -> None:
        """Load the models now (at worker start) rather than on the first request."""


class DocumentImaging(Adapter):
    """Finds a document in an image, rectifies it, and measures image quality."""

    @abstractmethod
    def find_document(self, pixels: Any, shape: DocumentShape) -> FoundDocument | None:
        """Find a document of ``shape`` in RGB ``pixels`` (a flat scan or a photo of it)."""

    @abstractmethod
    def warp(self, pixels: Any, corners: Any, size: tuple[int, int]) -> Any:
        """Warp the quadrilateral ``corners`` (TL, TR, BR, BL) of ``pixels`` onto ``size``."""

    @abstractmethod
    def sharpness(self, region: Any, edges_only: bool = False) -> float | None:
        """Return the region's sharpness in 0–1 (None when it is too small to measure)."""

    @abstractmethod
    def specular_share(self, region: Any, mask: Any = None) -> float:
        """Return the share of the region under its largest blown-out patch."""

    @abstractmethod
    def find_seal(self, pixels: Any) -> SealFinding:
        """Find a red official seal on a document page.

        A red ring of plausible size, usually with a star and red text around it; a red
        rectangle, a red logo, a black-ink stamp or a grey photocopied seal is not one.
        """


class WebhookTransport(Adapter):
    """Checks where a webhook may go, and POSTs it there."""

    @abstractmethod
    def resolve_target(self, url: str, mode: Mode) -> WebhookTarget:
        """Check ``url`` for ``mode`` and resolve it; raise ``url_invalid`` when refused."""

    @abstractmethod
    def post(self, target: WebhookTarget, body: bytes, headers: Mapping[str, str]) -> int:
        """POST to the checked address; return the status or raise ``DeliveryFailed``."""


class NoWorkerPool(RuntimeError):
    """The configured task runner runs tasks in the calling process: it has no worker pool
    and no periodic scheduler (``KYC_EXECUTOR=inline``)."""


class TaskRunner(Adapter):
    """Runs the service's tasks: here, in the calling process, or on a worker pool.

    Each task goes to a queue (:data:`QUEUES`): ``local`` for the CPU-bound checks (images,
    OCR, faces), ``upstream`` for the I/O-bound ones (verifiers, webhooks, housekeeping),
    so a slow verifier never starves the image workers.
    """

    runs_in_process: bool = False
    """True when :meth:`submit` runs the task before it returns (no worker pool)."""

    @abstractmethod
    def register(self, name: str, function: Callable[..., Any], queue: str = "local") -> None:
        """Make ``function`` runnable as task ``name`` on ``queue``."""

    @abstractmethod
    def submit(self, task: str, **arguments: Any) -> bool:
        """Run or enqueue ``task``; return True when it already ran to completion.

        A runner that cannot reach its queue returns False all the same: the service's
        database holds every submitted verification with a lease, and the periodic
        retry runs it once that lapses.
        """

    def run_worker(
        self,
        queues: list[str],
        concurrency: int,
        pool: str,
        on_process_start: Callable[[], None],
    ) -> None:
        """Serve ``queues`` until stopped, calling ``on_process_start`` in each process that
        runs tasks; a runner without a worker pool refuses."""
        raise NoWorkerPool(f"{type(self).__name__} has no worker pool")

    def run_beat(self, schedule: dict[str, float], schedule_file: str) -> None:
        """Submit each task of ``schedule`` every so many seconds, until stopped."""
        raise NoWorkerPool(f"{type(self).__name__} has no periodic scheduler")


QUEUES = ("local", "upstream")
"""The task queues: CPU-bound local checks, and I/O-bound upstream calls and housekeeping."""


class KeyWrapper(Adapter):
    """Wraps data keys under key-encryption keys (KEKs) that never leave it."""

    @abstractmethod
    def primary_id(self) -> str:
        """Return the id of the KEK that wraps new data keys."""

    @abstractmethod
    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """Wrap ``data_key`` under the primary KEK, bound to ``context``: (kek id, wrapped)."""

    @abstractmethod
    def unwrap(self, kek_id: str, wrapped: bytes, context: bytes) -> bytes:
        """Unwrap a data key wrapped under ``kek_id`` with the same ``context``."""

    @abstractmethod
    def key_ids(self) -> list[str]:
        """Return the ids of every KEK this wrapper can unwrap with."""

    @abstractmethod
    def rotate(self) -> str:
        """Add a new KEK and make it primary; return its id."""

    @abstractmethod
    def retire(self, kek_id: str) -> None:
        """Remove a KEK that no longer wraps any data key."""


class Clock(ABC):
    """The time, so tests can freeze it."""

    @abstractmethod
    def now(self) -> datetime:
        """Return the current time, timezone-aware in UTC."""


PORT_GROUPS: dict[str, tuple[str, type[Adapter]]] = {
    "identity": ("kyc.identity_authorities", IdentityAuthority),
    "portrait": ("kyc.portrait_authorities", PortraitAuthority),
    "bank": ("kyc.bank_verifiers", BankVerifier),
    "registry": ("kyc.business_registries", BusinessRegistry),
    "account": ("kyc.account_verifiers", AccountVerifier),
    "sms": ("kyc.sms_senders", SmsSender),
    "face": ("kyc.face_matchers", FaceMatcher),
    "ocr": ("kyc.document_readers", DocumentReader),
    "imaging": ("kyc.document_imaging", DocumentImaging),
    "webhooks": ("kyc.webhook_transports", WebhookTransport),
    "executor": ("kyc.task_runners", TaskRunner),
    "kek": ("kyc.key_wrappers", KeyWrapper),
}
"""Each port's short name (as in ``KYC_<NAME>_ADAPTER``), entry-point group and class."""
