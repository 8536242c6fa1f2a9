"""Indicators: each style draws where the track says, nothing on lost frames, head anchor from keypoints."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.errors import LumaError
from core.render.overlay import (
    STYLES,
    Anchor,
    OverlayStyle,
    TrackOverlay,
    draw_indicator,
    head_top,
    label_geometry,
    marker_geometry,
    parse_color,
    ring_thickness,
    spotlight_ellipse,
)
from core.vision.types import TrackPoint, TrackResult

W, H = 1280, 720
GREY = 100
MAGENTA = (255, 0, 255)
BOX = (540.0, 250.0, 740.0, 650.0)


def grey() -> np.ndarray:
    return np.full((H, W, 3), GREY, np.uint8)


def anchor(box=BOX) -> Anchor:
    x1, y1, x2, y2 = box
    return Anchor((x1 + x2) / 2, y1, y2 - y1, box)


def circle_points(cx, cy, r, n=24):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.round(cx + r * np.cos(a)).astype(int), np.round(cy + r * np.sin(a)).astype(int)


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 0


def test_parse_color():
    assert parse_color("#ff8000") == (255, 128, 0)
    assert parse_color("FF8000") == (255, 128, 0)
    assert parse_color("#f80") == (255, 136, 0)
    assert parse_color("red") == (235, 40, 40)
    assert parse_color((1, 2, 3)) == (1, 2, 3)
    for bad in ("#12345", "banana", "#gg0000", (1, 2), (0, 0, 256)):
        with pytest.raises(LumaError, match="colour"):
            parse_color(bad)


def test_style_validation():
    with pytest.raises(LumaError, match="dot, ring"):
        OverlayStyle("halo")
    with pytest.raises(LumaError):
        OverlayStyle("ring", scale=0)


def test_dot_is_a_filled_disc_above_the_box():
    img = grey()
    a, st = anchor(), OverlayStyle("dot", MAGENTA)
    draw_indicator(img, a, st)
    cx, cy, r = marker_geometry(a, st, (W, H))
    assert cy + r < BOX[1]  # above the head
    assert abs(cx - 640) < 1e-6
    assert tuple(img[round(cy), round(cx)]) == MAGENTA
    xs, ys = circle_points(cx, cy, r * 0.6)
    assert (img[ys, xs] == MAGENTA).all()
    mask = changed(grey(), img)
    ys, xs = np.nonzero(mask)
    assert np.hypot(xs - cx, ys - cy).max() <= r * 1.1 + 2  # nothing outside the dot and its dark edge


def test_ring_colour_at_the_ring_radius_and_hollow_inside():
    img = grey()
    a, st = anchor(), OverlayStyle("ring", MAGENTA)
    draw_indicator(img, a, st)
    cx, cy, r = marker_geometry(a, st, (W, H))
    assert r == pytest.approx(0.055 * 400)
    xs, ys = circle_points(cx, cy, r)
    np.testing.assert_allclose(img[ys, xs], np.tile(MAGENTA, (len(xs), 1)), atol=40)
    inner = r - ring_thickness(r) / 2 - 3
    xs, ys = circle_points(cx, cy, inner * 0.5)
    assert (img[ys, xs] == GREY).all()
    assert tuple(img[round(cy), round(cx)]) == (GREY,) * 3
    ys, xs = np.nonzero(changed(grey(), img))
    d = np.hypot(xs - cx, ys - cy)
    assert d.max() <= r + (ring_thickness(r) + 2) / 2 + 3 and d.min() >= inner - 2  # ring + dark edge


def test_glow_brightens_around_the_marker_and_fades():
    img = grey()
    a, st = anchor(), OverlayStyle("glow", (255, 200, 0))
    draw_indicator(img, a, st)
    cx, cy, r = marker_geometry(a, st, (W, H))
    centre = img[round(cy), round(cx)].astype(int)
    assert centre.min() > 180 and centre.sum() > 650  # bright, whitish core
    at = [img[round(cy), round(cx + k * r)].astype(int).sum() for k in (0, 0.5, 1, 1.5, 2)]
    assert all(x >= y for x, y in zip(at, at[1:])) and at[0] > at[-1]  # falls off with distance
    ring1 = img[round(cy), round(cx + r)].astype(int)
    assert ring1[0] > GREY + 40 and ring1[2] == GREY  # tinted by the colour (blue stays)
    ys, xs = np.nonzero(changed(grey(), img))
    assert np.hypot(xs - cx, ys - cy).max() <= 3 * r + 2
    assert tuple(img[10, 10]) == (GREY,) * 3


def test_spotlight_keeps_the_subject_and_darkens_far_pixels():
    img = np.full((H, W, 3), 200, np.uint8)
    st = OverlayStyle("spotlight", dim=0.3)
    a = anchor()
    draw_indicator(img, a, st)
    cx, cy, ax, ay = spotlight_ellipse(BOX)
    # the subject: the whole box interior inside the ellipse is untouched
    assert (img[300:600, 580:700] == 200).all()
    assert (img[round(cy), round(cx)] == 200).all()
    # far away: darkened to dim
    for y, x in ((5, 5), (H - 5, W - 5), (360, 100), (360, 1200)):
        assert abs(int(img[y, x, 0]) - 60) <= 1
    # the soft edge lies in between, brightness decreasing outwards
    row = img[round(cy), round(cx):W, 0].astype(int)
    assert (np.diff(row) <= 1).all() and row[0] == 200 and row[-1] == 60


def test_label_box_above_the_head_with_the_name():
    img = grey()
    st = OverlayStyle("label", (40, 110, 255), name="Player 7")
    a = anchor()
    draw_indicator(img, a, st)
    x1, y1, x2, y2, *_ = label_geometry(a, st, (W, H), "Player 7")
    assert y2 <= BOX[1] and x1 < 640 < x2  # above the head, centred on it
    patch = img[y1 + 1:y2 - 1, x1 + 1:x2 - 1]
    is_bg = (patch == (40, 110, 255)).all(axis=2)
    is_text = (patch.astype(int).sum(axis=2) > 600)  # white text on the dark-ish blue
    assert is_bg.mean() > 0.5 and is_text.mean() > 0.03
    below = img[round(BOX[1]) + 2:, :]
    assert (below == GREY).all()  # nothing drawn on the subject


def test_nothing_drawn_on_lost_frames_and_outside_the_track():
    frames = [TrackPoint(i, BOX, 0.9, lost=(i in (3, 4))) for i in range(8)]
    frames[6] = TrackPoint(6, None, 0.0, True)
    track = TrackResult("x.mp4", 25.0, (W, H), "csrt", frames)
    for kind in STYLES:
        ov = TrackOverlay(track, OverlayStyle(kind, name="A"), (W, H))
        for i in range(-1, 10):
            img = grey()
            drew = ov.draw(img, i)
            expect = i in (0, 1, 2, 5, 7)
            assert drew == expect and (img != GREY).any() == expect, (kind, i)


def test_track_scaled_to_the_output_size():
    track = TrackResult("x.mp4", 25.0, (1920, 1080), "csrt", [TrackPoint(0, (810, 375, 1110, 975), 1.0, False)])
    ov = TrackOverlay(track, OverlayStyle("ring", MAGENTA, smooth=0), (W, H))
    a = ov.anchor(0)
    assert a.box == pytest.approx(BOX) and (a.x, a.y, a.size) == pytest.approx((640, 250, 400))


def test_track_frame_by_time_when_rates_differ():
    frames = [TrackPoint(i, (100 + i, 100, 200 + i, 300), 1.0, False) for i in range(30)]
    track = TrackResult("x.mp4", 30.0, (W, H), "csrt", frames)
    ov = TrackOverlay(track, OverlayStyle("dot", smooth=0), (W, H), video_rate=15.0)
    assert ov.anchor(5).box[0] == pytest.approx(110)  # video frame 5 at 15 fps = track frame 10


def test_keypoint_anchor_is_above_the_head_not_the_box_top():
    # arms raised: the box top is far above the head; the head is left of the box centre
    box = (400.0, 100.0, 700.0, 700.0)
    kp = np.zeros((17, 3))
    kp[0] = (500, 260, 0.9)  # nose
    kp[1], kp[2] = (490, 250, 0.9), (510, 250, 0.9)  # eyes
    kp[3], kp[4] = (480, 255, 0.8), (520, 255, 0.8)  # ears
    kp[5], kp[6] = (450, 330, 0.9), (550, 330, 0.9)  # shoulders
    x, y = head_top(box, kp)
    assert x == pytest.approx(500, abs=1)
    assert y == pytest.approx(250 - 0.55 * 80, abs=1)  # eyes 80 px above the shoulders
    assert head_top(box, None) == (550, 100)
    # low-confidence keypoints are ignored -> the box top
    weak = kp.copy()
    weak[:, 2] = 0.1
    assert head_top(box, weak) == (550, 100)
    # only shoulders visible (head turned away / cut off)
    sh = np.zeros((17, 3))
    sh[5], sh[6] = (450, 330, 0.9), (550, 330, 0.9)
    assert head_top(box, sh) == pytest.approx((500, 330 - 90))

    track = TrackResult("x.mp4", 25.0, (W, H), "pose",
                        [TrackPoint(0, box, 0.9, False, kp.tolist())])
    st = OverlayStyle("dot", MAGENTA, smooth=0)
    ov = TrackOverlay(track, st, (W, H))
    img = grey()
    ov.draw(img, 0)
    cx, cy, r = marker_geometry(ov.anchor(0), st, (W, H))
    assert cx == pytest.approx(500, abs=1) and cy + r < 250 - 0.55 * 80 and cy - r > 100
    assert tuple(img[round(cy), round(cx)]) == MAGENTA
    assert not changed(grey(), img)[:, 560:].any()  # nothing at the box centre column


def test_smoothing_keeps_linear_motion_and_damps_jitter():
    rng = np.random.default_rng(1)
    frames = [TrackPoint(i, (100 + 4 * i, 200, 200 + 4 * i, 400), 1.0, False) for i in range(40)]
    ov = TrackOverlay(TrackResult("x", 25.0, (W, H), "t", frames), OverlayStyle("dot", smooth=1.5), (W, H))
    for i in range(5, 35):
        assert ov.anchor(i).x == pytest.approx(150 + 4 * i, abs=1e-6)  # zero lag in the middle of a run
    noisy = [TrackPoint(i, (300 + rng.normal(0, 4), 200, 400, 400), 1.0, False) for i in range(60)]
    track = TrackResult("x", 25.0, (W, H), "t", noisy)
    raw = np.array([TrackOverlay(track, OverlayStyle("dot", smooth=0), (W, H)).anchor(i).x for i in range(60)])
    smooth = np.array([TrackOverlay(track, OverlayStyle("dot", smooth=1.5), (W, H)).anchor(i).x
                       for i in range(60)])
    assert np.std(np.diff(smooth)) < 0.5 * np.std(np.diff(raw))


def test_indicator_kept_inside_the_frame_at_the_top():
    img = grey()
    a, st = anchor((600, 2, 700, 300)), OverlayStyle("ring", MAGENTA)
    draw_indicator(img, a, st)
    cx, cy, r = marker_geometry(a, st, (W, H))
    assert cy - r >= 0
    assert changed(grey(), img).any()


@pytest.mark.parametrize("kind,budget_ms", [("dot", 5), ("ring", 5), ("label", 5), ("glow", 10), ("spotlight", 10)])
def test_fast_at_720p(kind, budget_ms):
    base = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    st = OverlayStyle(kind, name="Player 7")
    times = []
    for _ in range(30):
        img = base.copy()
        t = time.perf_counter()
        draw_indicator(img, anchor(), st)
        times.append(time.perf_counter() - t)
    assert np.median(times) * 1000 < budget_ms
