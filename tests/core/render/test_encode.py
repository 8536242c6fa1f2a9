"""Tracked renders and concat, checked by decoding the outputs back with PyAV."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from core.errors import JobCancelled, LumaError, MediaError
from core.render.concat import concat
from core.render.overlay import OverlayStyle, TrackOverlay, marker_geometry
from core.render.profiles import PROFILES, get_profile
from core.render.tracked import render_tracked
from core.vision.types import TrackPoint, TrackResult
from resources.footage import read_barcode, write_test_clip

SRC_W, SRC_H, SRC_N = 1440, 810, 40
MAGENTA = (255, 0, 255)
LOST = (15, 16, 17)


# ----------------------------------------------------------------- helpers


def decode_video(path: Path) -> tuple[list[np.ndarray], dict]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        meta = {"size": (s.width, s.height), "rate": s.average_rate, "codec": s.codec_context.name,
                "duration": float(s.duration * s.time_base) if s.duration else None}
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
    return frames, meta


def decode_audio(path: Path) -> tuple[np.ndarray, int] | None:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        s = c.streams.audio[0]
        chunks = []
        for f in c.decode(s):
            x = f.to_ndarray()
            if not f.format.is_planar:  # packed: [1, n * channels] interleaved
                x = x.reshape(-1, f.layout.nb_channels).T
            if x.dtype == np.int16:
                x = x.astype(np.float32) / 32768
            chunks.append(x)
        return np.concatenate(chunks, axis=1), s.sample_rate


def packets(path: Path, kind: str) -> list[bytes]:
    with av.open(str(path)) as c:
        s = getattr(c.streams, kind)[0]
        return [bytes(p) for p in c.demux(s) if p.size]


def onsets(samples: np.ndarray, rate: int, threshold: float = 0.3) -> np.ndarray:
    """Times (s) where the click track's beeps start."""
    env = np.abs(samples).max(axis=0)
    above = env > threshold
    starts = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    keep = [s for i, s in enumerate(starts) if i == 0 or s - starts[i - 1] > 0.1 * rate]
    return np.array(keep) / rate


def ring_hits(frame: np.ndarray, cx: float, cy: float, r: float, color, tol: float = 70) -> float:
    """Fraction of points on the circle of radius ``r`` whose colour is within ``tol`` of ``color``."""
    a = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    xs = np.clip(np.round(cx + r * np.cos(a)).astype(int), 0, frame.shape[1] - 1)
    ys = np.clip(np.round(cy + r * np.sin(a)).astype(int), 0, frame.shape[0] - 1)
    d = np.abs(frame[ys, xs].astype(int) - np.array(color)).max(axis=1)
    return float((d <= tol).mean())


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """1440x810 25 fps H.264 + AAC click track, 40 frames (1.6 s)."""
    return write_test_clip(tmp_path_factory.mktemp("render") / "src.mp4", frames=SRC_N, size=(SRC_W, SRC_H),
                           rate=Fraction(25), gop=12)


@pytest.fixture(scope="module")
def track() -> TrackResult:
    frames = [TrackPoint(i, (400.0 + 6 * i, 300.0, 560.0 + 6 * i, 700.0), 0.9, i in LOST) for i in range(SRC_N)]
    return TrackResult("src.mp4", 25.0, (SRC_W, SRC_H), "synthetic", frames)


@pytest.fixture(scope="module")
def preview(source, track, tmp_path_factory):
    out = tmp_path_factory.mktemp("preview") / "preview.mp4"
    calls = []
    result = render_tracked(source, track, out, style="ring", profile="preview", color="#ff00ff",
                            progress=lambda f, m="": calls.append(f))
    return result, calls


# ------------------------------------------------------------------ render


def test_profiles():
    assert get_profile("preview").output_size(3840, 2160) == (1280, 720)
    assert get_profile("preview").output_size(1440, 1080) == (960, 720)
    assert get_profile("preview").output_size(640, 360) == (640, 360)  # never upscaled
    assert get_profile("final").output_size(1918, 1080) == (1918, 1080)
    assert get_profile("final").output_rate(Fraction(60000, 1001)) == Fraction(60000, 1001)
    assert get_profile("preview").output_rate(Fraction(60)) == 30
    assert set(PROFILES) >= {"preview", "final"}
    with pytest.raises(LumaError, match="preview, final"):
        get_profile("4k")


