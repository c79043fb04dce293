"""Webhooks over HTTP (the ``http`` adapter): where they may go, and the one POST that takes them.

A webhook URL names a host chosen by a tenant, so the service must not become a way to
reach its own network (SSRF). Live-mode URLs must be ``https`` and every address their
host resolves to must be globally routable, judged after unwrapping any IPv4 address an
IPv6 one carries (mapped, translated, compatible, NAT64, 6to4). Test-mode URLs may also be
``http`` and loopback (a partner's development machine), and nothing else that is not
global: no private LAN, link-local (cloud metadata), multicast, reserved or unspecified.
The check is made again at every send, and the connection goes to the address that was
checked, so a DNS answer changed in between (rebinding) cannot redirect it.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import DeliveryFailed, InvalidRequest
from kyc_service.domain.results import WebhookTarget
from kyc_service.ports import WebhookTransport

TIMEOUT_SECONDS = 10.0
DEADLINE_SECONDS = 10.0
"""The most one delivery may take, from connecting to the last byte read."""
MAX_URL_LENGTH = 2048
RESPONSE_READ_LIMIT = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


Target = WebhookTarget


def _refuse(message: str) -> InvalidRequest:
    """Return the contract's ``url_invalid`` error."""
    return InvalidRequest(message, code="url_invalid", field="url")


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix: its last 32 bits are an IPv4 address, judged as such."""
TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
"""IPv4-translated addresses (SIIT): the last 32 bits are an IPv4 address."""
COMPATIBLE = ipaddress.IPv6Network("::/96")
"""Deprecated IPv4-compatible addresses (``::a.b.c.d``)."""
NEVER_IPV6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): reaches a private network
        "2001::/32",  # Teredo: the IPv4 client inside is obfuscated
        "fec0::/10",  # site-local (deprecated), private by intent
        "fc00::/7",  # unique local
    )
)
"""IPv6 networks never allowed, whatever they carry."""


def _embedded_ipv4(address: IpAddress) -> IpAddress:
    """Judge an IPv6 address that carries an IPv4 one as that IPv4 address: mapped,
    translated, compatible, NAT64 and 6to4 forms."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or address in TRANSLATED or (address in COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_allowed(address: IpAddress, mode: Mode) -> bool:
    """Tell whether a webhook may be sent to ``address`` in ``mode``.

    Live mode: globally routable addresses only, judged after unwrapping any IPv4 address
    an IPv6 one carries. Test mode: also loopback (a partner's development machine), and
    nothing else that is not global (no private LAN, link-local, metadata or reserved).
    """
    if isinstance(address, ipaddress.IPv6Address) and any(address in net for net in NEVER_IPV6):
        return False
    inner = _embedded_ipv4(address)
    if inner.is_link_local or inner.is_multicast or inner.is_unspecified:
        return False
    if inner.is_global and not inner.is_private:
        return True
    return mode is Mode.TEST and address.is_loopback and inner.is_loopback


def _resolve(host: str, port: int) -> list[IpAddress]:
    """Return every address ``host`` resolves to (an IP literal is its own answer)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise _refuse("the url's host does not resolve") from None
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    if not addresses:
        raise _refuse("the url's host does not resolve")
    return addresses


def _split(url: str, mode: Mode) -> tuple[str, str, int, str]:
    """Return (scheme, host, port, path) of an acceptable URL, or raise ``url_invalid``."""
    if len(url) > MAX_URL_LENGTH or any(ord(ch) <= 32 or ord(ch) == 127 for ch in url):
        raise _refuse("the url is too long or contains spaces or control characters")
    parts = urlsplit(url)
    allowed = ("https",) if mode is Mode.LIVE else ("https", "http")
    if parts.scheme not in allowed:
        raise _refuse(f"the url must use {' or '.join(allowed)} in {mode.value} mode")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise _refuse("the url must not carry credentials or a fragment")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise _refuse("the url's port is invalid") from None
    if not parts.hostname:
        raise _refuse("the url has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def resolve_target(url: str, mode: Mode) -> Target:
    """Check ``url`` for ``mode`` and resolve it; ``url_invalid`` if any address is refused."""
    scheme, host, port, path = _split(url, mode)
    addresses = _resolve(host, port)
    if not all(address_allowed(address, mode) for address in addresses):
        raise _refuse(f"the url's host resolves to an address not allowed in {mode.value} mode")
    return Target(scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to a checked address, with the URL's host in the ``Host`` header."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        """Connect to the checked address, not to a fresh DNS answer."""
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified for the URL's host."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address

    def connect(self) -> None:
        """Connect to the checked address and verify the certificate for the URL's host."""
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def post(
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float = TIMEOUT_SECONDS,
    deadline: float = DEADLINE_SECONDS,
) -> int:
    """POST ``body`` to ``target``; return the status (a redirect is not followed).

    ``timeout`` bounds each network operation and ``deadline`` the whole delivery: a
    receiver that dribbles its answer a byte at a time is cut off when the deadline passes.
    Raises ``DeliveryFailed`` (short, safe message) when no answer came.
    """
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, min(timeout, deadline))
    expired = threading.Event()
    started = time.monotonic()
    timer = threading.Timer(deadline, _cut, (connection, expired))
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", target.path, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        if expired.is_set():
            raise DeliveryFailed("deadline passed")
        return response.status
    except TimeoutError:
        past = expired.is_set() or time.monotonic() - started >= deadline
        raise DeliveryFailed("deadline passed" if past else "timed out") from None
    except ssl.SSLError as exc:
        raise DeliveryFailed(f"TLS error: {type(exc).__name__}") from None
    except (OSError, http.client.HTTPException, ValueError, AttributeError) as exc:
        if expired.is_set():
            raise DeliveryFailed("deadline passed") from None
        raise DeliveryFailed(f"connection failed: {type(exc).__name__}") from None
    finally:
        timer.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The delivery's deadline passed: shut its socket, so a blocked read returns now."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class HttpWebhookTransport(WebhookTransport):
    """Checks webhook URLs against the SSRF rules and POSTs to the checked address."""

    def __init__(self, deadline: float = DEADLINE_SECONDS) -> None:
        self.deadline = deadline

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HttpWebhookTransport:
        """``KYC_WEBHOOKS_DEADLINE_SECONDS``: the most one delivery may take (default 10)."""
        return cls(float(settings.get("deadline_seconds") or DEADLINE_SECONDS))

    def resolve_target(self, url: str, mode: Mode) -> WebhookTarget:
        """Check ``url`` for ``mode`` and resolve it (``url_invalid`` when refused)."""
        return resolve_target(url, mode)

    def post(self, target: WebhookTarget, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` to the checked address; the status (``DeliveryFailed`` without)."""
        return post(target, body, headers, deadline=self.deadline)
