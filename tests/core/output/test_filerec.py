"""The DMX file recorder: file layout, round trip, URLs, damaged and cut-off files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from core.output.base import OutputError, OutputUnavailable, parse_url
from core.output.filerec import FileRecorder, load_recording, read_recording


def frame(seed: int) -> bytes:
    return bytes((seed * 31 + i * 7) % 256 for i in range(512))




class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def record_some(path, clock=None) -> list[tuple[float, int, bytes]]:
    clock = clock or FakeClock()
    rec = FileRecorder(path, clock=clock)
    rec.open()
    expected = []
    for i in range(5):
        clock.now = 100.0 + i * 0.025
        for u in (1, 3):
            rec.send(u, frame(i * u))
            expected.append((i * 0.025, u, frame(i * u)))
        rec.end_tick()
    rec.send_at(2, np.arange(512) % 256, 12.5)
    expected.append((12.5, 2, bytes(range(256)) * 2))
    rec.close()
    rec.close()
    return expected


def test_recording_file_layout(tmp_path):
    path = tmp_path / "show.dmxrec"
    expected = record_some(path)
    raw = path.read_bytes()
    assert raw[:8] == b"LUMADMX1"
    assert len(raw) == 8 + len(expected) * 524
    for k, (t, u, data) in enumerate(expected):
        at = 8 + k * 524
        stamp, universe, length = struct.unpack("<dHH", raw[at:at + 12])
        assert (universe, length, raw[at + 12:at + 524]) == (u, 512, data)
        assert stamp == pytest.approx(t, abs=1e-9)


def test_recording_round_trip(tmp_path):
    path = tmp_path / "show.dmxrec"
    expected = record_some(path)
    records = read_recording(path)
    assert [(r.universe, r.data) for r in records] == [(u, d) for _, u, d in expected]
    assert [r.time for r in records] == pytest.approx([t for t, _, _ in expected])
    times, universes, data = load_recording(path)
    assert times.dtype == np.float64 and universes.dtype == np.uint16 and data.dtype == np.uint8
    assert data.shape == (len(expected), 512) and data.flags.c_contiguous
    assert universes.tolist() == [u for _, u, _ in expected]
    assert data[-1].tobytes() == expected[-1][2]
    assert times[-1] == 12.5


def test_recording_through_a_url(tmp_path):
    path = tmp_path / "a b.dmxrec"
    rec = FileRecorder.from_url(parse_url(f"file://{tmp_path}/a%20b.dmxrec"))
    assert rec.path == path
    rec.open()
    rec.send(1, frame(3))
    rec.end_tick()
    assert len(read_recording(path)) == 1  # end_tick flushed it to disk
    rec.close()
    assert FileRecorder.from_url(parse_url(f"file://localhost{tmp_path}/x.dmxrec")).path == tmp_path / "x.dmxrec"
    assert str(FileRecorder.from_url(parse_url("file:rel/x.dmxrec")).path) == "rel/x.dmxrec"


def test_recording_with_monotonic_stamps(tmp_path):
    ticks = iter([500.25, 501.0])
    rec = FileRecorder.from_url(parse_url(f"file://{tmp_path}/m.dmxrec?stamp=monotonic"))
    rec.clock = lambda: next(ticks)
    rec.open()  # nothing is subtracted: the stamps are the clock's own readings
    rec.send(1, frame(1))
    rec.send(2, frame(2))
    rec.close()
    times, universes, _ = load_recording(tmp_path / "m.dmxrec")
    assert times.tolist() == [500.25, 501.0] and universes.tolist() == [1, 2]


@pytest.mark.parametrize("url", ["file://somehost/x.dmxrec", "file://", "file:///tmp/x.dmxrec?fps=3",
                                 "file:///tmp/x.dmxrec?stamp=wallclock"])
def test_recording_bad_urls(url):
    with pytest.raises(OutputError):
        FileRecorder.from_url(parse_url(url))


def test_recording_missing_folder_is_unavailable(tmp_path):
    rec = FileRecorder(tmp_path / "nope" / "x.dmxrec")
    with pytest.raises(OutputUnavailable, match="does not exist"):
        rec.open()
    with pytest.raises(OutputError, match="not open"):
        rec.send(1, frame(0))


def test_truncated_recording(tmp_path):
    path = tmp_path / "cut.dmxrec"
    expected = record_some(path)
    raw = path.read_bytes()
    path.write_bytes(raw[:-100])  # the last record is cut short
    with pytest.raises(OutputError, match=f"incomplete record \\(424 of 524 bytes\\) after {len(expected) - 1}"):
        load_recording(path)
    with pytest.raises(OutputError, match="incomplete"):
        read_recording(path)
    records = read_recording(path, allow_truncated=True)
    assert [(r.universe, r.data) for r in records] == [(u, d) for _, u, d in expected[:-1]]


def test_damaged_recordings(tmp_path):
    path = tmp_path / "bad.dmxrec"
    path.write_bytes(b"")
    with pytest.raises(OutputError, match="not a Luma DMX recording"):
        load_recording(path)
    path.write_bytes(b"RIFF0000" + bytes(524))
    with pytest.raises(OutputError, match="not a Luma DMX recording"):
        load_recording(path)
    path.write_bytes(b"LUMADMX1")
    times, universes, data = load_recording(path)
    assert times.shape == (0,) and data.shape == (0, 512)
    path.write_bytes(b"LUMADMX1" + struct.pack("<dHH", 0.0, 1, 100) + bytes(512))
    with pytest.raises(OutputError, match="100 slots"):
        load_recording(path)
    with pytest.raises(OutputError, match="no such recording"):
        load_recording(tmp_path / "missing.dmxrec")
