"""Benchmark: rendering a 10-second 1080p sequence (3 video tracks, a transition, 3 filters).

The sequence (1920x1080, 25 fps, 250 frames):

* V1: clip A (0-130) and clip B (130-250) with a 20-frame crossfade on the cut,
  a ``contrast`` track filter;
* V2: clip C over the whole length, scaled to 40 %, moved right, 80 % opaque,
  with a ``saturation`` filter;
* V3: clip B again, scaled to 30 % in the top-left corner, ``screen`` blend;
* a ``vignette`` on the sequence; A's sound on A1.

Measured in the same run (numbers printed, no timed asserts):

* for ``preview_720p`` and ``social_1080p``: the render's frames/s (1 worker,
  in this process, no cache) and the ratio against a **reference**: a plain
  PyAV decode -> scale -> encode of clip C (one 1080p stream) with the same
  encoder settings (codec, options, threads, GOP) — goal >= 0.5; and both
  one's CPU time per frame (this process, all its threads: less noisy than
  the wall clock on a shared machine);
* the chunked speed-up: ``preview_720p`` with 2 worker processes against 1
  (goal >= 1.6x on 2 cores), best of two runs each, and the CPU time per
  frame summed over the rendering processes (what chunking costs in work:
  on a shared machine the wall-clock speed-up mostly measures the others).

The media are generated into a temporary folder first (a minute or so).
Run: .venv/bin/python tests/benchmarks/bench_sequence_render.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402

from core.project import Project, media_store  # noqa: E402
from core.render.profiles import get_profile  # noqa: E402
from core.render.sequence_render import render_sequence, scale_frame  # noqa: E402
from core.timeline import edit  # noqa: E402
from core.timeline.edit import ClipChange  # noqa: E402
from core.timeline.model import SequenceProps, Timeline, Transition, create_sequence, props_text  # noqa: E402
from resources.footage import write_test_clip  # noqa: E402

FRAMES = int(os.environ.get("LUMA_BENCH_SEQ_FRAMES", "250"))
W, H, RATE = 1920, 1080, 25


def _filters(kind: str, **params) -> list:
    return [{"type": kind, "enabled": True, "params": params}]


def build(folder: Path) -> Path:
    a = write_test_clip(folder / "a.mp4", frames=FRAMES * 6 // 10 + 20, size=(W, H), rate=Fraction(RATE), gop=25)
    b = write_test_clip(folder / "b.mp4", frames=FRAMES * 6 // 10 + 20, size=(W, H), rate=Fraction(RATE), gop=25)
    c = write_test_clip(folder / "c.mp4", frames=FRAMES, size=(W, H), rate=Fraction(RATE), gop=25)
    p = Project.create(folder / "bench.luma")
    sid = create_sequence(p, rate=RATE, width=W, height=H, video_tracks=3, audio_tracks=1)
    tl = Timeline(p, sid)
    ma, mb, mc = (media_store.ingest(p, m, with_thumbnail=False).id for m in (a, b, c))
    v1, v2, v3 = (t.id for t in tl.video_tracks())
    cut = FRAMES * 52 // 100
    ca = edit.add_clip(tl, ma, v1, 0, duration=cut).after[0]
    cb = edit.add_clip(tl, mb, v1, cut, duration=FRAMES - cut, source_in=10).after[0]
    (tid,) = edit.next_ids(tl, 1, Transition)
    edit.apply(tl, ClipChange("crossfade", (), (Transition(tid, v1, ca.id, cb.id, "crossfade", 20),)))
    cc = edit.add_clip(tl, mc, v2, 0, duration=FRAMES).after[0]
    edit.apply(tl, ClipChange("c", (cc,), (cc.with_(props=props_text(
        {"scale": 0.4, "x": 500, "opacity": 0.8, "filters": _filters("saturation", amount=0.3)})),)))
    cd = edit.add_clip(tl, mb, v3, 0, duration=FRAMES // 2).after[0]
    edit.apply(tl, ClipChange("d", (cd,), (cd.with_(props=props_text(
        {"scale": 0.3, "x": -650, "y": -360, "blend": "screen"})),)))
    t1 = tl.track(v1)
    edit.apply(tl, ClipChange("t", (t1,), (t1.with_(props=props_text({"filters": _filters("contrast", amount=1.2)})),)))
    seq = SequenceProps(sid, tl.sequence.props)
    edit.apply(tl, ClipChange("s", (seq,), (seq.with_(props=props_text({"filters": _filters("vignette", amount=0.4)})),)))
    edit.add_clip(tl, ma, tl.audio_tracks()[0].id, 0, duration=cut)
    path = p.path
    p.close()
    return path


def reference(media: Path, out: Path, profile_name: str) -> tuple[float, float]:
    """(frames/s, CPU seconds per frame) of a plain decode -> scale -> encode of ``media`` with the
    profile's encoder settings."""
    prof = get_profile(profile_name)
    rate = Fraction(RATE)
    size = prof.sequence_size(W, H)
    gop = prof.gop_frames(rate)
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    with av.open(str(media)) as src, av.open(str(out), "w") as dst:
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        vs = dst.add_stream(prof.video_codec, rate=rate, options=dict(prof.options))
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], prof.pix_fmt
        cc = vs.codec_context
        cc.time_base, cc.gop_size, cc.thread_count = 1 / rate, gop, prof.threads
        for frame in src.decode(vin):
            rgb = scale_frame(frame.to_ndarray(format="rgb24"), size)
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            f.pts = n
            f.time_base = 1 / rate
            dst.mux(vs.encode(f))
            n += 1
        dst.mux(vs.encode(None))
    return n / (time.perf_counter() - t0), (time.process_time() - c0) / n


