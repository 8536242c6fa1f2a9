"""Sequence renders decoded back with PyAV: sizes, rates, codecs, pictures, sound, errors.

The timeline (160x120, 25 fps, 25 frames = 1 s): on V1 two clips with a
crossfade across their cut, on V2 a smaller half-transparent picture with a
saturation filter, a contrast filter on V1, a vignette on the sequence and
the first clip's sound on A1.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation
import pytest

from core.audio.mix import mixdown
from core.errors import JobCancelled, LumaError, MediaError
from core.project import Project, media_store
from core.render.compositor import Compositor
from core.render.profiles import get_profile
from core.render.sequence_render import (SequenceRenderJob, plan_render, render_segment, render_sequence,
                                         scale_frame, sequence_frame)
from core.timeline import edit
from core.timeline.edit import ClipChange
from core.timeline.model import SequenceProps, Timeline, Transition, create_sequence, props_text

SIZE = (160, 120)
EXACT = Interpolation.BILINEAR | Interpolation.FULL_CHR_H_INT | Interpolation.ACCURATE_RND
FRAMES = 25


def build_project(folder: Path, clip_a: Path, clip_b: Path, name: str = "render.luma") -> Path:
    """The test timeline (see the module doc); returns the project path."""
    folder.mkdir(parents=True, exist_ok=True)
    p = Project.create(folder / name)
    sid = create_sequence(p, rate=25, width=SIZE[0], height=SIZE[1], video_tracks=2, audio_tracks=1)
    tl = Timeline(p, sid)
    ma = media_store.ingest(p, clip_a, with_thumbnail=False).id
    mb = media_store.ingest(p, clip_b, with_thumbnail=False).id
    v1, v2 = (t.id for t in tl.video_tracks())
    a = edit.add_clip(tl, ma, v1, 0, duration=12).after[0]
    b = edit.add_clip(tl, mb, v1, 12, duration=13, source_in=6).after[0]
    (tid,) = edit.next_ids(tl, 1, Transition)
    edit.apply(tl, ClipChange("crossfade", (), (Transition(tid, v1, a.id, b.id, "crossfade", 6),)))
    c = edit.add_clip(tl, mb, v2, 4, duration=14).after[0]
    props = {"opacity": 0.6, "scale": 0.5, "x": 30,
             "filters": [{"type": "saturation", "enabled": True, "params": {"amount": 0.2}}]}
    edit.apply(tl, ClipChange("look", (c,), (c.with_(props=props_text(props)),)))
    t1 = tl.track(v1)
    edit.apply(tl, ClipChange("track look", (t1,), (t1.with_(props=props_text(
        {"filters": [{"type": "contrast", "enabled": True, "params": {"amount": 1.2}}]})),)))
    seq = SequenceProps(sid, tl.sequence.props)
    edit.apply(tl, ClipChange("sequence look", (seq,), (seq.with_(props=props_text(
        {"filters": [{"type": "vignette", "enabled": True, "params": {"amount": 0.3}}]})),)))
    edit.add_clip(tl, ma, tl.audio_tracks()[0].id, 0, duration=FRAMES)
    path = p.path
    p.close()
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory, small_clip, second_clip) -> Path:
    return build_project(tmp_path_factory.mktemp("seqrender"), small_clip, second_clip)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB of a decoded frame with full-precision chroma upsampling (swscale's default fast path
    for 4:2:x -> RGB is biased by a level or two, which would hide what the encoder did)."""
    return frame.to_ndarray(format="rgb24", interpolation=EXACT)


def decode(path: Path) -> tuple[list[np.ndarray], dict]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        cc = v.codec_context
        meta = {"size": (v.width, v.height), "rate": v.average_rate, "codec": cc.name, "pix_fmt": cc.format.name,
                "profile": cc.profile, "audio": [(a.codec_context.name, a.rate, a.channels) for a in c.streams.audio]}
        frames, pts = [], []
        for f in c.decode(v):
            frames.append(to_rgb(f))
            pts.append(f.pts * v.time_base)
        meta["pts"] = pts
    return frames, meta


