"""Art-Net 4 output: ArtDmx (and optionally ArtSync) by unicast UDP.

URL: ``artnet://HOST[:PORT]?net=N&subnet=S&universe=U&sync=1&broadcast=1``

* ``HOST`` is the node (IPv4 address or name, resolved in ``open()``); the
  port defaults to 6454.
* Universe mapping. Art-Net addresses a universe with a 15-bit *port-address*
  ``net << 8 | subnet << 4 | universe`` (net 0..127, subnet 0..15,
  universe 0..15), written ``net:subnet:universe``. The URL gives the
  port-address of show universe 1; show universe ``u`` goes to that plus
  ``u - 1``:

  - no ``net``/``subnet``/``universe``: show universe 1 is 0:0:0, 2 is 0:0:1,
    17 is 0:1:0 (what most consoles do);
  - ``universe=`` alone is a flat port-address 0..32767 (``?universe=1``: show
    universe 1 is 0:0:1; ``?universe=17``: 0:1:1);
  - with ``net=`` and/or ``subnet=``, ``universe=`` is the 0..15 part
    (``?net=1&subnet=2&universe=3``: show universe 1 is 1:2:3, 2 is 1:2:4).

  A show universe that would land above 32767 raises :class:`OutputError`.
* ``sync=1`` sends an ArtSync after each tick (``end_tick()``), so that nodes
  which support it output all universes of the tick at the same moment. It
  goes to the same host as the ArtDmx (the spec's receivers accept it from
  the IP the ArtDmx came from).
* Only unicast: a broadcast address (``255.255.255.255`` or any
  ``x.x.x.255``) is refused unless ``broadcast=1`` is given (which then sets
  SO_BROADCAST). Broadcasting DMX floods every device on the network.
* No ArtPoll is ever sent; the output only sends what the show gives it.

Every ArtDmx carries all 512 slots and a sequence number 1..255 (wrapping back
to 1, never 0) kept separately for each port-address.
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

DEFAULT_PORT = 6454
ARTNET_ID = b"Art-Net\x00"
OP_DMX = 0x5000
OP_SYNC = 0x5200
PROTOCOL_VERSION = 14
MAX_PORT_ADDRESS = 0x7FFF
HEADER_SIZE = 18
PARAMS = ("net", "subnet", "universe", "sync", "broadcast")

# ID, OpCode (LE), ProtVer (BE), Sequence, Physical, SubUni, Net, Length (BE)
_DMX_HEADER = struct.Struct("<8sH")
_DMX_FIELDS = struct.Struct(">HBBBBH")
_SYNC = ARTNET_ID + struct.pack("<H", OP_SYNC) + struct.pack(">HBB", PROTOCOL_VERSION, 0, 0)


def port_address(net: int, subnet: int, universe: int) -> int:
    return (net << 8) | (subnet << 4) | universe


def format_port_address(address: int) -> str:
    return f"{address >> 8}:{(address >> 4) & 0xF}:{address & 0xF}"


class ArtNetOutput:
    """Sends show universes as ArtDmx packets to one Art-Net node."""

    max_rate: float | None = None
    max_universes: int | None = None

    def __init__(self, host: str, port: int = DEFAULT_PORT, base_address: int = 0, sync: bool = False,
                 broadcast: bool = False, url: str | None = None):
        self.url = url or f"artnet://{host}:{port}"
        if not host:
            raise OutputError(f"{self.url}: Art-Net needs a host, e.g. artnet://192.168.1.50")
        if not 0 < port <= 0xFFFF:
            raise OutputError(f"{self.url}: port {port} is outside 1..65535")
        if not 0 <= base_address <= MAX_PORT_ADDRESS:
            raise OutputError(f"{self.url}: port-address {base_address} is outside 0..{MAX_PORT_ADDRESS}")
        self.host = host
        self.port = port
        self.base_address = base_address
        self.sync = sync
        self.broadcast = broadcast
        if not broadcast and is_broadcast(host):
            raise OutputError(self._broadcast_message(host))
        self.address: tuple[str, int] | None = None
        self._sock = None
        self._sequence: dict[int, int] = {}  # port-address -> last sequence sent
        self._packet = bytearray(HEADER_SIZE + UNIVERSE_SIZE)
        _DMX_HEADER.pack_into(self._packet, 0, ARTNET_ID, OP_DMX)
        self._unsynced = False

    @classmethod
    def from_url(cls, parsed: ParsedUrl, context: OutputContext | None = None) -> "ArtNetOutput":
        check_params(parsed, PARAMS)
        q = parsed.query
        if "net" in q or "subnet" in q:
            base = port_address(parsed.int_param("net", 0, 0, 127), parsed.int_param("subnet", 0, 0, 15),
                                parsed.int_param("universe", 0, 0, 15))
        else:
            base = parsed.int_param("universe", 0, 0, MAX_PORT_ADDRESS)
        port = DEFAULT_PORT if parsed.port is None else parsed.port
        return cls(parsed.host, port, base, sync=parsed.flag("sync"), broadcast=parsed.flag("broadcast"), url=parsed.url)

    def _broadcast_message(self, address: str) -> str:
        return (f"{self.url}: {address} is a broadcast address; Art-Net here is sent to one node. "
                "Use the node's own address, or add ?broadcast=1 if you really want to broadcast")

    def port_address_of(self, universe: int) -> int:
        """The Art-Net port-address show universe ``universe`` goes to."""
        if universe < 1:
            raise OutputError(f"{self.url}: show universes start at 1, got {universe}")
        address = self.base_address + universe - 1
        if address > MAX_PORT_ADDRESS:
            raise OutputError(f"{self.url}: show universe {universe} would be Art-Net port-address {address}, "
                              f"above the highest ({MAX_PORT_ADDRESS} = 127:15:15)")
        return address

    def open(self) -> None:
        if self._sock is not None:
            return
        ip = resolve_ipv4(self.url, self.host)
        if not self.broadcast and is_broadcast(ip):
            raise OutputError(self._broadcast_message(ip))
        self._sock = udp_socket(self.url, broadcast=self.broadcast)
        self.address = (ip, self.port)
        self._unsynced = False

    def send(self, universe: int, frame) -> None:
        address = self.port_address_of(universe)
        data = as_frame(frame)
        sequence = self._sequence.get(address, 0) % 255 + 1  # 1..255, wrapping to 1
        packet = self._packet
        _DMX_FIELDS.pack_into(packet, 10, PROTOCOL_VERSION, sequence, 0, address & 0xFF, address >> 8,
                              UNIVERSE_SIZE)
        packet[HEADER_SIZE:] = data
        send_to(self.url, self._sock, packet, self.address)
        self._sequence[address] = sequence
        self._unsynced = True

    def end_tick(self) -> None:
        if self.sync and self._unsynced:
            send_to(self.url, self._sock, _SYNC, self.address)
        self._unsynced = False

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def __repr__(self) -> str:
        return f"ArtNetOutput({self.url!r}, first={format_port_address(self.base_address)})"


register_scheme("artnet", ArtNetOutput.from_url)
