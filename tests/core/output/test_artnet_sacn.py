"""Art-Net and sACN, checked against a parser written here from the specs.

Every packet goes to a UDP socket this test binds on 127.0.0.1; nothing is
ever sent anywhere else.
"""

from __future__ import annotations

import socket
import struct

import numpy as np
import pytest

from core.output.artnet import ArtNetOutput
from core.output.base import OutputContext, OutputDisconnected, OutputError, OutputUnavailable, parse_url
from core.output.filerec import FileRecorder
from core.output.sacn import SacnOutput, multicast_group

CID = bytes.fromhex("0123456789abcdeffedcba9876543210")

# ------------------------------------------------------------------ independent parsers


def parse_artnet(packet: bytes) -> dict:
    assert packet[0:8] == b"Art-Net\x00"
    (opcode,) = struct.unpack("<H", packet[8:10])
    (protver,) = struct.unpack(">H", packet[10:12])
    out = {"opcode": opcode, "protver": protver}
    if opcode == 0x5000:
        seq, physical, subuni, net = packet[12], packet[13], packet[14], packet[15]
        (length,) = struct.unpack(">H", packet[16:18])
        assert len(packet) == 18 + length
        out.update(sequence=seq, physical=physical, subuni=subuni, net=net, length=length,
                   port_address=(net << 8) | subuni, data=packet[18:])
    elif opcode == 0x5200:
        assert len(packet) == 14
        out.update(aux1=packet[12], aux2=packet[13])
    return out


def parse_sacn(packet: bytes) -> dict:
    assert len(packet) == 638
    preamble, postamble = struct.unpack(">HH", packet[0:4])
    assert (preamble, postamble) == (0x0010, 0x0000)
    assert packet[4:16] == b"ASC-E1.17\x00\x00\x00"
    root_fl, root_vector = struct.unpack(">HI", packet[16:22])
    assert root_fl >> 12 == 0x7 and root_fl & 0x0FFF == 638 - 16
    assert root_vector == 0x00000004
    cid = packet[22:38]
    frame_fl, frame_vector = struct.unpack(">HI", packet[38:44])
    assert frame_fl >> 12 == 0x7 and frame_fl & 0x0FFF == 638 - 38
    assert frame_vector == 0x00000002
    name_raw = packet[44:108]
    assert b"\x00" in name_raw, "the source name must be null-terminated"
    name = name_raw.split(b"\x00", 1)[0].decode("utf-8")
    assert name_raw[len(name.encode()):] == bytes(64 - len(name.encode())), "null padding"
    priority = packet[108]
    (sync_address,) = struct.unpack(">H", packet[109:111])
    sequence, options = packet[111], packet[112]
    (universe,) = struct.unpack(">H", packet[113:115])
    dmp_fl = struct.unpack(">H", packet[115:117])[0]
    assert dmp_fl >> 12 == 0x7 and dmp_fl & 0x0FFF == 638 - 115
    assert packet[117] == 0x02 and packet[118] == 0xA1
    first, increment, count = struct.unpack(">HHH", packet[119:125])
    assert (first, increment, count) == (0, 1, 513)
    assert packet[125] == 0  # start code
    return {"cid": cid, "name": name, "priority": priority, "sync_address": sync_address, "sequence": sequence,
            "options": options, "universe": universe, "data": packet[126:]}


# ------------------------------------------------------------------ helpers


@pytest.fixture
def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.settimeout(2.0)
    yield sock, sock.getsockname()[1]
    sock.close()


def receive(sock, n: int) -> list[bytes]:
    return [sock.recv(4096) for _ in range(n)]


def nothing_more(sock) -> bool:
    sock.settimeout(0.1)
    try:
        sock.recv(4096)
    except TimeoutError:
        return True
    return False


def artnet(url: str) -> ArtNetOutput:
    return ArtNetOutput.from_url(parse_url(url), OutputContext())


def sacn(url: str, context: OutputContext | None = None) -> SacnOutput:
    return SacnOutput.from_url(parse_url(url), context or OutputContext(cid=CID, source_name="Test Show"))


def frame(seed: int) -> bytes:
    return bytes((seed * 31 + i * 7) % 256 for i in range(512))


# ------------------------------------------------------------------ Art-Net


def test_artdmx_packet_fields(receiver):
    sock, port = receiver
    out = artnet(f"artnet://127.0.0.1:{port}")
    out.open()
    out.send(1, frame(1))
    out.send(2, np.arange(10, dtype=np.uint8))  # short numpy frame: padded to 512
    out.end_tick()
    out.close()
    a, b = (parse_artnet(p) for p in receive(sock, 2))
    assert a == {"opcode": 0x5000, "protver": 14, "sequence": 1, "physical": 0, "subuni": 0, "net": 0,
                 "length": 512, "port_address": 0, "data": frame(1)}
    assert b["port_address"] == 1 and b["sequence"] == 1
    assert b["data"] == bytes(range(10)) + bytes(502)
    assert nothing_more(sock)  # no ArtSync without sync=1, no ArtPoll ever


