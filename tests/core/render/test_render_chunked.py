"""Chunked renders: process pool and Dask equal a single-process render; the render cache.

The profile is draft_480p with a GOP of 5 frames, so the 25-frame test
timeline has five GOPs: a 2-worker plan cuts it into several segments while a
1-worker plan keeps one.
"""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from core.errors import JobCancelled
from core.project import Project
from core.render import render_cache as rc
from core.render import sequence_render as sr
from core.render.executor import local_cluster, make_executor
from core.render.profiles import get_profile
from core.timeline import edit
from core.timeline.edit import ClipChange
from core.timeline.model import Timeline, props_text
from tests.core.render.test_sequence_render import FRAMES, build_project, decode

PROFILE = dict(get_profile("draft_480p").to_dict(), gop=5)


@pytest.fixture(scope="module")
def project(tmp_path_factory, small_clip, second_clip):
    return build_project(tmp_path_factory.mktemp("chunked"), small_clip, second_clip)


def packets(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return [(p.pts, p.dts, p.is_keyframe, bytes(p)) for p in c.demux(v) if p.size]


@pytest.fixture(scope="module")
def single(project, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "single.mp4"
    result = sr.render_sequence(project, out, PROFILE, workers=1, use_cache=False)
    assert (result.segments, result.executor) == (1, "inline")
    frames, _ = decode(out)
    return out, frames


def test_process_pool_equals_single_process(project, single, tmp_path):
    out = tmp_path / "pool.mp4"
    result = sr.render_sequence(project, out, PROFILE, workers=2, use_cache=False)
    assert result.executor == "local" and result.segments >= 2 and result.rendered == result.segments
    frames, meta = decode(out)
    assert len(frames) == FRAMES == len(single[1])
    for a, b in zip(frames, single[1]):
        assert np.array_equal(a, b)
    assert packets(out) == packets(single[0])  # the very same bytes: closed, independent GOPs
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
    # no scratch folder left beside the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.mp4"]


def test_dask_local_cluster_equals_single_process(project, single, tmp_path):
    cluster = local_cluster(n_workers=2)
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with make_executor(scheduler=cluster) as ex:
            assert ex.kind == "dask" and ex.workers == 2
        out = tmp_path / "dask.mp4"
        result = sr.render_sequence(project, out, PROFILE, workers=2, scheduler=cluster.scheduler_address,
                                    use_cache=False)
    finally:
        cluster.close()
    assert result.executor == "dask" and result.segments >= 2
    frames, _ = decode(out)
    assert len(frames) == FRAMES
    for a, b in zip(frames, single[1]):
        assert np.array_equal(a, b)


def test_cancel_in_the_pool_leaves_no_files(project, tmp_path):
    polls = []

    def cancelled():
        polls.append(1)
        return len(polls) > 2

    out = tmp_path / "x.mp4"
    with pytest.raises(JobCancelled):
        sr.render_sequence(project, out, PROFILE, workers=2, use_cache=False, cancelled=cancelled)
    assert list(tmp_path.iterdir()) == []


def test_cache_reuses_unchanged_segments(tmp_path, small_clip, second_clip, monkeypatch):
    project = build_project(tmp_path / "proj", small_clip, second_clip)
    calls = []
    real = sr.render_segment

    def counting(*args, **kwargs):
        calls.append((args[3], args[4]))
        return real(*args, **kwargs)

    monkeypatch.setattr(sr, "render_segment", counting)
    # 1 worker in this process (so the calls can be counted), segments of 5 frames
    kw = dict(workers=1, segment_seconds=0.2)
    first = sr.render_sequence(project, tmp_path / "1.mp4", PROFILE, **kw)
    assert first.segments == 5 and first.rendered == 5 and len(calls) == 5
    cache = rc.RenderCache(rc.cache_folder(project))
    assert len(cache.files()) == 5

    calls.clear()
    second = sr.render_sequence(project, tmp_path / "2.mp4", PROFILE, **kw)
    assert calls == [] and (second.reused, second.rendered) == (5, 0)
    assert packets(tmp_path / "2.mp4") == packets(tmp_path / "1.mp4")

    # change the V2 clip (frames 4-17): only segments [0,5) [5,10) [10,15) [15,20) render again
    with Project.open(project) as p:
        tl = Timeline(p)
        v2 = tl.video_tracks()[1].id
        (clip,) = tl.clips_on(v2)
        props = dict(clip.properties, opacity=0.9)
        edit.apply(tl, ClipChange("opacity", (clip,), (clip.with_(props=props_text(props)),)))
    calls.clear()
    third = sr.render_sequence(project, tmp_path / "3.mp4", PROFILE, **kw)
    assert sorted(calls) == [(0, 5), (5, 10), (10, 15), (15, 20)]
    assert (third.rendered, third.reused) == (4, 1)
    # the mixed result is what a render without the cache gives
    fresh = sr.render_sequence(project, tmp_path / "4.mp4", PROFILE, use_cache=False, **kw)
    assert fresh.reused == 0
    assert packets(tmp_path / "3.mp4") == packets(tmp_path / "4.mp4")

    # a track setting is global: hiding V2 changes every segment's key
    with Project.open(project) as p:
        tl = Timeline(p)
        edit.set_track_flag(tl, tl.video_tracks()[1].id, "hidden", True)
    calls.clear()
    sr.render_sequence(project, tmp_path / "5.mp4", PROFILE, **kw)
    assert len(calls) == 5


def test_cache_trim_is_lru(tmp_path):
    cache = rc.RenderCache(tmp_path / "c", max_bytes=300)
    cache.ensure()
    for i in range(4):
        p = cache.path(f"k{i}", ".mp4")
        p.write_bytes(b"x" * 100)
        os.utime(p, ns=(10**9 * (i + 1), 10**9 * (i + 1)))
    assert cache.get("k0", ".mp4") is not None  # used now: the newest
    removed = cache.trim(keep=[cache.path("k1", ".mp4")])
    assert sorted(p.name for p in removed) == ["k2.mp4"]  # k1 kept on request, k3/k0 newer
    assert sorted(p.name for p in cache.files()) == ["k0.mp4", "k1.mp4", "k3.mp4"]
    cache.max_bytes = 0
    cache.trim()
    assert cache.files() == []
