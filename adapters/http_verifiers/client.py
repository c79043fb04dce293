"""The client side of the verifier protocol: one connection pool per upstream, timeouts,
safe retries, a circuit breaker, and signatures checked both ways."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import certifi
import urllib3
from urllib3.exceptions import HTTPError
from urllib3.util import parse_url

from adapters.http_verifiers import protocol
from kyc_service.domain.errors import UpstreamUnavailable

DEFAULT_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0
RETRIES = 2
"""Repeats of a request after a timeout or a 5xx: safe, as its ``request_id`` is the same."""
BACKOFF_SECONDS = 0.2
USER_AGENT = "kyc-service-verifier-client/1"


class CircuitBreaker:
    """Open after ``threshold`` consecutive failures; after ``cooldown`` seconds let one
    probe through (half-open); a success closes it."""

    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.lock = threading.Lock()

    def allow(self) -> bool:
        """Tell whether a call may go out now (closed, or the half-open probe)."""
        with self.lock:
            if self.opened_at is None:
                return True
            if self.clock() - self.opened_at >= self.cooldown:
                self.opened_at = self.clock()  # one probe per cooldown
                return True
            return False

    def succeeded(self) -> None:
        """A call answered: close."""
        with self.lock:
            self.failures, self.opened_at = 0, None

    def failed(self) -> None:
        """A call failed: open once the threshold is reached."""
        with self.lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()


POOL_SIZE = 64
"""Connections kept open to one verifier: at least the threads of one upstream worker (a
call finding the pool full would open a connection of its own and throw it away after)."""


def connection_pool(timeout: tuple[float, float]) -> urllib3.PoolManager:
    """Pooled connections to one verifier: urllib3 itself, not ``requests`` on top of it (half
    the CPU per call, measured; the upstream workers make two calls per verification). No
    proxy from the environment sees the fields (urllib3 reads none), no redirect is followed,
    nothing is retried here (``VerifierClient.call`` retries, with the same request id), and
    TLS is verified against certifi's roots, as ``requests`` did."""
    return urllib3.PoolManager(
        num_pools=2,
        maxsize=POOL_SIZE,
        timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
        retries=False,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
    )


class VerifierClient:
    """Calls one role of one verifier."""

    def __init__(
        self,
        url: str,
        secret: str,
        role: str,
        timeout: float = DEFAULT_TIMEOUT,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = _checked(url, role).rstrip("/") + f"/{protocol.VERSION}/{role}"
        self.secret = secret
        self.role = role
        self.timeout = (min(CONNECT_TIMEOUT, timeout), timeout)
        self.breaker = breaker or CircuitBreaker()
        self.clock = clock
        self.pool = connection_pool(self.timeout)

    def call(self, fields: Mapping[str, str], request_id: str = "") -> dict[str, Any]:
        """Send the fields under ``request_id`` (the caller's stable id of this check, or a new
        one); return the verified answer, or raise ``UpstreamUnavailable``."""
        if not self.breaker.allow():
            raise UpstreamUnavailable(f"the {self.role} verifier is failing: circuit open")
        payload = {"request_id": request_id or protocol.new_request_id(), **fields}
        body = json.dumps(payload, ensure_ascii=False).encode()
        for attempt in range(RETRIES + 1):
            try:
                answer = self._once(payload["request_id"], body)
            except _Retryable:
                if attempt < RETRIES:
                    time.sleep(BACKOFF_SECONDS * 2**attempt)
                    continue
                break
            except UpstreamUnavailable:
                self.breaker.failed()
                raise
            self.breaker.succeeded()
            return answer
        self.breaker.failed()
        raise UpstreamUnavailable(f"the {self.role} verifier did not answer")

    def _once(self, rid: str, body: bytes) -> dict[str, Any]:
        """One POST; ``_Retryable`` for a timeout, a lost connection or a 5xx."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **protocol.signed_headers(
                self.secret, protocol.request_line(self.role), int(self.clock()), body
            ),
        }
        try:
            response = self.pool.request(
                "POST", self.url, body=body, headers=headers, redirect=False
            )
        except HTTPError:  # timeout, lost connection, a broken stream
            raise _Retryable from None
        if response.status >= 500:
            raise _Retryable
        line = protocol.response_line(response.status, rid)
        valid = protocol.signature_valid(
            self.secret, line, response.headers, response.data, self.clock()
        )
        if response.status != 200 or not valid:
            raise UpstreamUnavailable(f"the {self.role} verifier answered badly")
        try:
            answer = json.loads(response.data)
        except (ValueError, RecursionError):  # not UTF-8 JSON, or nested past any reason
            raise UpstreamUnavailable(f"the {self.role} verifier answered badly") from None
        if not isinstance(answer, dict) or answer.get("request_id") != rid:
            raise UpstreamUnavailable(f"the {self.role} verifier answered badly")
        return answer

    def close(self) -> None:
        """Close the pooled connections."""
        self.pool.clear()


def _checked(url: str, role: str) -> str:
    """``url`` if it is ``http://`` or ``https://`` to a host; else a ``RuntimeError`` at
    start-up (urllib3 would take a URL without a scheme as ``http``: the fields in clear)."""
    try:
        parts = parse_url(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise RuntimeError(f"the {role} verifier URL must be http:// or https:// to a host")
    return url


class _Retryable(Exception):
    """A failure after which the same request may be sent again."""
