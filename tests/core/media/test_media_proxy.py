"""ProxyJob: right size, frame-identical numbering, intra-only really all keyframes, clean cancel."""

from __future__ import annotations

import av
import pytest

from core.errors import JobCancelled, MediaError
from core.jobs import Job
from core.media import FrameReader, ProxyJob, probe, proxy_params, proxy_size
from resources.footage import read_barcode


def keyframe_flags(path):
    with av.open(str(path)) as c:
        return [p.is_keyframe for p in c.demux(video=0) if p.size]


def run(job, cancel_after=None):
    calls = []

    def progress(fraction, message=""):
        calls.append((fraction, message))

    def cancelled():
        return cancel_after is not None and len(calls) > cancel_after

    return job.run(progress, cancelled), calls


def test_proxy_gop_and_numbering(tmp_path, seek_clip):
    out = tmp_path / "proxies" / "seek_120.mp4"
    job = ProxyJob(seek_clip, out, height=120)
    assert isinstance(job, Job) and "120p" in job.title and "seek.mp4" in job.title
    result, calls = run(job)
    assert result["path"] == str(out) and out.exists()
    assert (result["width"], result["height"]) == (160, 120)
    assert result["kind"] == "proxy" and result["params"] == proxy_params(120, False)
    info = probe(out)
    assert (info.video.width, info.video.height) == (160, 120)
    assert info.video.rate == probe(seek_clip).video.rate
    assert info.video.frame_count == 100 and info.video.codec == "h264"
    assert info.audio is not None and info.audio.codec == "aac"
    keys = keyframe_flags(out)
    assert sum(keys) == 9 and keys[0] and keys[12]  # GOP 12, no scene-cut extras
    with av.open(str(out)) as c:
        assert not any(f.pict_type == 3 for f in c.decode(video=0))  # no B-frames
    with FrameReader(out, cache_size=2) as r:
        for i in (0, 99, 13, 50, 12, 11):
            assert read_barcode(r.frame(i)) == i  # proxy frame N is source frame N
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(calls) >= 100
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp files left


def test_intra_only_is_all_keyframes(tmp_path, clip_mkv):
    out = tmp_path / "intra.mp4"
    result, _ = run(ProxyJob(clip_mkv, out, height=72, intra_only=True))
    assert (result["width"], result["height"]) == (128, 72)
    assert result["params"]["intra_only"] and result["params"]["gop"] == 1
    keys = keyframe_flags(out)
    assert len(keys) == 50 and all(keys)


def test_proxy_never_upscales_and_keeps_even_width(tmp_path, clip_avi):
    result, _ = run(ProxyJob(clip_avi, tmp_path / "p.mov", height=720))
    assert (result["width"], result["height"]) == (320, 240)
    info = probe(result["path"])
    assert info.format_name.startswith("mov") and info.audio.channels == 1
    assert proxy_size(1920, 1080, 360) == (640, 360)
    assert proxy_size(1080, 1920, 360) == (202, 360)
    assert proxy_size(720, 576, 361) == (450, 360)


def test_cancel_leaves_nothing(tmp_path, seek_clip):
    out = tmp_path / "cancelled.mp4"
    with pytest.raises(JobCancelled):
        run(ProxyJob(seek_clip, out, height=120), cancel_after=10)
    assert list(tmp_path.iterdir()) == []


def test_cancel_keeps_an_existing_proxy(tmp_path, clip_mp4):
    out = tmp_path / "p.mp4"
    run(ProxyJob(clip_mp4, out, height=120))
    before = out.read_bytes()
    with pytest.raises(JobCancelled):
        run(ProxyJob(clip_mp4, out, height=60), cancel_after=5)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["p.mp4"]


def test_bad_sources(tmp_path, audio_wav):
    with pytest.raises(MediaError, match=r"^nothing\.mp4: file not found$"):
        run(ProxyJob(tmp_path / "nothing.mp4", tmp_path / "out.mp4"))
    with pytest.raises(MediaError, match="no video stream"):
        run(ProxyJob(audio_wav, tmp_path / "out.mp4"))
    assert not (tmp_path / "out.mp4").exists()
    with pytest.raises(ValueError):
        proxy_params(0)
