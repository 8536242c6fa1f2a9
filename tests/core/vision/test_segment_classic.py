"""The classic (grabCut + guided filter) segmenter on the semi-synthetic roto scene, and its prompt checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.vision.segment import Prompt, binary, create_segmenter, segmenter_names
from core.vision.segment_classic import ClassicSegmenter
from core.vision.types import VisionError
from tests.core.vision.roto_scene import boundary_f, make_scene, region_similarity


@pytest.fixture(scope="module")
def scene():
    s = make_scene(n_frames=40)
    yield s
    s.close()


@pytest.fixture(scope="module")
def seg():
    return ClassicSegmenter()


def _grow(box, f):
    x1, y1, x2, y2 = box
    dw, dh = (x2 - x1) * f / 2, (y2 - y1) * f / 2
    return (x1 - dw, y1 - dh, x2 + dw, y2 + dh)


def _interior_point(gt: np.ndarray) -> tuple[int, int]:
    """The gt pixel farthest from its edge (always inside, whatever the blob's shape)."""
    d = cv2.distanceTransform(gt.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(d), d.shape)
    return int(x), int(y)


def test_metrics_behave():
    gt = np.zeros((100, 100), bool)
    gt[20:60, 30:70] = True
    assert region_similarity(gt, gt) == 1.0 and boundary_f(gt, gt) == 1.0
    shifted = np.roll(gt, 10, axis=1)
    assert region_similarity(shifted, gt) == pytest.approx(30 / 50)
    assert boundary_f(shifted, gt) < 0.7
    assert boundary_f(np.roll(gt, 1, axis=1), gt) == 1.0  # within the 1-px tolerance of a 141-px diagonal
    empty = np.zeros_like(gt)
    assert region_similarity(empty, empty) == 1.0 and boundary_f(empty, empty) == 1.0
    assert region_similarity(empty, gt) == 0.0 and boundary_f(empty, gt) == 0.0


@pytest.mark.parametrize("grow", [0.0, 0.08])
@pytest.mark.parametrize("index", [0, 30])
def test_box_prompt_matches_ground_truth(scene, seg, index, grow):
    frame, gt = scene.frame(index), scene.gt(index)
    matte = seg.segment(frame, Prompt(_grow(scene.box(index), grow)))
    pred = binary(matte)
    assert region_similarity(pred, gt) >= 0.85
    assert boundary_f(pred, gt) >= 0.8


def test_matte_shape_dtype_and_soft_edge(scene, seg):
    frame, gt = scene.frame(0), scene.gt(0)
    box = scene.box(0)
    matte = seg.segment(frame, Prompt(box), key=0)
    assert matte.shape == gt.shape and matte.dtype == np.uint8
    assert matte.max() == 255 and matte.min() == 0
    soft = (matte > 0) & (matte < 255)
    assert soft.any()  # the guided filter's soft edge survives ...
    # ... but only on a thin band around the hard edge
    hard = binary(matte).astype(np.uint8)
    band = cv2.dilate(hard, np.ones((7, 7), np.uint8)) & ~cv2.erode(hard, np.ones((7, 7), np.uint8)).astype(bool)
    assert not (soft & ~band.astype(bool)).any()
    # nothing far outside the prompt
    x1, y1, x2, y2 = box
    outside = np.ones_like(gt)
    outside[max(0, y1 - 40):y2 + 40, max(0, x1 - 40):x2 + 40] = False
    assert not matte[outside].any()
    # the kept object is one piece
    n, _ = cv2.connectedComponents(hard)
    assert n == 2


def test_points_only_prompt(scene, seg):
    frame, gt = scene.frame(0), scene.gt(0)
    x, y = _interior_point(gt)
    pred = binary(seg.segment(frame, Prompt(points=((x, y, True),))))
    assert pred[y, x]
    assert region_similarity(pred, gt) >= 0.8


def test_negative_point_removes_a_region(scene, seg):
    """A negative click on the dark upper part of the object takes that part out and keeps the rest."""
    frame, gt = scene.frame(0), scene.gt(0)
    box = scene.box(0)
    lum = cv2.blur(frame.mean(axis=2).astype(np.float32), (9, 9))
    inner = cv2.erode(gt.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    y, x = np.unravel_index(np.argmin(np.where(inner, lum, np.inf)), lum.shape)
    assert lum[y, x] < 60  # the texture has a dark window there
    before = binary(seg.segment(frame, Prompt(box)))
    after = binary(seg.segment(frame, Prompt(box, ((x, y, False),))))
    assert before[y, x] and not after[y, x]
    dark = inner & (lum < 60)
    assert np.count_nonzero(after & dark) < 0.2 * np.count_nonzero(dark)
    assert np.count_nonzero(after) < 0.85 * np.count_nonzero(before)
    # what is left is still the object, not background
    assert np.count_nonzero(after & gt) >= 0.95 * np.count_nonzero(after)
    assert np.count_nonzero(after) > 0.25 * np.count_nonzero(gt)


def test_box_touching_the_frame_edge_and_whole_frame(seg):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 60, (120, 160, 3), dtype=np.uint8)
    img[30:120, 0:70] = (200, 40, 40)  # a red block touching the left and bottom edges
    pred = binary(seg.segment(img, Prompt((0, 25, 75, 120))))
    truth = np.zeros((120, 160), bool)
    truth[30:120, 0:70] = True
    assert region_similarity(pred, truth) >= 0.9
    whole = seg.segment(img, Prompt((0, 0, 160, 120)))  # no background outside the box: must still work
    assert whole.shape == (120, 160)


@pytest.mark.parametrize("make, match", [
    (lambda f: (f.astype(np.float32), Prompt((10, 10, 50, 50))), "uint8"),
    (lambda f: (f[..., 0], Prompt((10, 10, 50, 50))), "shape"),
    (lambda f: (f.tolist(), Prompt((10, 10, 50, 50))), "array"),
    (lambda f: (f, (10, 10, 50, 50)), "Prompt"),
    (lambda f: (f, Prompt((900, 700, 950, 720))), "outside"),
    (lambda f: (f, Prompt(points=((-5, 40, True),))), "outside"),
    (lambda f: (f, Prompt((10, 10, 11, 11), ((10.5, 10.5, False),))), "foreground|2x2"),
])
def test_bad_input_raises_vision_error(scene, seg, make, match):
    frame = scene.frame(0)
    img, prompt = make(frame)
    with pytest.raises(VisionError, match=match):
        seg.segment(img, prompt)


def test_bad_prompts_are_refused_at_construction():
    with pytest.raises(VisionError, match="empty"):
        Prompt((50, 50, 40, 60))
    with pytest.raises(VisionError, match="positive"):
        Prompt(points=((10, 10, False),))
    with pytest.raises(VisionError):
        ClassicSegmenter(work_size=8)


def test_registered_as_classic():
    assert isinstance(create_segmenter("classic"), ClassicSegmenter)
    names = {n: why for n, _, why in segmenter_names()}
    assert names["classic"] is None


def test_sure_foreground_is_kept_and_checked(scene, seg):
    """A negative click takes the dark part away; sure foreground on a spot of that part keeps the spot."""
    frame, gt = scene.frame(0), scene.gt(0)
    box = scene.box(0)
    lum = cv2.blur(frame.mean(axis=2).astype(np.float32), (9, 9))
    inner = cv2.erode(gt.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    y, x = np.unravel_index(np.argmin(np.where(inner, lum, np.inf)), lum.shape)
    prompt = Prompt(box, ((x, y, False),))
    without = binary(seg.segment(frame, prompt))
    removed = inner & (lum < 60) & ~without
    ys, xs = np.nonzero(removed)
    far = np.hypot(xs - x, ys - y) > 12
    assert far.any()
    k = np.flatnonzero(far)[0]
    sy, sx = ys[k], xs[k]
    sure = np.zeros_like(gt)
    sure[sy - 3:sy + 4, sx - 3:sx + 4] = True
    assert binary(seg.segment(frame, prompt, sure_fg=sure))[sy, sx]
    with pytest.raises(VisionError, match="sure_fg"):
        seg.segment(frame, Prompt(box), sure_fg=sure[:-1])
