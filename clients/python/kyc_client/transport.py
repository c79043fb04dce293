"""One HTTP exchange with the service: auth, idempotency keys, retries, error answers."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, Union

import requests
from urllib3.filepost import encode_multipart_formdata

from kyc_client.errors import ApiConnectionError, KycError, error_from_answer

Timeout = Union[float, tuple[float, float]]
RETRY_STATUSES = frozenset({500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 8.0
USER_AGENT = "kyc-client/0.1.0"


def new_idempotency_key() -> str:
    """Return a fresh ``Idempotency-Key`` (a random UUID)."""
    return str(uuid.uuid4())


def multipart(fields: Mapping[str, Any], key: str) -> tuple[bytes, str]:
    """Encode a multipart body whose boundary is derived from the idempotency key.

    The same key and the same fields give the same bytes, so a repeated call replays the
    first answer instead of being refused as a different body.
    """
    boundary = "kyc-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return encode_multipart_formdata(dict(fields), boundary=boundary)


class Transport:
    """Sends requests to one service with one API key (see :class:`kyc_client.KycClient`)."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: Timeout,
        session: requests.Session | None,
        max_retries: int,
        backoff: float,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.last_response: requests.Response | None = None
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        fields: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one call (retried on a lost connection or a 5xx, with the same key and body)
        and return its JSON answer (``None`` for 204), or raise a :class:`KycError`."""
        headers = dict(self._headers)
        data: bytes | None = None
        if method == "POST":
            key = idempotency_key or new_idempotency_key()
            headers["Idempotency-Key"] = key
            if fields is not None:
                data, headers["Content-Type"] = multipart(fields, key)
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        query = {name: value for name, value in (params or {}).items() if value is not None}
        prepared = self.session.prepare_request(
            requests.Request(method, self.base_url + path, headers, data=data, params=query)
        )
        return self._answer(self._send(prepared))

    def _send(self, prepared: requests.PreparedRequest) -> requests.Response:
        """Send the prepared request, retrying it unchanged up to ``max_retries`` times."""
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self.session.send(prepared, timeout=self.timeout, **settings)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    message = f"{type(exc).__name__} reaching the service"
                    raise ApiConnectionError(message=message) from exc
                self._pause(attempt, None)
                continue
            if last or response.status_code not in RETRY_STATUSES:
                return response
            self._pause(attempt, response.headers.get("Retry-After"))
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        """Sleep before the next attempt: exponential backoff, or the ``Retry-After`` asked."""
        delay = self.backoff * (2**attempt)
        if retry_after and retry_after.isdigit():
            delay = float(retry_after)
        time.sleep(min(delay, MAX_BACKOFF_SECONDS))

    def _answer(self, response: requests.Response) -> Any:
        """Return the JSON of a success, or raise the error the answer describes."""
        self.last_response = response
        request_id = response.headers.get("X-Request-Id")
        payload = _json_or_none(response)
        if not response.ok:
            raise error_from_answer(response.status_code, payload, response.headers, request_id)
        if payload is None and response.status_code != 204 and response.content:
            message = "the answer is not JSON"
            raise KycError(response.status_code, message=message, request_id=request_id)
        return payload


def _json_or_none(response: requests.Response) -> Any:
    """The answer's JSON, or ``None`` when it has no body or the body is not JSON."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
