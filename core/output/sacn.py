"""sACN (ANSI E1.31-2018) output: E1.31 data packets by UDP, unicast by default.

URL: ``sacn://HOST[:PORT]?universe=N&priority=P&name=TEXT&multicast=1``

* ``HOST`` is the receiver (IPv4 address or name, resolved in ``open()``);
  the port defaults to 5568.
* ``universe=`` is the sACN universe of show universe 1; show universe ``u``
  goes to ``universe + u - 1``. Without it the sACN universe is the show
  universe's own number. sACN universes are 1..63999; a show universe landing
  outside raises :class:`OutputError`.
* ``priority=`` 0..200 (default 100): receivers take the highest-priority
  source of a universe.
* ``name=`` replaces the source name (default: the project's, from
  :class:`OutputContext`); it is cut to 63 bytes of UTF-8.
* ``multicast=1`` (opt-in) sends each universe to its multicast group
  239.255.hi.lo (hi/lo: the high/low byte of the sACN universe) with a TTL of
  1, so it stays on the local network segment. ``HOST`` may then be left out
  (``sacn://?multicast=1``); when given it is the address of the local network
  interface to send from. Without the flag nothing is ever multicast.
* Broadcast addresses (x.x.x.255) are refused: sACN is unicast or multicast.

Each packet is 638 bytes (root, framing and DMP layers, start code 0 and all
512 slots). The CID (16 bytes) identifies this source to receivers; the
project keeps one for life (``OutputContext.cid``). Sequence numbers run
0..255 and wrap, separately for each sACN universe; sync address and options
are 0. ``close()`` ends the streams as E1.31 asks: three packets per universe
with the Stream_Terminated option bit, so receivers let go at once instead of
after their 2.5 s timeout.
"""

from __future__ import annotations

import struct

from core.output.base import (
    UNIVERSE_SIZE,
    OutputContext,
    OutputError,
    ParsedUrl,
    as_frame,
    register_scheme,
)
from core.output.udp import check_params, is_broadcast, resolve_ipv4, send_to, udp_socket

DEFAULT_PORT = 5568
ACN_ID = b"ASC-E1.17\x00\x00\x00"
VECTOR_ROOT_E131_DATA = 0x00000004
VECTOR_E131_DATA_PACKET = 0x00000002
VECTOR_DMP_SET_PROPERTY = 0x02
PACKET_SIZE = 638
MAX_UNIVERSE = 63999
MAX_PRIORITY = 200
DEFAULT_PRIORITY = 100
OPTION_TERMINATED = 0x40
TERMINATE_COUNT = 3
PARAMS = ("universe", "priority", "name", "multicast")

# offsets of the fields that change from packet to packet
_SEQUENCE_AT = 111
_OPTIONS_AT = 112
_UNIVERSE_AT = 113
_DATA_AT = 126
_ROOT = struct.Struct(">HH12sHI16s")  # preamble, postamble, ACN id, flags+length, vector, CID
_FRAMING = struct.Struct(">HI64sBHBBH")  # flags+length, vector, name, priority, sync, sequence, options, universe
_DMP = struct.Struct(">HBBHHHB")  # flags+length, vector, address type, first, increment, count, start code


def _flags_length(length: int) -> int:
    return 0x7000 | length


def source_name_bytes(name: str) -> bytes:
    """``name`` as at most 63 bytes of UTF-8 (never a cut character), null-padded to 64."""
    raw = name.encode("utf-8")[:63].decode("utf-8", errors="ignore").encode("utf-8")
    return raw.ljust(64, b"\x00")


def multicast_group(universe: int) -> str:
    return f"239.255.{universe >> 8}.{universe & 0xFF}"


