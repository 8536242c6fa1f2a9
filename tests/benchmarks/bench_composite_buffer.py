"""Benchmark: build the composite buffer of a 10-minute show (500 fixtures, 16 layers).

Goal: >= 50x faster than real time and < 300 MB. Prints the build time, the
real-time factor, the peak memory traced during the build (tracemalloc, which
numpy reports to) and the process's peak resident size, and how long the
rebuild after moving one layer takes (only the blocks under it are rebuilt).

Run: .venv/bin/python tests/benchmarks/bench_composite_buffer.py   (or `make bench`)
"""

from __future__ import annotations

import gc
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lighting_bench_rig import big_show  # noqa: E402

from core.lighting.buffer import CompositeBuffer  # noqa: E402
from core.lighting.layers import Layer  # noqa: E402

FIXTURES, UNIVERSES, LAYERS = 500, 8, 16
SHOW_S = 600.0
GOAL_REALTIME, GOAL_MB = 50.0, 300.0


def measure() -> dict:
    show = big_show(FIXTURES, UNIVERSES, LAYERS, seconds=SHOW_S)
    end = SHOW_S - 1e-6

    gc.collect()
    buffer = CompositeBuffer(show, max_bytes=None)
    t0 = time.perf_counter()
    buffer.ensure(0.0, end)
    build_s = time.perf_counter() - t0
    blocks = len(buffer.cached_blocks)

    # an edit: move one layer by 32 beats; only the blocks under its old and new place are rebuilt
    old = show.layers[7]
    before = buffer.blocks_built
    buffer.replace_layer(7, Layer(old.pattern, old.start_beat + 32, old.end_beat + 32, old.z, old.blend,
                                  old.opacity, old.track))
    t0 = time.perf_counter()
    buffer.ensure(0.0, end)
    edit_s = time.perf_counter() - t0
    rebuilt = buffer.blocks_built - before
    cached_mb = buffer.bytes_cached / 1e6
    del buffer
    gc.collect()

    tracemalloc.start()
    buffer = CompositeBuffer(show, max_bytes=None)
    buffer.ensure(0.0, end)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "fixtures": len(show.patch), "layers": len(show.layers), "samples": int(SHOW_S * show.sample_rate),
        "capabilities": buffer.caps, "build_s": build_s, "realtime": SHOW_S / build_s, "blocks": blocks,
        "edit_s": edit_s, "rebuilt": rebuilt, "cached_mb": cached_mb, "peak_mb": peak / 1e6, "rss_mb": rss_mb,
    }


def report(r: dict) -> None:
    print(f"\nComposite buffer: {SHOW_S / 60:.0f}-minute show, {r['fixtures']} fixtures, {r['layers']} layers, "
          f"{r['samples']} samples of {', '.join(r['capabilities'])}")
    print(f"  build: {r['build_s']:.2f} s = {r['realtime']:.0f}x real time "
          f"(goal >= {GOAL_REALTIME:.0f}x: {'met' if r['realtime'] >= GOAL_REALTIME else 'NOT met'})")
    print(f"  memory: {r['cached_mb']:.0f} MB cached, {r['peak_mb']:.0f} MB peak traced during the build "
          f"(goal < {GOAL_MB:.0f} MB: {'met' if r['peak_mb'] < GOAL_MB else 'NOT met'}); "
          f"process peak RSS {r['rss_mb']:.0f} MB")
    print(f"  moving one layer: {r['rebuilt']} of {r['blocks']} blocks rebuilt in {r['edit_s'] * 1000:.0f} ms")


def test_bench_composite_buffer():
    r = measure()
    report(r)
    assert r["realtime"] >= GOAL_REALTIME
    assert r["peak_mb"] < GOAL_MB
    assert 0 < r["rebuilt"] < r["blocks"]


if __name__ == "__main__":
    report(measure())
