"""Behind a reverse proxy: the real client address and scheme, believed only from trusted proxies.

A TLS-terminating proxy connects over plain HTTP from its own address, so without help every
client shares the proxy's address (one attacker's failed logins would lock out everyone) and the
session cookie would lack ``Secure``. ``HUB_TRUSTED_PROXIES`` lists the proxies' networks; only when
the TCP peer is in one of them are ``Forwarded`` (RFC 7239), else ``X-Forwarded-For`` and
``X-Forwarded-Proto``, read. Anyone else's headers are ignored: they are trivially forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ClientInfo:
    """Where a request really comes from."""

    remote: str
    scheme: str


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parsed networks (the settings already checked them)."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _address(text: str | None) -> Address | None:
    """An IP address from a header value: ``1.2.3.4``, ``1.2.3.4:80``, ``"[2001:db8::1]:443"``."""
    if not text:
        return None
    value = text.strip().strip('"').strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr: Address | None, trusted: Sequence[Network]) -> bool:
    return addr is not None and any(addr in net for net in trusted)


def _scheme(value: str | None) -> str | None:
    value = (value or "").strip().strip('"').lower()
    return value if value in ("http", "https") else None


def client_info(request: web.Request, trusted: Sequence[Network]) -> ClientInfo:
    """The client address and scheme of ``request``.

    The hops a header lists are read right to left (nearest first), skipping trusted proxies: the
    first untrusted hop is the client (a client may put anything it likes at the left end, so the
    leftmost entry is believed only when every hop after it is a trusted proxy). A malformed header
    is ignored as a whole.
    """
    own = ClientInfo(remote=request.remote or "unknown", scheme=request.scheme)
    if not trusted or not _trusted(_address(own.remote), trusted):
        return own
    hops: list[tuple[Address, str | None]] = []
    forwarded = request.headers.getall("Forwarded", [])
    if forwarded:
        try:
            elements = request.forwarded
        except ValueError:
            return own
        for element in elements:
            addr = _address(element.get("for"))
            if addr is None:
                return own
            hops.append((addr, _scheme(element.get("proto"))))
    elif "X-Forwarded-For" in request.headers:
        parts = [p for h in request.headers.getall("X-Forwarded-For") for p in h.split(",")]
        addrs = [_address(p) for p in parts]
        if not addrs or any(a is None for a in addrs):
            return own
        protos = [p for h in request.headers.getall("X-Forwarded-Proto", []) for p in h.split(",")]
        for i, addr in enumerate(addrs):
            # one proto per hop when the proxies kept them aligned; else the nearest proxy's word
            proto = protos[i] if len(protos) == len(addrs) else (protos[-1] if protos else None)
            hops.append((addr, _scheme(proto)))  # type: ignore[arg-type]
    else:
        proto = _scheme(request.headers.get("X-Forwarded-Proto"))
        return ClientInfo(remote=own.remote, scheme=proto or own.scheme)
    if not hops:
        return own
    chosen = hops[0]
    for hop in reversed(hops):
        chosen = hop
        if not _trusted(hop[0], trusted):
            break
    scheme = chosen[1] or next((p for _, p in reversed(hops) if p), None) or own.scheme
    return ClientInfo(remote=str(chosen[0]), scheme=scheme)
