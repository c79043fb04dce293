"""The connection to Cloudauth: the official SDK (loaded on demand), its settings, one client.

The SDK signs every request itself (Alibaba's V3 signature, ``ACS3-HMAC-SHA256``: the
default of ``alibabacloud_tea_openapi`` when no ``signature_algorithm`` is configured) and
is told never to retry: a repeat of a verification would be billed again, and the service
retries an outage itself, later. Whatever the SDK raises becomes ``UpstreamUnavailable``
whose message names at most an Alibaba error code or an exception's type: never a
credential, never submitted data.

Note: the SDK reads ``HTTP_PROXY``/``HTTPS_PROXY`` from the environment itself (there is no
switch to ignore them), and logs requests at DEBUG level when ``DEBUG=sdk`` is set.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from kyc_service.domain.errors import UpstreamUnavailable

INSTALL_HINT = 'pip install "kyc-service[alibaba]"'
DEFAULT_ENDPOINT = "cloudauth.aliyuncs.com"
"""The documented service address of the three operations (HTTPS)."""
DEFAULT_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0
DEFAULT_SCENE_CODE = "kyc_business_registry"
SCENE_CODE = re.compile(r"[A-Za-z0-9_]{1,32}")
"""EntElementVerify's SceneCode: letters, digits and ``_``, at most 32 (user-defined)."""
SAFE_ERROR_CODE = re.compile(r"[A-Z][A-Za-z0-9.]{0,63}")
"""An Alibaba error code worth naming in a message (``Throttling.User``): no digits first,
so no number a caller sent can pass for one."""
ENT_ELEMENT_VERIFY_VERSION = "2022-11-25"


@dataclass(frozen=True)
class Sdk:
    """The parts of the official SDK the adapters use."""

    client: type
    models: ModuleType
    config: type
    params: type
    request: type
    runtime: type


def load_sdk() -> Sdk:
    """Import the SDK, or raise ``RuntimeError`` naming the command that installs it."""
    try:
        from alibabacloud_cloudauth20190307 import models
        from alibabacloud_cloudauth20190307.client import Client
        from alibabacloud_tea_openapi.models import Config, OpenApiRequest, Params

        runtime = _runtime_options()
    except ImportError:
        raise RuntimeError(
            f"the alibaba adapters need the Alibaba Cloud SDK: {INSTALL_HINT}"
        ) from None
    _quiet_sdk_logger()
    return Sdk(Client, models, Config, Params, OpenApiRequest, runtime)


SDK_LOGGER = "darabonba-core"
"""The SDK's own logger: with ``DEBUG=sdk`` it writes whole requests (the query string holds
card and ID numbers) to its own stderr handler, past the service's masking."""


def _quiet_sdk_logger() -> None:
    """Keep the SDK's logger to warnings, through the service's handlers only."""
    with contextlib.suppress(ImportError):
        import darabonba.core  # noqa: F401 - its import adds the handler: import it first
    logger = logging.getLogger(SDK_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.WARNING)


def _runtime_options() -> type:
    """The RuntimeOptions class the installed SDK takes (darabonba's since SDK 3.x)."""
    try:
        from darabonba.runtime import RuntimeOptions
    except ImportError:
        from alibabacloud_tea_util.models import RuntimeOptions
    return RuntimeOptions