def test_preview_is_720p30_with_the_same_duration(preview):
    result, calls = preview
    frames, meta = decode_video(result.path)
    assert meta["size"] == (1280, 720) and meta["rate"] == 30 and meta["codec"] == "h264"
    expected = math.ceil(SRC_N * 30 / 25)  # 1.6 s at 30 fps
    assert len(frames) == result.frames == expected == 48
    # frame-rate conversion by time: output frame k shows source frame floor(k * 25 / 30)
    assert [read_barcode(f) for f in frames] == [k * 25 // 30 for k in range(expected)]
    assert calls[-1] == 1.0 and calls == sorted(calls)
    assert not list(result.path.parent.glob("*.part*"))


def test_preview_indicator_where_the_track_says(preview, track):
    result, _ = preview
    frames, _ = decode_video(result.path)
    style = OverlayStyle("ring", MAGENTA)
    ov = TrackOverlay(track, style, (1280, 720), video_rate=25)
    drawn = 0
    for k, frame in enumerate(frames):
        src = k * 25 // 30
        a = ov.anchor(src)
        if src in LOST:
            assert a is None
            # where the ring was on the neighbouring frames: no ring colour now
            cx, cy, r = marker_geometry(ov.anchor(14), style, (1280, 720))
            assert ring_hits(frame, cx, cy, r, MAGENTA) < 0.1
            continue
        cx, cy, r = marker_geometry(a, style, (1280, 720))
        assert ring_hits(frame, cx, cy, r, MAGENTA) > 0.75, k
        assert ring_hits(frame, cx, cy, r * 0.3, MAGENTA) < 0.1  # hollow ring
        assert ring_hits(frame, cx + 3 * r, cy, r * 0.5, MAGENTA) < 0.1  # not beside it
        drawn += 1
    assert drawn == result.drawn == len(frames) - 4  # source frames 15, 16, 17 fill 4 output frames


def test_preview_audio_passed_through_unchanged(preview, source):
    result, _ = preview
    assert result.audio == "copy"
    a_src, rate = decode_audio(source)
    a_out, rate_out = decode_audio(result.path)
    assert rate_out == rate
    assert abs(a_out.shape[1] - a_src.shape[1]) <= 1024  # same duration (+-1 audio frame)
    np.testing.assert_array_equal(a_out, a_src)  # packets copied: identical samples
    np.testing.assert_allclose(onsets(a_out, rate), [0.0, 0.5, 1.0, 1.5], atol=0.003)
    assert packets(result.path, "audio") == packets(source, "audio")


def test_final_keeps_size_rate_and_every_frame(source, track, tmp_path):
    out = tmp_path / "final.mp4"
    result = render_tracked(source, track, out, style="dot", profile="final", color=(255, 0, 255))
    frames, meta = decode_video(out)
    assert meta["size"] == (SRC_W, SRC_H) and meta["rate"] == 25
    assert len(frames) == result.frames == SRC_N
    assert [read_barcode(f) for f in frames] == list(range(SRC_N))
    ov = TrackOverlay(track, OverlayStyle("dot", MAGENTA), (SRC_W, SRC_H), video_rate=25)
    for i in (0, 10, 30, 39):
        cx, cy, r = marker_geometry(ov.anchor(i), ov.style, (SRC_W, SRC_H))
        assert ring_hits(frames[i], cx, cy, r * 0.5, MAGENTA, tol=40) > 0.9
    a_src, _ = decode_audio(source)
    np.testing.assert_array_equal(decode_audio(out)[0], a_src)


def test_spotlight_darkens_outside_the_subject(source, track, tmp_path):
    out = tmp_path / "spot.mp4"
    render_tracked(source, track, out, style="spotlight", profile="preview")
    plain = tmp_path / "plain.mp4"
    empty = TrackResult("src.mp4", 25.0, (SRC_W, SRC_H), "x", [TrackPoint(i, None, 0.0, True) for i in range(SRC_N)])
    render_tracked(source, empty, plain, style="spotlight", profile="preview")
    lit, _ = decode_video(out)
    ref, _ = decode_video(plain)
    k = 6  # source frame 5: box x 430..590, y 300..700 in source -> scaled by 720/810
    s = 720 / 810
    inside = (slice(int(400 * s), int(600 * s)), slice(int(450 * s), int(570 * s)))
    far = (slice(600, 700), slice(1000, 1200))
    assert abs(lit[k][inside].mean() - ref[k][inside].mean()) < 3
    assert lit[k][far].mean() < 0.45 * ref[k][far].mean()


def test_audio_reencoded_when_the_container_cannot_hold_it(tmp_path, track):
    src = write_test_clip(tmp_path / "pcm.avi", frames=SRC_N, size=(320, 180), rate=Fraction(25), codec="mpeg4")
    with av.open(str(src)) as c:
        assert c.streams.audio[0].codec_context.name.startswith("pcm")
    small = TrackResult("pcm.avi", 25.0, (1440, 810), "x", track.frames)
    out = tmp_path / "out.mp4"  # MP4 takes no PCM
    result = render_tracked(src, small, out, style="label", name="Ann", profile="preview")
    assert result.audio == "encode"
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
    a_src, rate = decode_audio(src)
    a_out, rate_out = decode_audio(out)
    assert rate_out == rate and abs(a_out.shape[1] - a_src.shape[1]) <= 1024
    np.testing.assert_allclose(onsets(a_out, rate), onsets(a_src, rate), atol=0.005)


def test_source_without_audio(tmp_path, track):
    src = write_test_clip(tmp_path / "mute.mp4", frames=10, size=(320, 180), audio=False)
    small = TrackResult("mute.mp4", 25.0, (1440, 810), "x", track.frames)
    result = render_tracked(src, small, tmp_path / "out.mkv", style="glow", profile="final")
    assert result.audio is None and decode_audio(result.path) is None
    assert len(decode_video(result.path)[0]) == 10


def test_cancel_leaves_no_file(source, track, tmp_path):
    out = tmp_path / "cancelled.mp4"
    seen = []
    with pytest.raises(JobCancelled):
        render_tracked(source, track, out, profile="final", progress=lambda f, m="": seen.append(f),
                       cancelled=lambda: len(seen) >= 5)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_errors_the_user_can_act_on(source, track, tmp_path):
    with pytest.raises(MediaError, match="missing.mp4: file not found"):
        render_tracked(tmp_path / "missing.mp4", track, tmp_path / "o.mp4")
    other = TrackResult("x.mp4", 25.0, (640, 640), "x", track.frames)
    with pytest.raises(LumaError, match="640x640 picture"):
        render_tracked(source, other, tmp_path / "o.mp4")
    with pytest.raises(LumaError, match="choose one of"):
        render_tracked(source, track, tmp_path / "o.mp4", style="sparkle")
    with pytest.raises(MediaError, match="does not exist"):
        render_tracked(source, track, tmp_path / "nowhere" / "o.mp4")
    with pytest.raises(LumaError, match="no frames"):
        render_tracked(source, TrackResult("x", 25.0, (SRC_W, SRC_H), "x", []), tmp_path / "o.mp4")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ concat


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("concat")
    return {
        "a": write_test_clip(d / "a.mp4", frames=50, size=(320, 240), rate=Fraction(25), gop=12),
        "b": write_test_clip(d / "b.mp4", frames=30, size=(320, 240), rate=Fraction(25), gop=6),
        "big": write_test_clip(d / "big.mp4", frames=20, size=(640, 480), rate=Fraction(25), gop=6),
        "mute": write_test_clip(d / "mute.mp4", frames=20, size=(320, 240), rate=Fraction(25), gop=6, audio=False),
        "wide": write_test_clip(d / "wide.mp4", frames=15, size=(640, 240), rate=Fraction(30), gop=6),
    }


def test_concat_identical_streams_remuxes(clips, tmp_path):
    out = tmp_path / "reel.mp4"
    result = concat([clips["a"], clips["b"], clips["a"]], out)
    assert result.mode == "remux" and result.reason == "" and result.frames == 130
    # no re-encode: the video packets are the inputs' packets, byte for byte, in order
    assert packets(out, "video") == packets(clips["a"], "video") + packets(clips["b"], "video") + \
        packets(clips["a"], "video")
    a_pk, b_pk = packets(clips["a"], "audio"), packets(clips["b"], "audio")
    # audio packets copied too: the later clips' encoder-priming packet is dropped, and b's last
    # packet (its final 256 samples would start more than half an AAC frame past b's video end)
    assert packets(out, "audio") == a_pk + b_pk[1:-1] + a_pk[1:]
    frames, meta = decode_video(out)
    assert [read_barcode(f) for f in frames] == list(range(50)) + list(range(30)) + list(range(50))
    assert meta["rate"] == 25 and meta["size"] == (320, 240)
    # audio continuous: gap-free timestamps, clicks at each clip's beats (+- one audio frame)
    with av.open(str(out)) as c:
        pts = [(f.pts, f.samples) for f in c.decode(audio=0)]
    assert all(p1 == p0 + n0 for (p0, n0), (p1, _) in zip(pts, pts[1:]))
    samples, rate = decode_audio(out)
    assert abs(samples.shape[1] / rate - 5.2) <= 1024 / rate
    expect = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.2, 3.7, 4.2, 4.7]
    np.testing.assert_allclose(onsets(samples, rate), expect, atol=1024 / rate)


