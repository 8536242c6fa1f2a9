"""FrameReader: every sought frame is exactly the frame asked for."""

from __future__ import annotations

import random
import re
import threading
from fractions import Fraction

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import MediaError
from core.media import FrameReader
from core.time import frames_to_seconds
from resources.footage import read_barcode, write_test_clip

SEEK_FRAMES = 100  # the seek_clip fixture (conftest.py) has this many frames
SEEK_RATE = Fraction(24000, 1001)  # at this rate


def barcodes(reader, indices):
    return [read_barcode(reader.frame(i)) for i in indices]


def test_open_exposes_info(seek_clip):
    with FrameReader(seek_clip) as r:
        assert r.frame_count == SEEK_FRAMES == len(r)
        assert r.rate == SEEK_RATE
        assert r.size == (320, 240)
        assert r.info.video.codec == "h264"
        rgb = r.frame(0)
        assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8


def test_every_frame_in_shuffled_order(seek_clip):
    order = list(range(SEEK_FRAMES))
    random.Random(7).shuffle(order)
    with FrameReader(seek_clip, cache_size=4) as r:
        assert barcodes(r, order) == order
        assert r.seeks > 20  # it really sought, the cache did not answer


def test_backward_and_keyframe_edges(seek_clip):
    backward = list(range(SEEK_FRAMES - 1, -1, -1))
    edges = [11, 12, 13, 23, 24, 25, 0, 99, 1, 98, 47, 12, 11, 36, 35]
    with FrameReader(seek_clip, cache_size=2) as r:
        assert barcodes(r, backward) == backward
        assert barcodes(r, edges) == edges


@pytest.mark.parametrize("thread_type", ["AUTO", "NONE"])
def test_sequential_equals_random_equals_pyav(seek_clip, thread_type):
    with av.open(str(seek_clip)) as c:
        raw = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(raw) == SEEK_FRAMES
    with FrameReader(seek_clip, thread_type=thread_type) as r:
        sequential = [r.frame(i).copy() for i in range(SEEK_FRAMES)]
        assert r.seeks == 0 and r.decoded == SEEK_FRAMES  # playback never seeks
    order = list(range(SEEK_FRAMES))
    random.Random(3).shuffle(order)
    with FrameReader(seek_clip, cache_size=3, thread_type=thread_type) as r:
        shuffled = {i: r.frame(i).copy() for i in order}
    for i in range(SEEK_FRAMES):
        assert np.array_equal(sequential[i], raw[i]), i
        assert np.array_equal(shuffled[i], raw[i]), i


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=-3, max_value=SEEK_FRAMES + 3), min_size=1, max_size=12),
       st.sampled_from([1, 3, 16]))
def test_random_index_sequences(seek_clip, indices, cache_size):
    with FrameReader(seek_clip, cache_size=cache_size) as r:
        got = barcodes(r, indices)
    assert got == [min(max(i, 0), SEEK_FRAMES - 1) for i in indices]


def test_cache_and_decode_on_instead_of_seeking(seek_clip):
    with FrameReader(seek_clip, cache_size=8) as r:
        r.frame(40)
        seeks, decoded = r.seeks, r.decoded
        r.frame(40)
        assert (r.seeks, r.decoded) == (seeks, decoded)  # cache hit
        for i in range(41, 46):  # just ahead: decode on, no seek
            assert read_barcode(r.frame(i)) == i
        assert r.seeks == seeks
        assert r.decoded == decoded + 5
        assert r.is_cached(45) and not r.is_cached(10)


def test_frames_are_read_only(clip_mp4):
    with FrameReader(clip_mp4) as r:
        rgb = r.frame(3)
        with pytest.raises(ValueError):
            rgb[0, 0, 0] = 1


def test_frame_at_uses_floor(seek_clip):
    with FrameReader(seek_clip) as r:
        for k in (0, 1, 23, 24, 50, 99):
            t = frames_to_seconds(k, SEEK_RATE)
            assert read_barcode(r.frame_at(t)) == k
            assert read_barcode(r.frame_at(t + Fraction(1, 1000))) == k
            if k:
                assert read_barcode(r.frame_at(t - Fraction(1, 1000))) == k - 1
        assert read_barcode(r.frame_at(1.0)) == 23  # 1 s = frame 23.976 -> 23


def test_clamping_and_strict(clip_mp4):
    with FrameReader(clip_mp4) as r:
        assert read_barcode(r.frame(-10)) == 0
        assert read_barcode(r.frame(10_000)) == 47
    with FrameReader(clip_mp4, strict=True) as r:
        assert read_barcode(r.frame(47)) == 47
        with pytest.raises(MediaError, match=r"^clip\.mp4: frame 48 is out of range"):
            r.frame(48)
        with pytest.raises(MediaError, match="out of range"):
            r.frame(-1)
    with pytest.raises(TypeError):
        FrameReader(clip_mp4).frame(1.5)


def test_output_size_scaling(seek_clip):
    with FrameReader(seek_clip, size=(160, 120), cache_size=4) as r:
        assert r.size == (160, 120)
        for i in (5, 77, 0):
            rgb = r.frame(i)
            assert rgb.shape == (120, 160, 3)
            assert read_barcode(rgb) == i
    with pytest.raises(ValueError):
        FrameReader(seek_clip, size=(0, 10))


def test_read_ahead_fills_the_cache(seek_clip):
    with FrameReader(seek_clip, cache_size=32) as r:
        r.read_ahead(60, 20)
        assert r.wait_read_ahead(timeout=20)
        assert all(r.is_cached(i) for i in range(60, 80))
        decoded, seeks = r.decoded, r.seeks
        assert barcodes(r, range(60, 80)) == list(range(60, 80))
        assert (r.decoded, r.seeks) == (decoded, seeks)  # served from the cache
        r.read_ahead(0, 1000)  # capped at the cache size
        assert r.wait_read_ahead(timeout=20)
        assert all(r.is_cached(i) for i in range(0, 32))