def timed_render(project: Path, out: Path, profile: str, workers: int, runs: int = 1) -> tuple[float, float]:
    """(frames/s, CPU seconds per frame summed over the processes that rendered), best of ``runs``."""
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = render_sequence(project, out, profile, workers=workers, use_cache=False)
        seconds = time.perf_counter() - t0
        assert result.frames == FRAMES and result.rendered == result.segments
        cpu = sum(s["cpu_seconds"] for s in result.segment_stats) / FRAMES
        if best is None or seconds < best[0]:
            best = (seconds, cpu, result.segments)
    seconds, cpu, segments = best
    return FRAMES / seconds, cpu


def main() -> None:
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} (others may share the CPU)")
    with tempfile.TemporaryDirectory(prefix="luma-bench-seq-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        project = build(folder)
        print(f"media and project built in {time.perf_counter() - t0:.1f} s: {FRAMES} frames 1080p25, "
              "3 video tracks, a crossfade, 3 filters")
        for name in ("preview_720p", "social_1080p"):
            ref, ref_cpu = reference(folder / "c.mp4", folder / f"ref_{name}.mp4", name)
            fps, cpu = timed_render(project, folder / f"{name}.mp4", name, workers=1)
            print(f"{name:14s} render {fps:6.1f} frames/s   reference decode->encode {ref:6.1f} frames/s   "
                  f"ratio {fps / ref:.2f} (goal >= 0.5)")
            print(f"{'':14s} CPU per frame: render {cpu * 1000:.0f} ms, reference {ref_cpu * 1000:.0f} ms "
                  f"(ratio {ref_cpu / cpu:.2f})")
        one, cpu1 = timed_render(project, folder / "w1.mp4", "preview_720p", workers=1, runs=2)
        two, cpu2 = timed_render(project, folder / "w2.mp4", "preview_720p", workers=2, runs=2)
        print(f"preview_720p   1 worker {one:6.1f} frames/s, 2 workers {two:6.1f} frames/s (best of 2): "
              f"speed-up {two / one:.2f}x (goal >= 1.6x on 2 cores)")
        print(f"               CPU per frame: 1 worker {cpu1 * 1000:.0f} ms, 2 workers {cpu2 * 1000:.0f} ms in all "
              f"(chunking costs {100 * (cpu2 / cpu1 - 1):+.0f} % more work)")


if __name__ == "__main__":
    main()
