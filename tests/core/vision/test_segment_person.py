"""The person segmenter (pose model + classic grabCut) on real pedestrians of vtest.avi.

Frame 0 of vtest.avi has three people: a man standing on the left at about
(254, 220)-(284, 308), a man walking towards the camera at the top (499,
157)-(529, 231) and a woman walking right at (641, 241)-(685, 322).
"""

from __future__ import annotations

import numpy as np
import pytest

import core.vision.segment_person as sp
from core.vision.segment import Prompt, binary, create_segmenter, segmenter_names
from core.vision.types import Detections, VisionError
from tests.core.vision.roto_scene import VTEST

WHY = sp.pose_unavailable()
needs_pose = pytest.mark.skipif(WHY is not None, reason=f"person segmenter unavailable: {WHY}")

STANDING = (245, 212, 292, 312)  # a loose box around the standing man, as a user would draw it
WALKER_CLICK = (662, 280)  # on the woman's coat


@pytest.fixture(scope="module")
def frame0():
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing: run `make testdata`")
    from core.media.reader import FrameReader

    with FrameReader(VTEST, cache_size=1) as reader:
        return np.array(reader.frame(0))


@pytest.fixture(scope="module")
def seg():
    if WHY is not None:
        pytest.skip(WHY)
    return create_segmenter("person")


def _check_person(mask: np.ndarray, box: np.ndarray, kp: np.ndarray, conf: float = 0.5, min_kp: int = 8) -> None:
    x1, y1, x2, y2 = box
    area = np.count_nonzero(mask)
    box_area = (x2 - x1) * (y2 - y1)
    assert 0.3 * box_area < area < 1.1 * box_area
    sx, sy = 0.04 * (x2 - x1) + 3, 0.04 * (y2 - y1) + 3  # the segmenter grows the pose box by 8 %
    grown = np.zeros_like(mask)
    grown[max(0, int(y1 - sy)):int(np.ceil(y2 + sy)), max(0, int(x1 - sx)):int(np.ceil(x2 + sx))] = True
    assert np.count_nonzero(mask & grown) >= 0.97 * area  # the matte stays on the person
    good = kp[kp[:, 2] >= conf]
    assert len(good) >= min_kp
    xs = np.clip(np.round(good[:, 0]).astype(int), 0, mask.shape[1] - 1)
    ys = np.clip(np.round(good[:, 1]).astype(int), 0, mask.shape[0] - 1)
    assert mask[ys, xs].mean() >= 0.9  # ... and covers its skeleton


@needs_pose
def test_box_prompt_segments_the_standing_man(frame0, seg):
    prompt = Prompt(STANDING)
    box, kp = seg.find_person(frame0, prompt)
    assert box[0] > 240 and box[2] < 295 and box[1] > 205 and box[3] < 315
    matte = seg.segment(frame0, prompt)
    assert matte.shape == frame0.shape[:2] and matte.dtype == np.uint8
    mask = binary(matte)
    _check_person(mask, box, kp)
    assert not mask[:, 400:].any()  # the other two people are not in it


@needs_pose
def test_click_picks_the_person_under_it(frame0, seg):
    prompt = Prompt(points=((*WALKER_CLICK, True),))
    matte = seg.segment(frame0, prompt, key=0)
    mask = binary(matte)
    people = seg.people(frame0, key=0)
    i = sp.pick_person(people, prompt)
    box = people.boxes[i]
    assert box[0] < WALKER_CLICK[0] < box[2] and box[1] < WALKER_CLICK[1] < box[3]
    _check_person(mask, box, people.keypoints[i])
    assert not mask[:, :600].any()
    assert mask[WALKER_CLICK[1], WALKER_CLICK[0]]


@needs_pose
def test_given_detections_skip_the_model(frame0, seg):
    box, kp = seg.find_person(frame0, Prompt(STANDING))

    class Boom:
        name = "boom"

        def detect(self, *a, **k):
            raise AssertionError("the pose model must not run when detections are given")

    lazy = sp.PersonSegmenter(detector=Boom())
    dets = Detections(box[None].astype(np.float32), np.ones(1, np.float32), np.zeros(1, np.int32),
                      kp[None].astype(np.float32), {0: "person"})
    mask = binary(lazy.segment(frame0, Prompt(STANDING), detections=dets))
    _check_person(mask, box, kp)


@needs_pose
def test_prompt_on_nobody_is_an_error(frame0, seg):
    with pytest.raises(VisionError, match="person"):
        seg.segment(frame0, Prompt((40, 420, 160, 540)))  # the lawn at the bottom left


def test_pick_person_scores_box_and_points():
    boxes = np.array([[0, 0, 10, 20], [30, 0, 40, 20], [32, 2, 60, 40]], np.float32)
    kps = np.zeros((3, 17, 3), np.float32)
    people = Detections(boxes, np.ones(3, np.float32), np.zeros(3, np.int32), kps, {0: "person"})
    assert sp.pick_person(people, Prompt((29, 0, 41, 21))) == 1
    assert sp.pick_person(people, Prompt(points=((5, 5, True),))) == 0
    # a point inside two boxes: the one whose centre is nearer
    assert sp.pick_person(people, Prompt(points=((35, 8, True),))) == 1
    assert sp.pick_person(people, Prompt(points=((35, 8, True), (34, 9, False), (55, 35, True)))) == 2
    with pytest.raises(VisionError, match="no detected person"):
        sp.pick_person(people, Prompt(points=((100, 100, True),)))
    with pytest.raises(VisionError, match="no person found"):
        sp.pick_person(Detections.empty(), Prompt((0, 0, 5, 5)))


def test_skeleton_mask_draws_only_confident_limbs():
    kp = np.zeros((17, 3), np.float32)
    kp[5] = (20, 20, 0.9)  # left shoulder
    kp[11] = (20, 60, 0.9)  # left hip
    kp[7] = (60, 20, 0.1)  # an unsure elbow: no limb to it
    m = sp.skeleton_mask((80, 80), kp, 0.5, 3)
    assert m[40, 20] and m[20, 20] and m[60, 20]
    assert not m[20, 40] and not m[20, 60]


def test_unavailable_without_a_pose_model(monkeypatch):
    monkeypatch.setattr(sp, "_pose_models", lambda manager=None: [])
    why = sp.pose_unavailable()
    assert why is not None and "pose model" in why


@needs_pose
def test_registered_and_available():
    names = {n: why for n, _, why in segmenter_names()}
    assert "person" in names and names["person"] is None


@needs_pose
def test_big_people_are_found_whole_from_a_click(seg):
    """zidane.jpg: two men taller than the first crop around a click; the crop grows until they fit."""
    import cv2

    from tests.core.vision.roto_scene import ASSETS

    rgb = cv2.cvtColor(cv2.imread(str(ASSETS / "zidane.jpg")), cv2.COLOR_BGR2RGB)
    masks = []
    for x, y in ((520, 400), (900, 500)):  # Zidane's chest, Ancelotti's chest
        prompt = Prompt(points=((x, y, True),))
        box, kp = seg.find_person(rgb, prompt)
        assert box[3] - box[1] > 450 and box[0] < x < box[2]
        mask = binary(seg.segment(rgb, prompt))
        assert mask[y, x]
        _check_person(mask, box, kp, min_kp=5)  # their legs are out of the picture
        masks.append(mask)
    a, b = masks
    assert not a[500, 900] and not b[400, 520]  # each click's person only
    # they do overlap where Zidane's arm crosses in front of Ancelotti, but not much more
    assert np.count_nonzero(a & b) < 0.25 * min(np.count_nonzero(a), np.count_nonzero(b))