@dataclass(frozen=True)
class Settings:
    """A port's Alibaba settings, checked (the secret is kept out of ``repr``)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    endpoint: str = DEFAULT_ENDPOINT
    protocol: str = "https"
    region: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    scene_code: str = DEFAULT_SCENE_CODE


def settings_of(raw: Mapping[str, Any], port: str) -> Settings:
    """Check a port's settings (``KYC_ALIBABA_*`` under ``KYC_<PORT>_*``); raise
    ``RuntimeError`` naming the setting, never its value."""
    access_key_id = _required(raw, "access_key_id", "KYC_ALIBABA_ACCESS_KEY_ID")
    access_key_secret = _required(raw, "access_key_secret", "KYC_ALIBABA_ACCESS_KEY_SECRET")
    protocol, endpoint = endpoint_of(str(raw.get("endpoint") or ""))
    scene_code = str(raw.get("scene_code") or DEFAULT_SCENE_CODE)
    if not SCENE_CODE.fullmatch(scene_code):
        raise RuntimeError("KYC_ALIBABA_SCENE_CODE must be 1-32 letters, digits or '_'")
    return Settings(
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        endpoint=endpoint,
        protocol=protocol,
        region=str(raw.get("region") or "") or None,
        timeout=_timeout(raw.get("timeout"), f"KYC_{port.upper()}_TIMEOUT"),
        scene_code=scene_code,
    )


def _required(raw: Mapping[str, Any], key: str, name: str) -> str:
    """A setting that must be set, stripped."""
    value = str(raw.get(key) or "").strip()
    if not value:
        raise RuntimeError(f"the alibaba adapters need {name}")
    return value


def _timeout(value: Any, name: str) -> float:
    """Seconds, above 0 and at most 120."""
    if value in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise RuntimeError(f"{name} must be a number of seconds") from None
    if not 0 < seconds <= 120:
        raise RuntimeError(f"{name} must be above 0 and at most 120 seconds")
    return seconds


def endpoint_of(value: str) -> tuple[str, str]:
    """The protocol and ``host[:port]`` of ``KYC_ALIBABA_ENDPOINT``: HTTPS, except to a
    loopback address (a test double), where plain HTTP is the default and allowed."""
    scheme, separator, rest = value.strip().partition("://")
    if not separator:
        scheme, rest = "", value.strip()
    host = rest.rstrip("/") or DEFAULT_ENDPOINT
    if "/" in host or "@" in host or any(ch.isspace() for ch in host):
        raise RuntimeError("KYC_ALIBABA_ENDPOINT must be a host[:port] (or a URL of one)")
    loopback = _is_loopback(host)
    protocol = scheme.lower() or ("http" if loopback else "https")
    if protocol not in ("http", "https"):
        raise RuntimeError("KYC_ALIBABA_ENDPOINT must use https")
    if protocol == "http" and not loopback:
        raise RuntimeError("KYC_ALIBABA_ENDPOINT may use plain http only to a loopback address")
    return protocol, host


def _is_loopback(host: str) -> bool:
    """Whether ``host[:port]`` names this machine (127.0.0.0/8, ::1, localhost)."""
    name = host[1:].partition("]")[0] if host.startswith("[") else host.rpartition(":")[0]
    name = name or host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class CloudauthClient:
    """One SDK client (one per adapter) and the three calls, each sending exactly the
    fields it is given (Alibaba's parameter names) and returning the answer's body."""

    def __init__(self, settings: Settings, role: str, sdk: Sdk | None = None) -> None:
        self.sdk = sdk or load_sdk()
        self.role = role
        self.scene_code = settings.scene_code
        self.read_ms = int(settings.timeout * 1000)
        self.connect_ms = int(min(CONNECT_TIMEOUT, settings.timeout) * 1000)
        config = self.sdk.config(
            access_key_id=settings.access_key_id,
            access_key_secret=settings.access_key_secret,
            endpoint=settings.endpoint,
            protocol=settings.protocol,
            region_id=settings.region,
            read_timeout=self.read_ms,
            connect_timeout=self.connect_ms,
        )
        self.client = self.sdk.client(config)

    def runtime(self) -> Any:
        """Runtime options of one call: the timeouts, and no retry."""
        return self.sdk.runtime(
            read_timeout=self.read_ms, connect_timeout=self.connect_ms, autoretry=False
        )

    def call(self, send: Callable[[], Any]) -> Any:
        """Run ``send`` (one SDK call); anything it raises becomes ``UpstreamUnavailable``."""
        try:
            return send()
        except UpstreamUnavailable:
            raise
        except Exception as error:  # the SDK raises Tea, darabonba, requests and JSON errors
            raise UpstreamUnavailable(self._failure(error)) from None

    def id_2meta_verify(self, fields: Mapping[str, str]) -> Any:
        """``Id2MetaVerify`` (2019-03-07): the fields in the form body (as the SDK sends them)."""
        request = self.sdk.models.Id2MetaVerifyRequest().from_map(dict(fields))
        response = self.client.id_2meta_verify_with_options(request, self.runtime())
        return self._typed_body(response)

    def bank_meta_verify(self, fields: Mapping[str, str]) -> Any:
        """``BankMetaVerify`` (2019-03-07): the fields in the query (as the SDK sends them)."""
        request = self.sdk.models.BankMetaVerifyRequest().from_map(dict(fields))
        response = self.client.bank_meta_verify_with_options(request, self.runtime())
        return self._typed_body(response)

    def ent_element_verify(self, fields: Mapping[str, str]) -> Any:
        """``EntElementVerify`` (2022-11-25, absent from the 2019-03-07 SDK): through the
        client's generic ``call_api``, as the 2022-11-25 SDK sends it (fields in the query)."""
        params = self.sdk.params(
            action="EntElementVerify",
            version=ENT_ELEMENT_VERIFY_VERSION,
            protocol="HTTPS",
            pathname="/",
            method="POST",
            auth_type="AK",
            style="RPC",
            req_body_type="formData",
            body_type="json",
        )
        request = self.sdk.request(query=dict(fields))
        answer = self.client.call_api(params, request, self.runtime())
        if not isinstance(answer, Mapping):
            raise self._bad("the SDK returned no answer")
        return self._checked(answer.get("statusCode"), answer.get("body"))

    def _typed_body(self, response: Any) -> Any:
        """The body of a typed SDK response, as the map it was read from."""
        body = response.body.to_map() if response.body is not None else None
        return self._checked(response.status_code, body)

    def _checked(self, status: Any, body: Any) -> Any:
        """The body of an HTTP 200 answer (the SDK raises on 4xx and 5xx)."""
        if status != 200:
            raise self._bad("it answered an HTTP status other than 200")
        return body

    def _bad(self, what: str) -> UpstreamUnavailable:
        """An outage of this role, described."""
        return UpstreamUnavailable(f"the Alibaba {self.role} check is unavailable: {what}")

    def _failure(self, error: Exception) -> str:
        """A safe description of an SDK failure: its error code, or its type's name."""
        code = getattr(error, "code", None)
        inner = getattr(error, "inner_exception", None)
        if isinstance(code, str) and SAFE_ERROR_CODE.fullmatch(code):
            what = f"it answered {code}"
        else:
            what = f"the call failed ({type(inner or error).__name__})"
        return f"the Alibaba {self.role} check is unavailable: {what}"