@pytest.mark.parametrize("query, show_universe, expected", [
    ("", 1, (0, 0, 0)),
    ("", 2, (0, 0, 1)),
    ("", 17, (0, 1, 0)),
    ("?universe=1", 1, (0, 0, 1)),
    ("?universe=17", 2, (0, 1, 2)),
    ("?net=1&subnet=2&universe=3", 1, (1, 2, 3)),
    ("?net=1&subnet=2&universe=3", 14, (1, 3, 0)),
    ("?subnet=15", 1, (0, 15, 0)),
    ("?net=127&subnet=15&universe=15", 1, (127, 15, 15)),
])
def test_artnet_universe_mapping(receiver, query, show_universe, expected):
    sock, port = receiver
    out = artnet(f"artnet://127.0.0.1:{port}{query}")
    out.open()
    out.send(show_universe, frame(show_universe))
    out.close()
    p = parse_artnet(receive(sock, 1)[0])
    net, subnet, uni = expected
    assert (p["net"], p["subuni"] >> 4, p["subuni"] & 0xF) == (net, subnet, uni)
    assert p["data"] == frame(show_universe)


def test_artnet_universe_past_the_last_port_address_is_refused():
    out = artnet("artnet://127.0.0.1?net=127&subnet=15&universe=15")
    with pytest.raises(OutputError, match="32767"):
        out.port_address_of(2)
    with pytest.raises(OutputError, match="start at 1"):
        out.port_address_of(0)


def test_artnet_sequence_counts_per_port_address_and_wraps_past_255(receiver):
    sock, port = receiver
    out = artnet(f"artnet://127.0.0.1:{port}")
    out.open()
    expected = {1: [], 2: []}
    for i in range(300):
        for u in (1, 2) if i % 3 == 0 else (1,):
            out.send(u, frame(i))
            expected[u].append(len(expected[u]) % 255 + 1)
    out.close()
    got = {0: [], 1: []}
    for p in map(parse_artnet, receive(sock, len(expected[1]) + len(expected[2]))):
        got[p["port_address"]].append(p["sequence"])
    assert got[0] == expected[1] and got[1] == expected[2]
    assert got[0][254:257] == [255, 1, 2]  # wraps to 1, never 0
    assert 0 not in got[0]


def test_artsync_after_each_tick_with_sync(receiver):
    sock, port = receiver
    out = artnet(f"artnet://127.0.0.1:{port}?sync=1")
    out.open()
    out.end_tick()  # nothing sent in this tick: no sync
    for tick in range(2):
        out.send(1, frame(tick))
        out.send(2, frame(tick + 10))
        out.end_tick()
    out.close()
    kinds = [parse_artnet(p) for p in receive(sock, 6)]
    assert [k["opcode"] for k in kinds] == [0x5000, 0x5000, 0x5200] * 2
    assert kinds[2] == {"opcode": 0x5200, "protver": 14, "aux1": 0, "aux2": 0}
    assert nothing_more(sock)


@pytest.mark.parametrize("host", ["255.255.255.255", "192.168.1.255", "2.255.255.255"])
def test_artnet_refuses_broadcast_without_the_flag(host, no_sending):
    with pytest.raises(OutputError, match="broadcast=1"):
        artnet(f"artnet://{host}")


