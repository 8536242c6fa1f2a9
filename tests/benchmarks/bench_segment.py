"""Benchmark: single-frame segmentation latency per backend at 1280x720, and J / F on the roto scene.

Scene: tests/core/vision/roto_scene.py at 1280x720 (a textured blob cut from
bus.jpg with an exact alpha, moving and deforming over vtest.avi). On every
``--step``-th of its first ``--frames`` frames each backend gets the tight
ground-truth box grown by 6 % (as a user would draw it) and we measure:

* latency: the median of ``--repeats`` calls on that frame (``segment()``
  only; model loading and a warm-up call are outside the timings);
* J (IoU) and boundary F (DAVIS, tolerance 0.8 % of the diagonal) of the
  matte thresholded at half against the ground truth.

Rows:

* ``classic`` (box), ``classic`` (one positive point at the object's most
  interior pixel);
* ``person`` on vtest frame 0 upscaled to 1280x720, a loose box around the
  standing man and a click on him (either way the pose model runs on a crop
  around the prompt, not on the whole frame); the scene's object is no person,
  so no J/F — only latency (skipped with the reason when no pose model);
* ``sam`` with a random-weights MobileSAM checkpoint from
  tests/plugins/sam_fixture.py (latency is real, J/F are meaningless and
  printed for completeness; skipped with the reason when torch/ultralytics or
  the fixture are missing);
* reference, measured in the same run: plain ``cv2.grabCut`` on the whole
  1280x720 frame with the same box and iteration count (no crop, no
  downscale, no refinement).

Ratios: latency / 500 ms (the goal) and latency / full-frame grabCut.
Nothing is asserted.

Run: ``python tests/benchmarks/bench_segment.py`` or
``pytest tests/benchmarks/bench_segment.py -s``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

GOAL_MS = 500.0
SIZE = (1280, 720)
STANDING_768 = (245, 212, 292, 312)  # the standing man on vtest frame 0 at 768x576


def _grow(box, f=0.06):
    x1, y1, x2, y2 = box
    dw, dh = (x2 - x1) * f / 2, (y2 - y1) * f / 2
    return (x1 - dw, y1 - dh, x2 + dw, y2 + dh)


def _interior(gt: np.ndarray) -> tuple[int, int]:
    import cv2

    d = cv2.distanceTransform(gt.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(d), d.shape)
    return int(x), int(y)


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1000.0


def _scene_rows(scene, indices, name: str, make_prompt, segmenter, repeats: int) -> dict:
    from core.vision.segment import binary
    from tests.core.vision.roto_scene import boundary_f, region_similarity

    ms, js, fs = [], [], []
    segmenter.segment(scene.frame(indices[0]), make_prompt(indices[0]))  # warm-up
    for i in indices:
        frame, prompt = scene.frame(i), make_prompt(i)
        matte = segmenter.segment(frame, prompt)
        ms.append(_median_ms(lambda: segmenter.segment(frame, prompt), repeats))
        pred, gt = binary(matte), scene.gt(i)
        js.append(region_similarity(pred, gt))
        fs.append(boundary_f(pred, gt))
    return {"name": name, "ms": float(np.median(ms)), "J": float(np.mean(js)), "Jmin": float(np.min(js)),
            "F": float(np.mean(fs))}


def _full_grabcut(scene, indices, repeats: int, iterations: int) -> dict:
    import cv2

    from tests.core.vision.roto_scene import boundary_f, region_similarity

    ms, js, fs = [], [], []
    for i in indices:
        bgr = cv2.cvtColor(scene.frame(i), cv2.COLOR_RGB2BGR)
        x1, y1, x2, y2 = (int(round(v)) for v in _grow(scene.box(i)))
        rect = (x1, y1, x2 - x1, y2 - y1)

        def once():
            mask = np.zeros(bgr.shape[:2], np.uint8)
            bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
            cv2.grabCut(bgr, mask, rect, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
            return mask

        mask = once()
        ms.append(_median_ms(once, repeats))
        pred = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD))
        js.append(region_similarity(pred, scene.gt(i)))
        fs.append(boundary_f(pred, scene.gt(i)))
    return {"name": "reference: cv2.grabCut, whole frame", "ms": float(np.median(ms)), "J": float(np.mean(js)),
            "Jmin": float(np.min(js)), "F": float(np.mean(fs))}


def _person_rows(repeats: int) -> list[dict]:
    import cv2

    from core.media.reader import FrameReader
    from core.vision.segment import Prompt, create_segmenter
    from core.vision.segment_person import pose_unavailable

    why = pose_unavailable()
    if why is not None:
        return [{"name": "person", "skip": why}]
    with FrameReader(REPO_ROOT / "tests" / "data" / "vtest.avi") as reader:
        rgb = cv2.resize(reader.frame(0), SIZE, interpolation=cv2.INTER_CUBIC)
    sx, sy = SIZE[0] / 768, SIZE[1] / 576
    x1, y1, x2, y2 = STANDING_768
    box = Prompt((x1 * sx, y1 * sy, x2 * sx, y2 * sy))
    click = Prompt(points=((268 * sx, 250 * sy, True),))
    seg = create_segmenter("person")
    seg.segment(rgb, box)  # loads the model
    seg.segment(rgb, click)
    return [{"name": "person (box: pose on a crop)", "ms": _median_ms(lambda: seg.segment(rgb, box), repeats)},
            {"name": "person (click: pose on a crop around it)",
             "ms": _median_ms(lambda: seg.segment(rgb, click), repeats)}]


def _sam_rows(scene, indices, repeats: int) -> list[dict]:
    import importlib.util

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("ultralytics") is None:
        return [{"name": "sam", "skip": "torch / ultralytics are not installed"}]
    try:
        from tests.plugins.sam_fixture import make_random_sam_checkpoint
    except ImportError as exc:
        return [{"name": "sam", "skip": f"tests/plugins/sam_fixture.py is not usable ({exc})"}]
    from core.vision.segment import Prompt, create_segmenter

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "models"
        make_random_sam_checkpoint(folder, "mobile_sam")
        old = {k: os.environ.get(k) for k in ("LUMA_MODELS_DIR", "XDG_CONFIG_HOME")}
        os.environ["LUMA_MODELS_DIR"] = str(folder)
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        try:
            seg = create_segmenter("sam")
            row = _scene_rows(scene, indices, "sam (MobileSAM, random weights; J/F meaningless)",
                              lambda i: Prompt(_grow(scene.box(i))), seg, repeats)
            # the same frame prompted again reuses the image embedding (key): the interactive case
            frame, prompt = scene.frame(indices[0]), Prompt(_grow(scene.box(indices[0])))
            seg.segment(frame, prompt, key=indices[0])
            again = {"name": "sam, same frame again (cached embedding)",
                     "ms": _median_ms(lambda: seg.segment(frame, prompt, key=indices[0]), repeats)}
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return [row, again]


def run(frames: int = 30, step: int = 6, repeats: int = 3) -> dict:
    import cv2

    from core.vision.segment import Prompt, create_segmenter
    from tests.core.vision.roto_scene import make_scene

    cv_threads = cv2.getNumThreads()  # ultralytics, once imported, sets OpenCV to one thread
    scene = make_scene(n_frames=frames, width=SIZE[0], height=SIZE[1])
    indices = list(range(0, frames, step))
    classic = create_segmenter("classic")
    rows = [
        _scene_rows(scene, indices, "classic (box)", lambda i: Prompt(_grow(scene.box(i))), classic, repeats),
        _scene_rows(scene, indices, "classic (one + point)",
                    lambda i: Prompt(points=((*_interior(scene.gt(i)), True),)), classic, repeats),
    ]
    rows += _person_rows(repeats)
    rows += _sam_rows(scene, indices, repeats)
    ref = _full_grabcut(scene, indices[:2], 1, classic.iterations)
    scene.close()
    return {"rows": rows, "reference": ref, "frames": indices, "cpus": os.cpu_count(),
            "cv_threads": f"{cv_threads} at start, {cv2.getNumThreads()} at end", "repeats": repeats}


def print_report(report: dict) -> None:
    ref = report["reference"]
    print(f"\nsegmentation at {SIZE[0]}x{SIZE[1]}, scene frames {report['frames']}, median of "
          f"{report['repeats']} calls, {report['cpus']} CPUs, OpenCV threads {report['cv_threads']}")
    print(f"  {'backend':52s} {'ms':>8s} {'/500ms':>7s} {'/ref':>7s} {'J':>6s} {'Jmin':>6s} {'F':>6s}")
    for row in report["rows"] + [ref]:
        if "skip" in row:
            print(f"  {row['name']:52s} skipped: {row['skip']}")
            continue
        jf = (f" {row['J']:6.3f} {row['Jmin']:6.3f} {row['F']:6.3f}" if "J" in row else
              f" {'-':>6s} {'-':>6s} {'-':>6s}")
        print(f"  {row['name']:52s} {row['ms']:8.1f} {row['ms'] / GOAL_MS:7.3f} {row['ms'] / ref['ms']:7.3f}{jf}")


def test_segment_benchmark():
    print_report(run(int(os.environ.get("LUMA_BENCH_SEGMENT_FRAMES", "30"))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--step", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    a = parser.parse_args(argv)
    print_report(run(a.frames, a.step, a.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
