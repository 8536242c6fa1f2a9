"""Benchmark: mask propagation speed at 1280x720 and its accuracy on the semi-synthetic roto scene.

Scene: tests/core/vision/roto_scene.py (a textured object with an exact alpha
moving and deforming over real vtest.avi footage), rendered at 1280x720 and
at vtest's own 768x576; frames are rendered before any timing starts.

(a) ours: :meth:`core.vision.propagate.Propagator.step` (region around the
    matte, DIS flow both ways on it, warp, colour vote + guided filter) from
    frame 0's exact matte through all frames, frames per second (goal >= 10 at
    1280x720 on two cores);
(b) reference, in the same loop (one frame of (a) then one of (b), so other
    load on the machine hits both alike): DIS flow alone (same preset) once
    on the whole grey frame, which is what a naive "flow the frame, warp the
    matte" propagation would pay before doing anything else;
(c) the breakdown of (a): the warp alone (both flows + remap) vs the full step;
(d) a worst case for speed: a big subject (an ellipse matte 80 % of the frame's
    height, carried over the same 1280x720 frames), timing only.

and prints the ratio time(a) / time(b), and J (region similarity) and F
(boundary F-measure, DAVIS style) per frame summarised: mean, last ten
frames, worst frame. Nothing is asserted.

Run: ``python tests/benchmarks/bench_propagate.py [--frames 100]`` or
``pytest tests/benchmarks/bench_propagate.py -s``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SIZES = ((1280, 720), (768, 576))


def run(frames: int = 100) -> dict:
    import cv2

    from core.vision.propagate import _PRESETS, Propagator
    from tests.core.vision.roto_scene import boundary_f, make_scene, region_similarity

    report = {"frames": frames, "cpus": os.cpu_count(), "cv_threads": cv2.getNumThreads(), "sizes": {}}
    for width, height in SIZES:
        scene = make_scene(frames, width, height)
        rgb = [scene.frame(i) for i in range(frames)]
        gts = [scene.gt(i) for i in range(frames)]
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb]
        start = (scene.alpha(0) * 255 + 0.5).astype(np.uint8)
        scene.close()
        prop = Propagator()
        dis = cv2.DISOpticalFlow_create(_PRESETS[prop.preset])
        prop.step(rgb[0], start, rgb[1])  # warm-up (allocations, the flow object) outside the timings
        dis.calc(grey[1], grey[0], None)
        t_ours = t_ref = t_warp = 0.0
        matte = start
        js, fs = [], []
        for i in range(1, frames):
            t0 = time.perf_counter()
            new = prop.step(rgb[i - 1], matte, rgb[i])
            t1 = time.perf_counter()
            dis.calc(grey[i], grey[i - 1], None)
            t2 = time.perf_counter()
            t_ours += t1 - t0
            t_ref += t2 - t1
            # the warp alone, on the same region the step used (timed apart from the rest)
            t_warp += _time_warp(prop, rgb[i - 1], matte, rgb[i])
            matte = new
            pred = matte >= 128
            js.append(region_similarity(pred, gts[i]))
            fs.append(boundary_f(pred, gts[i]))
        n = frames - 1
        js, fs = np.asarray(js), np.asarray(fs)
        report["sizes"][f"{width}x{height}"] = {
            "fps": n / t_ours, "ref_fps": n / t_ref, "ratio": t_ours / t_ref,
            "warp_ms": 1000 * t_warp / n, "step_ms": 1000 * t_ours / n,
            "J": float(js.mean()), "F": float(fs.mean()), "J_last10": float(js[-10:].mean()),
            "F_last10": float(fs[-10:].mean()), "J_min": float(js.min()), "F_min": float(fs.min()),
            "J_per_frame": js.round(3).tolist(), "F_per_frame": fs.round(3).tolist(),
        }
    report["big"] = _time_big_subject(frames)
    return report


def _time_big_subject(frames: int) -> dict:
    """ms per step for an ellipse matte 80 % of the frame's height on the 1280x720 scene's frames."""
    import cv2

    from core.vision.propagate import Propagator
    from tests.core.vision.roto_scene import make_scene

    n = min(frames, 30)
    scene = make_scene(n, 1280, 720)
    rgb = [scene.frame(i) for i in range(n)]
    scene.close()
    matte = np.zeros((720, 1280), np.uint8)
    cv2.ellipse(matte, (640, 360), (260, 288), 0, 0, 360, 255, -1)
    prop = Propagator()
    prop.step(rgb[0], matte, rgb[1])
    t = 0.0
    for i in range(1, n):
        t0 = time.perf_counter()
        matte = prop.step(rgb[i - 1], matte, rgb[i])
        t += time.perf_counter() - t0
    return {"fps": (n - 1) / t, "step_ms": 1000 * t / (n - 1), "frames": n}


def _time_warp(prop, prev_rgb, prev_matte, rgb) -> float:
    import cv2

    from core.vision.propagate import _grow

    h, w = prev_matte.shape
    bx, by, bw, bh = cv2.boundingRect(prev_matte)
    x1, y1, x2, y2 = _grow((bx, by, bx + bw, by + bh), prop.margin, prop.pad, w, h)
    roi = (slice(y1, y2), slice(x1, x2))
    t0 = time.perf_counter()
    prop._warp(prev_rgb[roi], prev_matte[roi], rgb[roi])
    return time.perf_counter() - t0


def print_report(report: dict) -> None:
    print(f"\nmask propagation, {report['frames']} frames of the roto scene, {report['cpus']} CPUs, "
          f"OpenCV threads {report['cv_threads']}")
    print(f"  {'size':10s} {'ours fps':>9s} {'step ms':>8s} {'warp ms':>8s} {'DIS full-frame fps':>19s} "
          f"{'ratio':>6s}   {'J':>5s} {'F':>5s} {'J last10':>8s} {'F last10':>8s} {'J min':>6s}")
    for label, row in report["sizes"].items():
        print(f"  {label:10s} {row['fps']:9.1f} {row['step_ms']:8.1f} {row['warp_ms']:8.1f} {row['ref_fps']:19.1f} "
              f"{row['ratio']:6.2f}   {row['J']:5.3f} {row['F']:5.3f} {row['J_last10']:8.3f} "
              f"{row['F_last10']:8.3f} {row['J_min']:6.3f}")
    big = report["big"]
    print(f"  1280x720 with a big subject (ellipse 520x576 px, {big['frames']} frames): {big['fps']:.1f} fps, "
          f"{big['step_ms']:.1f} ms a step")
    print("  goal: >= 10 fps at 1280x720; ratio = time(ours) / time(DIS on the whole frame), same loop")
    for label, row in report["sizes"].items():
        print(f"  {label} J every 10th frame: {row['J_per_frame'][::10]}")


def test_propagate_benchmark():
    frames = int(os.environ.get("LUMA_BENCH_PROPAGATE_FRAMES", "100"))
    print_report(run(frames))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    print_report(run(parser.parse_args(argv).frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
