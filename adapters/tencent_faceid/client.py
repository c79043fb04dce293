"""The SDK side of the Tencent FaceID adapters: loading the SDK, reading the settings,
building one client, and turning one call's answer or failure into a result or an outage.

Settings (a port's ``KYC_<PORT>_*`` over the provider's ``KYC_TENCENT_*``): ``secret_id``,
``secret_key`` (required), ``region`` (optional: FaceID takes none), ``endpoint`` (default
``faceid.tencentcloudapi.com``; plain http only to a loopback host, for tests) and
``timeout`` (seconds, default 5).

A call is not repeated here: FaceID takes no idempotency key, so a repeat could be billed
twice; the pipeline retries an outage later. Proxy settings of the environment are ignored
(no proxy sees the fields) and no redirect is followed, as the ``http`` adapters do.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import logging
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import SplitResult, urlsplit

from adapters.http_verifiers.client import CircuitBreaker
from adapters.tencent_faceid.codes import Answer, Outage, answer_for
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import CheckOutcome, Match, Mismatch

log = logging.getLogger(__name__)

INSTALL = 'pip install "kyc-service[tencent]"'
SDK_MISSING = f"the Tencent FaceID adapters need the Tencent Cloud SDK: {INSTALL}"
DEFAULT_ENDPOINT = "faceid.tencentcloudapi.com"
DEFAULT_TIMEOUT = 5.0
SDK_LOGGER = "tencentcloud_sdk_common"
"""The SDK logs whole requests (the fields) at DEBUG: its DEBUG records are dropped."""


@dataclass(frozen=True)
class Sdk:
    """The modules of the Tencent Cloud SDK the adapters use."""

    credential: ModuleType
    client_profile: ModuleType
    http_profile: ModuleType
    faceid_client: ModuleType
    models: ModuleType
    error: type[Exception]


def load_sdk() -> Sdk:
    """Import the SDK; raise ``RuntimeError`` naming the pip command when it is missing."""
    try:
        exception = importlib.import_module(
            "tencentcloud.common.exception.tencent_cloud_sdk_exception"
        )
        return Sdk(
            credential=importlib.import_module("tencentcloud.common.credential"),
            client_profile=importlib.import_module("tencentcloud.common.profile.client_profile"),
            http_profile=importlib.import_module("tencentcloud.common.profile.http_profile"),
            faceid_client=importlib.import_module("tencentcloud.faceid.v20180301.faceid_client"),
            models=importlib.import_module("tencentcloud.faceid.v20180301.models"),
            error=exception.TencentCloudSDKException,
        )
    except ImportError:
        raise RuntimeError(SDK_MISSING) from None


@dataclass(frozen=True)
class ClientSettings:
    """What the client is built from; the secret key never shows in its repr."""

    secret_id: str
    secret_key: str = dataclasses.field(repr=False)
    host: str = DEFAULT_ENDPOINT
    scheme: str = "https"
    region: str = ""
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> ClientSettings:
        """Read the merged settings; ``RuntimeError`` names a missing or bad setting, never
        its value."""
        secret_id = _required(settings, "secret_id")
        secret_key = _required(settings, "secret_key")
        scheme, host = parse_endpoint(str(settings.get("endpoint") or ""))
        return cls(
            secret_id=secret_id,
            secret_key=secret_key,
            host=host,
            scheme=scheme,
            region=str(settings.get("region") or "").strip(),
            timeout=_timeout(settings.get("timeout")),
        )


def _required(settings: Mapping[str, Any], name: str) -> str:
    """A required setting, stripped; ``RuntimeError`` naming it when it is empty."""
    value = str(settings.get(name) or "").strip()
    if not value:
        raise RuntimeError(f"the Tencent FaceID adapters need KYC_TENCENT_{name.upper()}")
    return value


def _timeout(value: Any) -> float:
    """The timeout in seconds: a positive number, default 5."""
    try:
        seconds = float(value) if value not in (None, "") else DEFAULT_TIMEOUT
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise RuntimeError("the timeout of the Tencent FaceID adapters must be seconds above 0")
    return seconds


def parse_endpoint(value: str) -> tuple[str, str]:
    """``(scheme, host[:port])`` of ``KYC_TENCENT_ENDPOINT``: https, or http for a loopback
    host (tests); plain http elsewhere is refused."""
    text = value.strip() or DEFAULT_ENDPOINT
    parts = urlsplit(text if "://" in text else f"//{text}")
    if (
        parts.scheme not in ("", "http", "https")
        or not parts.hostname
        or not _port_valid(parts)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise RuntimeError("KYC_TENCENT_ENDPOINT must be a host, host:port or https:// URL")
    loopback = is_loopback(parts.hostname)
    if parts.scheme == "http" and not loopback:
        raise RuntimeError("KYC_TENCENT_ENDPOINT: plain http is only for a loopback host")
    return parts.scheme or ("http" if loopback else "https"), parts.netloc


def _port_valid(parts: SplitResult) -> bool:
    """Whether the URL's port, if any, is a number in 0–65535."""
    try:
        parts.port  # noqa: B018 - reading it raises on a bad port
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_client(sdk: Sdk, settings: ClientSettings) -> Any:
    """A ``FaceidClient`` signing with TC3-HMAC-SHA256, with the settings' endpoint and
    timeout, ignoring proxies of the environment."""
    try:
        credential = sdk.credential.Credential(settings.secret_id, settings.secret_key)
    except sdk.error:  # its messages name the problem, never the value
        raise RuntimeError(
            "KYC_TENCENT_SECRET_ID or KYC_TENCENT_SECRET_KEY is not a valid credential"
        ) from None
    http = sdk.http_profile.HttpProfile(
        protocol=settings.scheme, endpoint=settings.host, reqTimeout=settings.timeout
    )
    profile = sdk.client_profile.ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http)
    client = sdk.faceid_client.FaceidClient(credential, settings.region, profile)
    _harden_session(client)
    _quiet_sdk_debug()
    return client


