"""Which callback URLs may be called: no private, loopback, link-local, multicast, reserved or
unspecified addresses (IPv4 and IPv6, IPv4 embedded in IPv6 included) unless private targets are allowed.

Two checks: :func:`validate_callback_url` is pure (no DNS) and answers at request time; at delivery time
:func:`resolve_target` resolves the host and refuses it if *any* address is not public, then returns the
address to connect to, so the request goes to the address that was checked (no DNS rebinding in between).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves ``(host, port)`` to IP address strings (tests may pass their own)."""

MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")
_LOCAL_NAMES = ("localhost", "localhost.")


class RefusedTargetError(ValueError):
    """The URL's host is (or resolves to) an address that webhooks may not call."""


def is_public_address(address: IPAddress) -> bool:
    """True for globally routable unicast addresses; an IPv4 address embedded in IPv6 (mapped, 6to4,
    NAT64) is judged as IPv4."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_public_address(embedded)
    special = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    return address.is_global and not special


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> IPAddress | None:
    """The IP address ``host`` denotes without DNS (including IPv4 forms such as ``127.1`` or
    ``2130706433``, with or without a trailing dot), or None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    numeric = host.removesuffix(".")
    if _NUMERIC_HOST.fullmatch(numeric):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(numeric))
        except OSError:
            return None
    return None


def validate_callback_url(url: str, *, allow_private: bool) -> None:
    """Raise :class:`ValueError` (:class:`RefusedTargetError` for a refused host) unless ``url`` is an
    http(s) URL with a host, no credentials, and — unless ``allow_private`` — a host that is not a
    non-public IP literal or ``localhost``. No DNS lookup is made."""
    parts = _split(url)
    host = parts.hostname or ""
    if allow_private:
        return
    lowered = host.lower()
    if lowered in _LOCAL_NAMES or lowered.rstrip(".").endswith(".localhost"):
        raise RefusedTargetError(f"callback host {host!r} is local; only public hosts may be called")
    address = literal_address(host)
    if address is not None and not is_public_address(address):
        raise RefusedTargetError(f"callback address {host} is not a public address")


def _split(url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"callback URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("callback URL must not contain whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("callback URL must use http or https")
    if "@" in parts.netloc:
        raise ValueError("callback URL must not contain credentials (user:password@)")
    if not parts.hostname:
        raise ValueError("callback URL must have a host")
    try:
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        raise ValueError("callback URL has an invalid port") from exc
    return parts


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (``getaddrinfo`` in the loop's executor)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_target(url: str, *, resolver: Resolver = system_resolver) -> str:
    """The public address to connect to for ``url``'s host; raises :class:`RefusedTargetError` if any
    address of the host is not public, :class:`OSError` if the name does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    addresses = await resolver(host, port)
    if not addresses:
        raise OSError(f"no address for {host}")
    for text in addresses:
        address = literal_address(text)
        if address is None or not is_public_address(address):
            raise RefusedTargetError(f"callback host {host} resolves to {text}, which is not public")
    return addresses[0]
