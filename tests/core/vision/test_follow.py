"""Real footage: following one pedestrian through vtest.avi against boxes annotated by eye.

tests/data/annotations/vtest_follow.json holds the boxes of one woman (fair curly
hair, long black coat) on every 10th frame of 530-729, drawn by hand on the
extracted frames. A man in a red jacket hides most of her on frame 530 and she
passes in front of him around 560-570. Tracking starts on frame 540 from the
annotated box and runs backward to 530 and forward to 729 (track_video); on at
least 90 % of the annotated frames the box must overlap hers with IoU > 0.5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.vision.tracking import track_video
from core.vision.types import iou
from tests.core.vision.tracking_scene import CachedDetector, record

ANNOTATIONS = Path(__file__).resolve().parents[2] / "data" / "annotations" / "vtest_follow.json"


@pytest.fixture(scope="module")
def annotation() -> dict:
    data = json.loads(ANNOTATIONS.read_text(encoding="utf-8"))
    assert len(data["boxes"]) == 20
    return data


@pytest.fixture(scope="module")
def detector():
    from core.vision.detect import create_detector

    return CachedDetector(create_detector())


def score(result, annotation) -> dict:
    lo = annotation["range"][0]
    frames = sorted(int(f) for f in annotation["boxes"])
    truth = np.array([annotation["boxes"][str(f)] for f in frames], np.float64)
    pred = np.array([result.frames[f - lo].bbox for f in frames], np.float64)
    ious = np.diag(iou(pred, truth))
    centre = np.linalg.norm((pred[:, :2] + pred[:, 2:]) / 2 - (truth[:, :2] + truth[:, 2:]) / 2, axis=1)
    return {"success": float((ious > 0.5).mean()), "mean_iou": float(ious.mean()),
            "centre_error": float(centre.mean()), "lost_frames": int(sum(p.lost for p in result.frames)),
            "worst": f"frame {frames[int(np.argmin(ious))]} IoU {ious.min():.2f}"}


@pytest.mark.parametrize("name,least", [("follow", 0.9), ("csrt", 0.8), ("botsort", 0.9), ("bytetrack", 0.85)])
def test_follow_one_pedestrian_on_real_footage(name, least, annotation, detector, vtest):
    lo, hi = annotation["range"]
    start = annotation["start_frame"]
    result = track_video(vtest, annotation["boxes"][str(start)], start, (lo, hi), tracker=name,
                         detector=detector if name != "csrt" else None)
    assert [p.frame for p in result.frames] == list(range(lo, hi + 1))
    m = score(result, annotation)
    record("vtest_follow", {name: m})
    assert m["success"] >= least, m
    if name == "follow":
        # the pose model's keypoints of the matched person come along (renders anchor above the head)
        with_kp = [p for p in result.frames if p.keypoints is not None]
        assert len(with_kp) > 0.8 * len(result.frames)
        nose_y = np.array([p.keypoints[0][1] for p in with_kp])
        top = np.array([p.bbox[1] for p in with_kp])
        bottom = np.array([p.bbox[3] for p in with_kp])
        assert np.median((nose_y - top) / (bottom - top)) < 0.25  # the head is at the top of the box