class SacnOutput:
    """Sends show universes as E1.31 data packets to one receiver (or to multicast groups)."""

    max_rate: float | None = None
    max_universes: int | None = None

    def __init__(self, host: str, port: int = DEFAULT_PORT, cid: bytes = bytes(16), source_name: str = "Luma Studio",
                 priority: int = DEFAULT_PRIORITY, first_universe: int | None = None, multicast: bool = False,
                 url: str | None = None):
        self.url = url or f"sacn://{host}:{port}"
        if not host and not multicast:
            raise OutputError(f"{self.url}: sACN needs a host, e.g. sacn://192.168.1.50 "
                              "(or ?multicast=1 to send to the universes' multicast groups)")
        if not 0 < port <= 0xFFFF:
            raise OutputError(f"{self.url}: port {port} is outside 1..65535")
        if len(cid) != 16:
            raise OutputError(f"{self.url}: the sACN CID must be 16 bytes, got {len(cid)}")
        if not 0 <= priority <= MAX_PRIORITY:
            raise OutputError(f"{self.url}: priority {priority} is outside 0..{MAX_PRIORITY}")
        if first_universe is not None and not 1 <= first_universe <= MAX_UNIVERSE:
            raise OutputError(f"{self.url}: sACN universe {first_universe} is outside 1..{MAX_UNIVERSE}")
        if host and not multicast and is_broadcast(host):
            raise OutputError(self._broadcast_message(host))
        self.host = host
        self.port = port
        self.cid = bytes(cid)
        self.source_name = source_name
        self.priority = priority
        self.first_universe = first_universe
        self.multicast = multicast
        self.address: tuple[str, int] | None = None
        self._sock = None
        self._sequence: dict[int, int] = {}  # sACN universe -> next sequence number
        self._last: dict[int, bytes] = {}  # sACN universe -> last frame sent since open
        self._packet = self._template()

    @classmethod
    def from_url(cls, parsed: ParsedUrl, context: OutputContext | None = None) -> "SacnOutput":
        check_params(parsed, PARAMS)
        context = context or OutputContext()
        first = parsed.int_param("universe", 0, 1, MAX_UNIVERSE) if parsed.query.get("universe") else None
        return cls(parsed.host, DEFAULT_PORT if parsed.port is None else parsed.port, cid=context.cid,
                   source_name=parsed.query.get("name") or context.source_name,
                   priority=parsed.int_param("priority", DEFAULT_PRIORITY, 0, MAX_PRIORITY),
                   first_universe=first, multicast=parsed.flag("multicast"), url=parsed.url)

    def _broadcast_message(self, address: str) -> str:
        return (f"{self.url}: {address} is a broadcast address; sACN is sent to one receiver "
                "(or with ?multicast=1 to the universes' multicast groups)")

    def _template(self) -> bytearray:
        packet = bytearray(PACKET_SIZE)
        _ROOT.pack_into(packet, 0, 0x0010, 0x0000, ACN_ID, _flags_length(PACKET_SIZE - 16),
                        VECTOR_ROOT_E131_DATA, self.cid)
        _FRAMING.pack_into(packet, 38, _flags_length(PACKET_SIZE - 38), VECTOR_E131_DATA_PACKET,
                           source_name_bytes(self.source_name), self.priority, 0, 0, 0, 0)
        _DMP.pack_into(packet, 115, _flags_length(PACKET_SIZE - 115), VECTOR_DMP_SET_PROPERTY, 0xA1, 0, 1,
                       UNIVERSE_SIZE + 1, 0)
        return packet

    def sacn_universe(self, universe: int) -> int:
        """The sACN universe show universe ``universe`` goes to."""
        if universe < 1:
            raise OutputError(f"{self.url}: show universe {universe}: show universes start at 1")
        target = universe if self.first_universe is None else self.first_universe + universe - 1
        if target > MAX_UNIVERSE:
            raise OutputError(f"{self.url}: show universe {universe} would be sACN universe {target}, "
                              f"above the highest ({MAX_UNIVERSE})")
        return target

    def open(self) -> None:
        if self._sock is not None:
            return
        if self.multicast:
            interface = resolve_ipv4(self.url, self.host) if self.host else None
            self._sock = udp_socket(self.url, multicast_ttl=1, multicast_if=interface)
            self.address = None
        else:
            ip = resolve_ipv4(self.url, self.host)
            if is_broadcast(ip):
                raise OutputError(self._broadcast_message(ip))
            self._sock = udp_socket(self.url)
            self.address = (ip, self.port)
        self._last.clear()

    def destination(self, sacn_universe: int) -> tuple[str, int]:
        if self.multicast:
            return multicast_group(sacn_universe), self.port
        if self.address is None:
            raise OutputError(f"{self.url}: the output is not open")
        return self.address

    def _send(self, target: int, data: bytes, options: int) -> None:
        sequence = self._sequence.get(target, 0)
        packet = self._packet
        packet[_SEQUENCE_AT] = sequence
        packet[_OPTIONS_AT] = options
        struct.pack_into(">H", packet, _UNIVERSE_AT, target)
        packet[_DATA_AT:] = data
        send_to(self.url, self._sock, packet, self.destination(target))
        self._sequence[target] = (sequence + 1) & 0xFF

    def send(self, universe: int, frame) -> None:
        target = self.sacn_universe(universe)
        data = as_frame(frame)
        self._send(target, data, 0)
        self._last[target] = data

    def end_tick(self) -> None:
        pass  # no E1.31 synchronization: the sync address is 0

    def close(self) -> None:
        if self._sock is None:
            return
        try:
            for target, data in self._last.items():
                for _ in range(TERMINATE_COUNT):
                    self._send(target, data, OPTION_TERMINATED)
        except OutputError:
            pass  # the network is gone: receivers time out on their own
        finally:
            sock, self._sock = self._sock, None
            sock.close()
            self._last.clear()

    def __repr__(self) -> str:
        return f"SacnOutput({self.url!r})"


register_scheme("sacn", SacnOutput.from_url)