def test_threads_share_a_reader(seek_clip):
    errors = []
    with FrameReader(seek_clip, cache_size=6) as r:
        r.read_ahead(50, 30)

        def worker(seed):
            rng = random.Random(seed)
            for _ in range(25):
                i = rng.randrange(SEEK_FRAMES)
                if read_barcode(r.frame(i)) != i:
                    errors.append(i)

        threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_close(clip_mp4):
    r = FrameReader(clip_mp4)
    r.read_ahead(0, 10)
    r.close()
    r.close()
    assert r.closed
    with pytest.raises(MediaError, match="closed"):
        r.frame(0)


@pytest.mark.parametrize("fixture", ["clip_avi", "clip_mkv", "clip_mov"])
def test_other_containers_every_frame(request, fixture):
    path = request.getfixturevalue(fixture)
    with FrameReader(path, cache_size=2) as r:
        order = list(range(r.frame_count))
        random.Random(1).shuffle(order)
        assert barcodes(r, order) == order


@pytest.mark.parametrize("name, kwargs", [
    ("bframes.ts", {}),  # MPEG-TS: seeks by timestamp search, lands on the wrong GOP
    ("bframes.avi", {}),  # AVI has no presentation times: B-frames scramble FFmpeg's guesses
    ("mpeg4b.ts", {"codec": "mpeg4", "bframes": 2}),  # lands mid-GOP: garbage until a keyframe
])
def test_awkward_containers(tmp_path, name, kwargs):
    path = write_test_clip(tmp_path / name, frames=40, rate=SEEK_RATE, gop=12, audio=False, **kwargs)
    with FrameReader(path, cache_size=3) as r:
        assert r.frame_count == 40
        order = list(range(40))
        random.Random(5).shuffle(order)
        assert barcodes(r, order) == order


def test_still_image(still_png):
    with FrameReader(still_png) as r:
        assert r.frame_count == 1
        assert read_barcode(r.frame(0)) == 7
        assert read_barcode(r.frame(5)) == 7  # clamps


# ---------------------------------------------------------------- bad files


def test_bad_files_raise_media_error(tmp_path, audio_wav):
    with pytest.raises(MediaError, match=r"^gone\.mp4: file not found$"):
        FrameReader(tmp_path / "gone.mp4")
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match=r"^empty\.mov: not a media file or corrupt"):
        FrameReader(empty)
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(0).bytes(50_000))
    with pytest.raises(MediaError, match=r"^noise\.mp4: not a media file or corrupt"):
        FrameReader(noise)
    with pytest.raises(MediaError, match=r"^clicks\.wav: no video stream$"):
        FrameReader(audio_wav)


@pytest.mark.parametrize("name", ["cut.mp4", "cut.mkv", "cut.avi"])
def test_truncated_file_clamps_or_raises(tmp_path, name):
    """The header promises 48 frames; 40 % of the bytes hold fewer.

    Non-strict: frames past the cut clamp to the last decodable frame and
    frame_count drops to the real count. Strict: MediaError naming the file.
    """
    full = write_test_clip(tmp_path / f"full{name[3:]}", frames=48, faststart=True,
                           codec="mjpeg" if name.endswith(".avi") else "h264")
    data = full.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: int(len(data) * 0.4)])
    with FrameReader(cut) as r:
        assert r.frame_count == 48  # what the header says
        last = read_barcode(r.frame(47))
        assert 5 < last < 40
        assert r.frame_count == last + 1
        assert read_barcode(r.frame(0)) == 0
        assert read_barcode(r.frame(last)) == last
        for i in range(r.frame_count):
            assert read_barcode(r.frame(i)) <= i  # every frame before the cut, or the one shown before it
    with FrameReader(cut, strict=True) as r:
        with pytest.raises(MediaError, match=rf"^{re.escape(name)}: frame 47 cannot be decoded"):
            r.frame(47)
        assert r.frame_count < 48


def test_corrupt_data_mid_stream(tmp_path, clip_mp4):
    """Garbage in the middle: each frame decodes or raises MediaError naming the file and frame."""
    data = bytearray(clip_mp4.read_bytes())
    a = int(len(data) * 0.45)
    data[a : a + len(data) // 10] = np.random.default_rng(1).bytes(len(data) // 10)
    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(bytes(data))
    errors = []
    with FrameReader(bad, cache_size=2) as r:
        for i in [0, 47, 24, 30, *range(48)]:
            try:
                rgb = r.frame(i)
                assert rgb.shape == (240, 320, 3)
            except MediaError as exc:
                errors.append(str(exc))
        assert read_barcode(r.frame(0)) == 0 and read_barcode(r.frame(47)) == 47  # recovered after the damage
    assert errors, "the damage should be noticed"
    assert all(e.startswith("damaged.mp4: ") and "frame" in e for e in errors)


def test_cache_is_bounded_in_bytes(seek_clip):
    frame_bytes = 320 * 240 * 3
    with FrameReader(seek_clip, cache_size=64, cache_bytes=10 * frame_bytes) as r:
        assert r.cache_size == 10
        assert barcodes(r, range(30)) == list(range(30))
        assert sum(r.is_cached(i) for i in range(30)) == 10
    with FrameReader(seek_clip, cache_bytes=1) as r:
        assert r.cache_size == 1
        assert barcodes(r, [5, 4, 6]) == [5, 4, 6]