def decode_sound(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        chunks = []
        for f in c.decode(a):
            arr = f.to_ndarray()
            chunks.append(arr if f.format.is_planar else arr.reshape(-1, a.channels).T)  # packed: interleaved
        rate = a.rate
    data = np.concatenate(chunks, axis=1)
    return data, rate


def reference(project: Path, frames, size) -> list[np.ndarray]:
    """What a render at ``size`` shows: the compositor's pictures at that size (see the module doc
    of core.render.sequence_render)."""
    with Compositor.open(project, 1, size=size) as comp:
        return [comp.frame(f).copy() for f in frames]


CHECK = [0, 5, 9, 12, 14, 20, 24]  # plain, under V2, in the crossfade, after it


@pytest.mark.parametrize("size", [(80, 60), (120, 90)])
def test_output_size_composite_looks_like_the_scaled_sequence(project, size):
    """A render composites at its output size (positions, blur and filter sizes scale with it):
    the picture is the sequence's full-size picture scaled down, up to resampling."""
    small = reference(project, CHECK, size)
    full = reference(project, CHECK, SIZE)
    for f, got, big in zip(CHECK, small, full):
        want = scale_frame(big, size)
        assert got.shape == (size[1], size[0], 3)
        assert psnr(got, want) >= 30.0, (f, size, psnr(got, want))
        assert np.abs(got.astype(int) - want).mean() < 3, (f, size)


@pytest.mark.parametrize("name, codec, pix_fmt, vprofile, audio, frames", [
    ("draft_480p", "h264", "yuv420p", None, "aac", FRAMES),
    ("preview_720p", "h264", "yuv420p", None, "aac", FRAMES),
    ("social_1080p", "h264", "yuv420p", "High", "aac", 15),  # x264 medium at 1440x1080: half the frames
    ("master_prores", "prores", "yuv422p10le", "HQ", "pcm_s24le", FRAMES),
])
def test_profile_renders_decode_as_specified(project, tmp_path, name, codec, pix_fmt, vprofile, audio, frames):
    prof = get_profile(name)
    out = tmp_path / f"out{prof.container}"
    result = render_sequence(project, out, name, start=0, end=frames, workers=1, use_cache=False)
    count = frames
    size = prof.sequence_size(*SIZE)
    assert size == {"draft_480p": (640, 480), "preview_720p": (960, 720), "social_1080p": (1440, 1080),
                    "master_prores": SIZE}[name]
    frames, meta = decode(out)
    assert (result.frames, result.size, result.rate) == (count, size, 25)
    assert meta["size"] == size and meta["rate"] == 25 and meta["codec"] == codec and meta["pix_fmt"] == pix_fmt
    if vprofile:
        assert meta["profile"] == vprofile
    assert len(frames) == count
    # gap-free: frame k at k / 25 s
    assert meta["pts"] == [Fraction(k, 25) for k in range(count)]
    assert meta["audio"] == [(audio, 48000, 2)]
    check = [f for f in CHECK if f < count]
    expected = reference(project, check, size)
    for f, want in zip(check, expected):
        assert psnr(frames[f], want) >= 35.0, (name, f, psnr(frames[f], want))
        if codec == "prores":  # near-lossless: against the picture through the same 4:2:2 sampling
            sampled = to_rgb(av.VideoFrame.from_ndarray(want, format="rgb24").reformat(format=pix_fmt))
            assert psnr(frames[f], sampled) >= 45.0, (f, psnr(frames[f], sampled))
    data = out.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # faststart: the index first
    sound, rate = decode_sound(out)
    length = count * 48000 // 25
    assert rate == 48000 and abs(sound.shape[1] - length) < 2048  # (AAC adds at most a frame)
    if audio == "pcm_s24le":  # lossless: the samples are the mix (24-bit steps)
        with Project.open(project) as p:
            mix = mixdown(Timeline(p), 0, count, 48000, 2)
        assert sound.shape[1] == mix.shape[0]
        got = sound.astype(np.float64) / 2**31 if sound.dtype == np.int32 else sound
        assert np.abs(got.T - mix).max() < 2e-6
        assert np.abs(mix).max() > 0.05  # the click track is in it


def test_audio_is_the_mix(project, tmp_path):
    out = tmp_path / "a.mp4"
    render_sequence(project, out, "draft_480p", workers=1, use_cache=False)
    sound, _ = decode_sound(out)
    with Project.open(project) as p:
        mix = mixdown(Timeline(p), 0, FRAMES, 48000, 2)
    # AAC: compare the envelope (clicks land at the same times), skipping the encoder delay
    env = lambda x: np.abs(x).reshape(-1, 480).max(axis=1)  # noqa: E731  (10 ms blocks)
    n = (mix.shape[0] // 480) * 480
    got = sound[0, :n] if sound.shape[1] >= n else np.pad(sound[0], (0, n - sound.shape[1]))
    corr = np.corrcoef(env(got), env(mix[:n, 0]))[0, 1]
    assert corr > 0.9


def test_loudness_normalisation(project, tmp_path):
    from core.audio.loudness import integrated_loudness, measure_file

    out = tmp_path / "loud.mov"
    result = render_sequence(project, out, "master_prores", workers=1, use_cache=False, loudness=-20.0)
    with Project.open(project) as p:
        before = integrated_loudness(mixdown(Timeline(p), 0, FRAMES, 48000, 2), 48000)
    lufs, peak, rate = measure_file(out)
    assert abs(before - (-20.0)) > 2  # the mix was elsewhere
    assert abs(lufs - (-20.0)) < 0.3 and peak <= -1.0 and rate == 48000
    assert abs(result.loudness["output_lufs"] - lufs) < 0.1


def test_range_and_retimed_profile(project, tmp_path):
    """The legacy 'preview' profile (30 fps, at most 720 high: never upscaled) over frames 5-19."""
    out = tmp_path / "r.mp4"
    result = render_sequence(project, out, "preview", start=5, end=20, workers=1, use_cache=False)
    frames, meta = decode(out)
    assert meta["rate"] == 30 and meta["size"] == SIZE
    # output frames ceil(5 * 30 / 25) = 6 up to ceil(20 * 30 / 25) = 24
    assert len(frames) == result.frames == 18
    shown = [sequence_frame(k, Fraction(25), Fraction(30)) for k in range(6, 24)]
    assert shown[0] == 5 and shown[-1] == 19 and len(set(shown)) == 15  # every frame, some twice
    refs = dict(zip(range(4, 21), reference(project, range(4, 21), SIZE)))
    for got, want in zip(frames, shown):
        scores = {f: psnr(got, ref) for f, ref in refs.items()}
        assert max(scores, key=scores.get) == want  # the frame the mapping names, not a neighbour
        assert scores[want] >= 28.0  # (CRF 26 at 160x120: a rough picture)


def test_segment_is_deterministic_and_keyframed(project, tmp_path):
    prof = dict(get_profile("draft_480p").to_dict(), gop=4)
    packets = []
    for n in range(2):
        out = tmp_path / f"seg{n}.mp4"
        stats = render_segment(str(project), 1, prof, 3, 13, str(out))
        assert stats["frames"] == 10
        with av.open(str(out)) as c:
            v = c.streams.video[0]
            pk = [p for p in c.demux(v) if p.size]
            packets.append([bytes(p) for p in pk])
            order = sorted(pk, key=lambda p: p.pts)
            assert [p.is_keyframe for p in order] == [i % 4 == 0 for i in range(10)]  # a new GOP each 4
            assert not c.streams.audio  # video only
    assert packets[0] == packets[1]


def test_segment_refuses_a_changed_project_or_other_versions(project, tmp_path):
    out = tmp_path / "s.mp4"
    with pytest.raises(LumaError, match="changed while it was being rendered"):
        render_segment(str(project), 1, "draft_480p", 0, 5, str(out), expect_key="0" * 64)
    with pytest.raises(LumaError, match="install the same Luma Studio"):
        render_segment(str(project), 1, "draft_480p", 0, 5, str(out), versions="luma 0.0.1")
    assert list(tmp_path.iterdir()) == []


def test_plan_segments_are_gop_aligned(project):
    with Project.open(project) as p:
        tl = Timeline(p)
        prof = dict(get_profile("draft_480p").to_dict(), gop=3)
        plan = plan_render(tl, prof, 1, 24, workers=2, compositor=Compositor(tl))
        assert plan.frames == 23 and plan.gop == 3
        segs = plan.segments
        assert len(segs) >= 2
        assert segs[0].start == 1 and segs[-1].end == 24
        assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
        assert all((s.start - 1) % 3 == 0 for s in segs)  # each starts a GOP
        assert all(s.frames % 3 == 0 for s in segs[:-1])
        assert len({s.key for s in segs}) == len(segs)
        text = plan.describe()
        assert "crossfade" in text and "saturation" in text and "vignette" in text and "contrast" in text
        assert "small.mp4" in text and "second.mp4" in text
        # one plan per range: a 1-worker plan of frames 0-24 has ten-second segments at most
        assert len(plan_render(tl, "draft_480p", workers=1, inputs=False).segments) == 1


def test_errors(project, tmp_path, small_clip):
    with pytest.raises(LumaError, match="empty"):
        render_sequence(project, tmp_path / "e.mp4", "draft_480p", start=10, end=10, workers=1)
    with pytest.raises(LumaError, match="choose one of.*draft_480p.*master_prores"):
        render_sequence(project, tmp_path / "e.mp4", "ultra_8k", workers=1)
    with pytest.raises(LumaError, match=r"\.mov"):
        SequenceRenderJob(project, 1, "master_prores", tmp_path / "e.mp4")
    # a project whose media file went away: the error names it, nothing is written
    media = tmp_path / "gone.mp4"
    shutil.copy(small_clip, media)
    other = build_project(tmp_path / "p", media, media, "gone.luma")
    media.unlink()
    with pytest.raises(MediaError, match="gone.mp4"):
        render_sequence(other, tmp_path / "g.mp4", "draft_480p", workers=1)
    assert not (tmp_path / "g.mp4").exists()


def test_cancel_leaves_nothing(project, tmp_path):
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 5

    out = tmp_path / "c.mp4"
    with pytest.raises(JobCancelled):
        render_sequence(project, out, "draft_480p", workers=1, cancelled=cancelled)
    assert not out.exists()
    cache = project.parent / "render.luma-cache" / "render"
    assert not list(cache.glob("*.part*"))


def test_job_reports_progress(project, tmp_path):
    seen = []
    job = SequenceRenderJob(project, 1, "draft_480p", tmp_path / "j.mp4", start=0, end=10, workers=1,
                            use_cache=False)
    result = job.run(lambda f, m="": seen.append(f), lambda: False)
    assert result.frames == 10 and result.path.is_file()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10
