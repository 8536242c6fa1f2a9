"""Shared plumbing of the UDP outputs (Art-Net, sACN): URL checks, resolving, sending.

Nothing here ever sends a packet on its own: the outputs send only what the
show gives them, only to the address the URL names.
"""

from __future__ import annotations

import ipaddress
import socket

from core.output.base import OutputDisconnected, OutputError, OutputUnavailable, ParsedUrl


def check_params(parsed: ParsedUrl, known: tuple[str, ...]) -> None:
    """Refuse query parameters the output does not know (a typo would be silently ignored)."""
    unknown = sorted(set(parsed.query) - set(known))
    if unknown:
        raise OutputError(f"{parsed.url}: unknown parameter(s) {', '.join(unknown)}; "
                          f"{parsed.scheme}:// knows {', '.join(known)}")


def is_broadcast(address: str) -> bool:
    """True for 255.255.255.255 and every x.x.x.255 (the usual subnet broadcast)."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return ip.packed[3] == 255


def resolve_ipv4(url: str, host: str) -> str:
    """The IPv4 address of ``host``; :class:`OutputUnavailable` when it cannot be resolved."""
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise OutputUnavailable(f"{url}: cannot resolve host {host!r} ({reason}); "
                                "check the name or use an IP address") from None
    if not infos:
        raise OutputUnavailable(f"{url}: host {host!r} has no IPv4 address")
    return infos[0][4][0]


def udp_socket(url: str, broadcast: bool = False, multicast_ttl: int | None = None,
               multicast_if: str | None = None) -> socket.socket:
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError as exc:
        raise OutputUnavailable(f"{url}: cannot create a UDP socket ({exc.strerror or exc})") from None
    try:
        if broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if multicast_ttl is not None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, multicast_ttl)
        if multicast_if:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(multicast_if))
    except OSError as exc:
        sock.close()
        raise OutputUnavailable(f"{url}: cannot set up the UDP socket ({exc.strerror or exc})") from None
    return sock


def send_to(url: str, sock: socket.socket | None, packet, address: tuple[str, int]) -> None:
    if sock is None:
        raise OutputError(f"{url}: the output is not open")
    try:
        sock.sendto(packet, address)
    except OSError as exc:
        raise OutputDisconnected(f"{url}: sending to {address[0]}:{address[1]} failed "
                                 f"({exc.strerror or exc})") from None
