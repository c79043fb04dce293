"""``KycClient``: one typed method per endpoint of the KYC service's API (docs/API.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import IO, Any, Union
from urllib.parse import quote

import requests

from kyc_client.pagination import ListPage, paginate
from kyc_client.transport import Timeout, Transport

JsonObject = dict[str, Any]
FileInput = Union[bytes, str, "os.PathLike[str]", IO[bytes]]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def _segment(value: str) -> str:
    """Quote an id or reference for use as one path segment."""
    return quote(str(value), safe="")


def _period_bound(value: date | datetime | str | None) -> str | None:
    """A usage period bound as the API takes it: a date or an ISO 8601 timestamp (a
    datetime without a zone is taken as UTC, and sent with one)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _file_bytes(file: FileInput) -> tuple[bytes, str]:
    """Read an upload (bytes, a path or a binary file object); return its bytes and name."""
    if isinstance(file, bytes):
        return file, "upload"
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as handle:
            return handle.read(), os.path.basename(os.fspath(file))
    name = os.path.basename(str(getattr(file, "name", "") or "upload"))
    return file.read(), name


class KycClient:
    """A client of the KYC service for one API key.

    Every method returns the JSON answer as plain dicts (``None`` for a 204) or raises a
    :class:`~kyc_client.KycError` subclass. Every ``POST`` carries an ``Idempotency-Key``
    (a new UUID unless ``idempotency_key=`` is given); a retry after a lost connection or a
    5xx answer (``max_retries``, default 2) resends the same key and the same bytes.
    ``last_response`` is the last :class:`requests.Response` (headers such as
    ``X-Request-Id`` and ``Idempotent-Replayed``); it is not meant for use across threads.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: Timeout = 60.0,
        session: requests.Session | None = None,
        max_retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self._transport = Transport(api_key, base_url, timeout, session, max_retries, backoff)

    @property
    def last_response(self) -> requests.Response | None:
        """The last HTTP answer received (for its headers)."""
        return self._transport.last_response

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self._transport.session.close()

    def __enter__(self) -> KycClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, path: str, **params: Any) -> Any:
        return self._transport.request("GET", path, params=params)

    def _post(self, path: str, body: Any = None, key: str | None = None) -> Any:
        return self._transport.request("POST", path, json_body=body, idempotency_key=key)

    # --- verifications -------------------------------------------------------------------

    def create_verification(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/verifications``: an individual or organization verification (201).

        ``body`` is the contract's request (``type``, ``reference``, ``consent``,
        ``individual`` or ``organization``, ``options``). The answer is masked.
        """
        return self._post("/v1/verifications", dict(body), idempotency_key)

    def get_verification(self, verification_id: str) -> JsonObject:
        """``GET /v1/verifications/{id}``."""
        return self._get(f"/v1/verifications/{_segment(verification_id)}")

    def list_verifications(
        self,
        *,
        reference: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> ListPage:
        """``GET /v1/verifications``: one page, newest first, filtered by reference/status."""
        return self._get(
            "/v1/verifications",
            reference=reference,
            status=status,
            limit=limit,
            starting_after=starting_after,
        )

    def iter_verifications(self, **filters: Any) -> Iterator[JsonObject]:
        """Every verification matching ``filters`` (those of :meth:`list_verifications`)."""
        return paginate(self.list_verifications, **filters)

    def upload_document(
        self,
        verification_id: str,
        kind: str,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        idempotency_key: str | None = None,
    ) -> JsonObject:
        """``POST /v1/verifications/{id}/documents`` (multipart ``kind`` + ``file``; 201).

        ``file`` is the image as bytes, a path, or a binary file object (JPEG, PNG, WebP).
        """
        data, name = _file_bytes(file)
        fields = {"kind": kind, "file": (filename or name, data, content_type)}
        return self._transport.request(
            "POST",
            f"/v1/verifications/{_segment(verification_id)}/documents",
            fields=fields,
            idempotency_key=idempotency_key,
        )

    def submit_verification(
        self, verification_id: str, *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/verifications/{id}/submit``: run the checks (200, or 202 ``processing``)."""
        path = f"/v1/verifications/{_segment(verification_id)}/submit"
        return self._post(path, key=idempotency_key)

    def cancel_verification(
        self, verification_id: str, *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/verifications/{id}/cancel``."""
        path = f"/v1/verifications/{_segment(verification_id)}/cancel"
        return self._post(path, key=idempotency_key)

    def confirm_deposit(
        self,
        verification_id: str,
        amount: str | Decimal,
        *,
        idempotency_key: str | None = None,
    ) -> JsonObject:
        """``POST /v1/verifications/{id}/deposit-confirmation`` with the amount (``"0.32"``)."""
        path = f"/v1/verifications/{_segment(verification_id)}/deposit-confirmation"
        return self._post(path, {"amount": str(amount)}, idempotency_key)

    # --- phone verifications -------------------------------------------------------------

    def create_phone_verification(
        self, phone: str, *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/phone-verifications``: send a 6-digit code by SMS (201)."""
        return self._post("/v1/phone-verifications", {"phone": phone}, idempotency_key)

    def check_phone_verification(
        self, phone_verification_id: str, code: str, *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/phone-verifications/{id}/check`` with the code the person typed."""
        path = f"/v1/phone-verifications/{_segment(phone_verification_id)}/check"
        return self._post(path, {"code": code}, idempotency_key)

    # --- subjects ------------------------------------------------------------------------

    def export_subject(self, reference: str, *, include_documents: bool = False) -> JsonObject:
        """``GET /v1/subjects/{reference}/export`` (``include=documents`` adds the images)."""
        include = "documents" if include_documents else None
        return self._get(f"/v1/subjects/{_segment(reference)}/export", include=include)

    def erase_subject(self, reference: str) -> None:
        """``DELETE /v1/subjects/{reference}``: erase the subject's personal data (204)."""
        self._transport.request("DELETE", f"/v1/subjects/{_segment(reference)}")

    def withdraw_consent(
        self, reference: str, purposes: Sequence[str], *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/subjects/{reference}/consent-withdrawal`` for the given purposes."""
        path = f"/v1/subjects/{_segment(reference)}/consent-withdrawal"
        return self._post(path, {"purposes": list(purposes)}, idempotency_key)

    # --- webhook endpoints and events ----------------------------------------------------

    def create_webhook_endpoint(
        self, url: str, events: Sequence[str], *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/webhook-endpoints``: the answer carries the ``secret``, shown once."""
        body = {"url": url, "events": list(events)}
        return self._post("/v1/webhook-endpoints", body, idempotency_key)

    def list_webhook_endpoints(
        self, *, limit: int | None = None, starting_after: str | None = None
    ) -> ListPage:
        """``GET /v1/webhook-endpoints``: one page, newest first (no secrets)."""
        return self._get("/v1/webhook-endpoints", limit=limit, starting_after=starting_after)

    def get_webhook_endpoint(self, endpoint_id: str) -> JsonObject:
        """``GET /v1/webhook-endpoints/{id}``."""
        return self._get(f"/v1/webhook-endpoints/{_segment(endpoint_id)}")

    def update_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        disabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> JsonObject:
        """``POST /v1/webhook-endpoints/{id}``: change ``url``, ``events`` or ``disabled``."""
        body: JsonObject = {"url": url, "disabled": disabled}
        body["events"] = list(events) if events is not None else None
        changes = {name: value for name, value in body.items() if value is not None}
        path = f"/v1/webhook-endpoints/{_segment(endpoint_id)}"
        return self._post(path, changes, idempotency_key)

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        """``DELETE /v1/webhook-endpoints/{id}`` (204)."""
        self._transport.request("DELETE", f"/v1/webhook-endpoints/{_segment(endpoint_id)}")

    def rotate_webhook_secret(
        self, endpoint_id: str, *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/webhook-endpoints/{id}/rotate-secret``: a new secret, shown once.

        For 24 h deliveries carry two ``v1=`` signatures, one per secret.
        """
        path = f"/v1/webhook-endpoints/{_segment(endpoint_id)}/rotate-secret"
        return self._post(path, key=idempotency_key)

    def list_events(
        self,
        *,
        type: str | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> ListPage:
        """``GET /v1/events``: one page of events, newest first, optionally of one type."""
        return self._get("/v1/events", type=type, limit=limit, starting_after=starting_after)

    def iter_events(self, **filters: Any) -> Iterator[JsonObject]:
        """Every event matching ``filters`` (those of :meth:`list_events`)."""
        return paginate(self.list_events, **filters)

    # --- ops -----------------------------------------------------------------------------

    def reverify_verification(
        self, verification_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> JsonObject:
        """``POST /v1/ops/verifications/{id}/reverify``: a new verification from held data."""
        path = f"/v1/ops/verifications/{_segment(verification_id)}/reverify"
        return self._post(path, {"reason": reason}, idempotency_key)

    def review_verification(
        self,
        verification_id: str,
        decision: str,
        note: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> JsonObject:
        """``POST /v1/ops/verifications/{id}/review``: ``"approve"`` or ``"reject"``."""
        body = {"decision": decision} if note is None else {"decision": decision, "note": note}
        path = f"/v1/ops/verifications/{_segment(verification_id)}/review"
        return self._post(path, body, idempotency_key)

    def list_review_queue(
        self,
        *,
        status: str | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> ListPage:
        """``GET /v1/ops/verifications``: the review queue (``in_review`` unless ``status``)."""
        return self._get(
            "/v1/ops/verifications", status=status, limit=limit, starting_after=starting_after
        )

    def list_audit_events(
        self,
        *,
        verification: str | None = None,
        reference: str | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> ListPage:
        """``GET /v1/ops/audit-events``: who did what to which subject (masked)."""
        return self._get(
            "/v1/ops/audit-events",
            verification=verification,
            reference=reference,
            limit=limit,
            starting_after=starting_after,
        )

    def get_usage(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> JsonObject:
        """``GET /v1/ops/usage?from=&to=``: upstream verifier calls in ``[start, end)``."""
        params = {"from": _period_bound(start), "to": _period_bound(end)}
        return self._transport.request("GET", "/v1/ops/usage", params=params)

    # --- service endpoints ---------------------------------------------------------------

    def health(self) -> JsonObject:
        """``GET /healthz``: the process is up."""
        return self._get("/healthz")

    def readiness(self) -> JsonObject:
        """``GET /readyz``: the databases answer (else :class:`ServiceUnavailableError`)."""
        return self._get("/readyz")

    def openapi(self) -> JsonObject:
        """``GET /v1/openapi.json``: the service's OpenAPI document."""
        return self._get("/v1/openapi.json")