def test_concat_different_sizes_reencodes_every_frame(clips, tmp_path):
    out = tmp_path / "mixed.mp4"
    result = concat([clips["a"], clips["big"], clips["b"]], out)
    assert result.mode == "reencode" and "size differs" in result.reason
    frames, meta = decode_video(out)
    assert meta["size"] == (320, 240) and meta["rate"] == 25  # the first clip's parameters
    assert [read_barcode(f) for f in frames] == list(range(50)) + list(range(20)) + list(range(30))
    samples, rate = decode_audio(out)
    assert abs(samples.shape[1] / rate - 4.0) <= 1024 / rate
    np.testing.assert_allclose(onsets(samples, rate), [0, 0.5, 1, 1.5, 2, 2.5, 2.8, 3.3, 3.8], atol=1024 / rate)


def test_concat_pads_silence_for_a_clip_without_audio(clips, tmp_path):
    out = tmp_path / "gap.mp4"
    result = concat([clips["a"], clips["mute"], clips["b"]], out)
    assert result.mode == "reencode" and "audio" in result.reason
    frames, _ = decode_video(out)
    assert [read_barcode(f) for f in frames] == list(range(50)) + list(range(20)) + list(range(30))
    samples, rate = decode_audio(out)
    assert abs(samples.shape[1] / rate - 4.0) <= 1024 / rate
    silent = samples[:, int(2.05 * rate):int(2.75 * rate)]
    assert np.abs(silent).max() < 0.01
    np.testing.assert_allclose(onsets(samples, rate), [0, 0.5, 1, 1.5, 2.8, 3.3, 3.8], atol=1024 / rate)


def test_concat_other_aspect_and_rate_letterboxed_and_retimed(clips, tmp_path):
    out = tmp_path / "wide.mp4"
    result = concat([clips["b"], clips["wide"]], out)
    assert result.mode == "reencode"
    frames, meta = decode_video(out)
    assert meta["size"] == (320, 240) and len(frames) == 30 + math.ceil(15 * 25 / 30)
    last = frames[-1]
    assert last[:50].max() < 20 and last[-50:].max() < 20  # black bars above and below the 2:1 picture
    assert last[60:180].mean() > 30


def test_concat_errors(clips, tmp_path):
    with pytest.raises(LumaError, match="at least one"):
        concat([], tmp_path / "x.mp4")
    with pytest.raises(LumaError, match="cannot also be an input"):
        concat([clips["a"], clips["b"]], clips["b"])
    with pytest.raises(MediaError, match="nope.mp4: file not found"):
        concat([clips["a"], tmp_path / "nope.mp4"], tmp_path / "x.mp4")
    seen = []
    with pytest.raises(JobCancelled):
        concat([clips["a"], clips["big"]], tmp_path / "x.mp4", progress=lambda f, m="": seen.append(f),
               cancelled=lambda: len(seen) > 3)
    assert not list(tmp_path.iterdir())