class _NoDebugRecords(logging.Filter):
    """Drops the SDK's DEBUG records: they dump whole requests (names, ID numbers, photos)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep INFO and above."""
        return record.levelno >= logging.INFO


def _quiet_sdk_debug() -> None:
    """Filter the SDK's logger once, whatever level it is later set to."""
    logger = logging.getLogger(SDK_LOGGER)
    if not any(isinstance(existing, _NoDebugRecords) for existing in logger.filters):
        logger.addFilter(_NoDebugRecords())


def _harden_session(client: Any) -> None:
    """Send to the endpoint itself, whatever ``HTTP(S)_PROXY`` says, and follow no redirect
    (a redirect is an outage: the fields go nowhere else)."""
    connection = getattr(getattr(client, "request", None), "conn", None)
    session = getattr(connection, "_session", None)
    if connection is None or session is None:  # an SDK this code was not written for
        raise RuntimeError(
            "the installed Tencent Cloud SDK cannot be kept from proxies and redirects: "
            'install a tested version with pip install "kyc-service[tencent]"'
        )
    connection.proxy = None
    session.trust_env = False
    session.max_redirects = 0


def close_client(client: Any) -> None:
    """Close the client's pooled connections, if it has any."""
    connection = getattr(getattr(client, "request", None), "conn", None)
    session = getattr(connection, "_session", None)
    if session is not None:
        session.close()


class FaceIdCaller:
    """Calls FaceID operations through one client, behind one circuit breaker."""

    def __init__(
        self, client: Any, sdk: Sdk, role: str, breaker: CircuitBreaker | None = None
    ) -> None:
        self.client = client
        self.sdk = sdk
        self.role = role
        self.breaker = breaker or CircuitBreaker()

    def ask(
        self,
        action: str,
        fields: Mapping[str, str],
        table: Mapping[str, Answer],
        *,
        scored: Collection[str] = (),
    ) -> CheckOutcome:
        """Send exactly ``fields`` to ``action``; the domain result its answer means, or
        ``UpstreamUnavailable``. For a ``Result`` in ``scored`` (a comparison was made), the
        answer's ``Sim`` (0–100) becomes the score (0–1)."""
        if not self.breaker.allow():
            raise UpstreamUnavailable(f"Tencent FaceID ({self.role}) is failing: circuit open")
        request = getattr(self.sdk.models, f"{action}Request")()
        for name, value in fields.items():
            setattr(request, name, value)
        try:
            response = getattr(self.client, action)(request)
        except self.sdk.error as error:  # settled outside: its message never rides along
            code, tencent_id = getattr(error, "code", None), getattr(error, "requestId", None)
            answer = answer_for(table, code, error=True)
        else:
            code, tencent_id = getattr(response, "Result", None), response.RequestId
            answer = answer_for(table, code)
            if code in scored and isinstance(answer, Match | Mismatch):
                answer = _with_score(answer, getattr(response, "Sim", None))
        return self._settle(action, answer, code, tencent_id)

    def _settle(
        self, action: str, answer: Answer, code: object, tencent_request_id: object
    ) -> CheckOutcome:
        """Note the answer on the breaker; return the result or raise the outage."""
        if not isinstance(answer, Outage):
            self.breaker.succeeded()
            return answer
        if answer.down:
            self.breaker.failed()
        else:
            self.breaker.succeeded()  # Tencent answered: it is up, only this request failed
        log.warning(
            "Tencent FaceID %s: %s (code %s, request %s)",
            action,
            answer.reason,
            _loggable(code),
            _loggable(tencent_request_id),
        )
        raise UpstreamUnavailable(
            f"Tencent FaceID {action}: {answer.reason}", billable=answer.billable
        )

    def close(self) -> None:
        """Close the client's pooled connections."""
        close_client(self.client)


def _with_score(answer: Match | Mismatch, sim: object) -> Answer:
    """``answer`` with ``Sim / 100`` as its score; an outage when ``Sim`` is not in 0–100."""
    if sim is None:
        return answer
    if isinstance(sim, bool) or not isinstance(sim, int | float) or not 0 <= sim <= 100:
        return Outage("Tencent FaceID answered a similarity outside 0–100", down=True)
    return dataclasses.replace(answer, score=round(float(sim) / 100, 4))


def _loggable(value: object) -> str:
    """A code or request id as Tencent documents them (letters, digits, ``.``, ``-``), or a
    placeholder: nothing else from an answer reaches the log."""
    text = value if isinstance(value, str) else ""
    return text if re.fullmatch(r"[A-Za-z0-9.\-]{1,80}", text) else "-"