@pytest.fixture
def no_sending(monkeypatch):
    """These tests open sockets for broadcast/multicast addresses: any attempt to send fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to send a packet to a broadcast or multicast address")

    monkeypatch.setattr(socket.socket, "sendto", refuse)
    monkeypatch.setattr(socket.socket, "send", refuse)


def test_artnet_broadcast_flag_sets_so_broadcast(no_sending):
    out = artnet("artnet://255.255.255.255?broadcast=1")
    out.open()  # opened only: this test sends nothing (no_sending enforces it)
    try:
        assert out._sock.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
    finally:
        out.close()


@pytest.mark.parametrize("url", [
    "artnet://",
    "artnet://127.0.0.1?universe=x",
    "artnet://127.0.0.1?universe=32768",
    "artnet://127.0.0.1?net=128",
    "artnet://127.0.0.1?subnet=16",
    "artnet://127.0.0.1?net=1&universe=16",
    "artnet://127.0.0.1?sync=maybe",
    "artnet://127.0.0.1?univrse=2",
    "artnet://127.0.0.1?poll=1",
    "artnet://127.0.0.1:0",
    "artnet://127.0.0.1:99999",
])
def test_artnet_bad_urls(url):
    with pytest.raises(OutputError):
        artnet(url)


def test_unresolvable_host_is_unavailable():
    for out in (artnet("artnet://no-such-node.invalid"), sacn("sacn://no-such-node.invalid")):
        with pytest.raises(OutputUnavailable, match="cannot resolve"):
            out.open()


def test_send_before_open_and_failing_socket(receiver):
    _, port = receiver
    out = artnet(f"artnet://127.0.0.1:{port}")
    with pytest.raises(OutputError, match="not open"):
        out.send(1, frame(0))
    out.open()
    out._sock.close()  # the socket dies under the output
    with pytest.raises(OutputDisconnected):
        out.send(1, frame(0))
    out.close()
    out.close()  # safe twice


def test_open_output_knows_the_schemes(tmp_path):
    pytest.importorskip("core.output.ftdi", reason="core/output/ftdi.py is not there yet")
    from core.output.base import open_output, schemes

    assert {"artnet", "sacn", "file"} <= set(schemes())
    assert isinstance(open_output("artnet://127.0.0.1"), ArtNetOutput)
    assert isinstance(open_output("sacn://127.0.0.1"), SacnOutput)
    assert isinstance(open_output(f"file://{tmp_path}/x.dmxrec"), FileRecorder)


# ------------------------------------------------------------------ sACN


def test_sacn_packet_fields(receiver):
    sock, port = receiver
    out = sacn(f"sacn://127.0.0.1:{port}?priority=150")
    out.open()
    out.send(1, frame(1))
    out.send(7, np.full(512, 255, dtype=np.uint8))
    out.end_tick()
    a, b = (parse_sacn(p) for p in receive(sock, 2))
    assert a == {"cid": CID, "name": "Test Show", "priority": 150, "sync_address": 0, "sequence": 0,
                 "options": 0, "universe": 1, "data": frame(1)}
    assert (b["universe"], b["sequence"], b["data"]) == (7, 0, b"\xff" * 512)
    out.close()


def test_sacn_universe_mapping_and_name(receiver):
    sock, port = receiver
    out = sacn(f"sacn://127.0.0.1:{port}?universe=3&name=Front+of+house")
    out.open()
    for u in (1, 2, 10):
        out.send(u, frame(u))
    packets = [parse_sacn(p) for p in receive(sock, 3)]
    assert [p["universe"] for p in packets] == [3, 4, 12]
    assert {p["name"] for p in packets} == {"Front of house"}
    assert {p["priority"] for p in packets} == {100}
    with pytest.raises(OutputError, match="63999"):
        out.send(63998, frame(0))
    out.close()


def test_sacn_sequence_per_universe_wraps(receiver):
    sock, port = receiver
    out = sacn(f"sacn://127.0.0.1:{port}")
    out.open()
    sent = {1: 0, 2: 0}
    for i in range(600):
        u = 2 if i % 4 == 0 else 1
        out.send(u, frame(i))
        sent[u] += 1
    got = {1: [], 2: []}
    for p in map(parse_sacn, receive(sock, 600)):
        got[p["universe"]].append(p["sequence"])
    assert got[1] == [i % 256 for i in range(sent[1])]
    assert got[2] == [i % 256 for i in range(sent[2])]
    out.close()


def test_sacn_close_terminates_each_stream(receiver):
    sock, port = receiver
    out = sacn(f"sacn://127.0.0.1:{port}")
    out.open()
    out.send(1, frame(1))
    out.send(2, frame(2))
    receive(sock, 2)
    out.close()
    ends = [parse_sacn(p) for p in receive(sock, 6)]
    assert [(p["universe"], p["options"], p["sequence"]) for p in ends] == \
        [(1, 0x40, 1), (1, 0x40, 2), (1, 0x40, 3), (2, 0x40, 1), (2, 0x40, 2), (2, 0x40, 3)]
    assert nothing_more(sock)
    out.close()


def test_sacn_long_source_name_is_cut_on_a_character(receiver):
    sock, port = receiver
    out = sacn(f"sacn://127.0.0.1:{port}", OutputContext(cid=CID, source_name="é" * 40))
    out.open()
    out.send(1, frame(0))
    p = parse_sacn(receive(sock, 1)[0])
    assert p["name"] == "é" * 31  # 62 bytes: a 32nd "é" would not fit in 63
    out.close()


@pytest.mark.parametrize("url", [
    "sacn://",
    "sacn://127.0.0.1?priority=201",
    "sacn://127.0.0.1?priority=-1",
    "sacn://127.0.0.1?universe=0",
    "sacn://127.0.0.1?universe=64000",
    "sacn://127.0.0.1?multicast=2",
    "sacn://127.0.0.1?prio=1",
    "sacn://10.0.0.255",
])
def test_sacn_bad_urls(url):
    with pytest.raises(OutputError):
        sacn(url)


def test_sacn_cid_must_be_16_bytes():
    with pytest.raises(OutputError, match="16 bytes"):
        sacn("sacn://127.0.0.1", OutputContext(cid=b"short"))


def test_sacn_multicast_groups_without_sending(no_sending):
    assert multicast_group(1) == "239.255.0.1"
    assert multicast_group(300) == "239.255.1.44"
    assert multicast_group(63999) == "239.255.249.255"
    out = sacn("sacn://?multicast=1&universe=300")
    assert out.destination(out.sacn_universe(1)) == ("239.255.1.44", 5568)
    out.open()  # opened only: this test sends nothing (no_sending enforces it)
    try:
        assert out._sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 1
    finally:
        out._sock.close()
        out._sock = None
