"""Mattes -> contours -> Bezier shapes -> animated, corresponded roto tracks (core.vision.shapes)."""

from __future__ import annotations

import importlib.util
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.spatial import cKDTree

from core.errors import JobCancelled
from core.vision.roto_model import Spline, fill_polygon, rasterize_splines
from core.vision.shapes import (align, animation_from_mattes, feather_matte, fit_bezier, mask_to_polygons,
                                polygon_area, resample)
from core.vision.types import VisionError

_SPEC = importlib.util.find_spec("ultralytics")
ASSETS = Path(_SPEC.origin).parent / "assets" if _SPEC and _SPEC.origin else Path("ultralytics-missing")


# ---------------------------------------------------------------- helpers

def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a >= 128, b >= 128
    return float((a & b).sum() / max((a | b).sum(), 1))


def fill(width: int, height: int, *polygons) -> np.ndarray:
    m = np.zeros((height, width), np.uint8)
    for p in polygons:
        fill_polygon(m, p)
    return m


def rasterize_fits(matte: np.ndarray, tolerance: float = 1.0) -> np.ndarray:
    polys = mask_to_polygons(matte)
    return rasterize_splines([fit_bezier(p, tolerance) for p, _ in polys], matte.shape[1], matte.shape[0],
                             modes=[m for _, m in polys])


def rot(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def star(cx: float, cy: float, r_out: float, r_in: float, tips: int = 5) -> np.ndarray:
    ang = np.arange(2 * tips) * np.pi / tips
    r = np.where(np.arange(2 * tips) % 2 == 0, r_out, r_in)
    return np.c_[cx + r * np.sin(ang), cy - r * np.cos(ang)]


def circle(cx: float, cy: float, r: float, n: int = 256) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]


def l_shape_with_holes() -> np.ndarray:
    m = fill(200, 200, np.array([[20, 20], [90, 20], [90, 120], [180, 120], [180, 180], [20, 180]], float))
    hole = np.zeros_like(m)
    fill_polygon(hole, np.array([[40, 40], [70, 40], [70, 100], [40, 100]], float))
    fill_polygon(hole, circle(130, 150, 18))
    m[hole > 0] = 0
    return m


def densify(polygon: np.ndarray, step: float = 0.25) -> np.ndarray:
    p = np.asarray(polygon, float)
    q = np.roll(p, -1, axis=0)
    out = [p[i] + (q[i] - p[i]) * t[:, None]
           for i in range(len(p)) for t in [np.arange(0, 1, step / max(np.linalg.norm(q[i] - p[i]), 1e-9))]]
    return np.vstack(out)


def distances_to_curve(points: np.ndarray, spline: Spline, spacing: float = 0.02) -> np.ndarray:
    """Distance from each point to the curve, sampled at most ``spacing`` px apart."""
    rough = spline.sample(32).reshape(len(spline), 32, 2)
    longest = np.linalg.norm(np.diff(rough, axis=1), axis=2).sum(axis=1).max()
    return cKDTree(spline.sample(int(np.ceil(longest / spacing)) + 1)).query(points)[0]


def grabcut_person(name: str, rect: tuple[int, int, int, int]) -> np.ndarray:
    """A real silhouette: grabCut of a person in one of ultralytics' sample photos (largest region kept)."""
    path = ASSETS / name
    if not path.exists():
        pytest.skip(f"{name} (ultralytics sample photo) is not installed")
    image = cv2.imread(str(path))
    h, w = image.shape[:2]
    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    labels = np.zeros(small.shape[:2], np.uint8)
    cv2.setRNGSeed(1)  # grabCut's k-means start: the same silhouette whatever ran before in this thread
    cv2.grabCut(small, labels, tuple(v // 2 for v in rect), np.zeros((1, 65)), np.zeros((1, 65)), 4,
                cv2.GC_INIT_WITH_RECT)
    fg = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    fg = np.where(cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR) >= 128, 255, 0).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg)
    return np.where(lab == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA]), 255, 0).astype(np.uint8)


@pytest.fixture(scope="module")
def people() -> dict[str, np.ndarray]:
    return {"zidane": grabcut_person("zidane.jpg", (740, 40, 420, 680)),  # the man on the right, 1280x720
            "bus": grabcut_person("bus.jpg", (45, 385, 170, 520))}  # the man in the beige coat


# ---------------------------------------------------------------- contours

@pytest.mark.parametrize("seed", range(6))
def test_polygons_rebuild_the_matte_exactly(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(5, 60, 2)
    noise = (rng.random((h, w)) * 255).astype(np.uint8)
    matte = noise if seed % 2 else cv2.GaussianBlur(noise, (5, 5), 0)  # speckle, or blobs with holes and islands
    matte = np.where(matte >= 128, 255, 0).astype(np.uint8)
    polys = mask_to_polygons(matte)
    rebuilt = rasterize_splines([Spline.polygon(p) for p, _ in polys], w, h, steps=1, modes=[m for _, m in polys])
    assert np.array_equal(rebuilt > 0, matte > 0)
    assert all(polygon_area(p) > 0 for p, _ in polys)  # all clockwise on screen
    assert {m for _, m in polys} <= {"add", "subtract"}


def test_polygon_runs_through_crack_midpoints():
    matte = np.zeros((6, 8), np.uint8)
    matte[2, 3] = 255  # one pixel: its square is [3, 4] x [2, 3]
    (poly, mode), = mask_to_polygons(matte)
    assert mode == "add"
    assert sorted(map(tuple, poly)) == sorted([(3.5, 2.0), (4.0, 2.5), (3.5, 3.0), (3.0, 2.5)])
    assert polygon_area(poly) == pytest.approx(0.5)
    # a straight edge keeps only its ends; touching the frame border is fine
    matte[:] = 0
    matte[0:4, 0:5] = 255
    (poly, _), = mask_to_polygons(matte)
    assert len(poly) == 8 and np.all(poly >= 0)
    assert polygon_area(poly) == pytest.approx(20 - 0.5)  # the pixel count less the four cut corners


def test_holes_subtract_and_min_area_drops_specks():
    matte = l_shape_with_holes()
    matte[5:7, 5:7] = 255  # a speck
    polys = mask_to_polygons(matte)
    assert [m for _, m in polys] == ["add", "add", "subtract", "subtract"]
    polys = mask_to_polygons(matte, min_area=10)
    assert [m for _, m in polys] == ["add", "subtract", "subtract"]
    assert mask_to_polygons(np.zeros((10, 10), np.uint8)) == []
    with pytest.raises(VisionError):
        mask_to_polygons(np.zeros((4, 4, 3), np.uint8))


# ---------------------------------------------------------------- fitting

@pytest.mark.parametrize("name", ["circle", "star", "l_with_holes"])
def test_fit_synthetic_shapes(name):
    matte = {"circle": lambda: fill(160, 160, circle(80, 80, 50)),
             "star": lambda: fill(200, 200, star(100, 100, 85, 35)),
             "l_with_holes": l_shape_with_holes}[name]()
    score = iou(rasterize_fits(matte), matte)
    print(f"\n{name}: fit IoU {score:.4f}")
    assert score >= 0.97


def test_fit_real_silhouettes(people):
    for name, matte in people.items():
        h, w = matte.shape
        (poly, _), *_ = mask_to_polygons(matte)
        spline = fit_bezier(poly)
        score = iou(spline.rasterize(w, h), fill(w, h, poly))
        print(f"\n{name}: {len(spline)} vertices, IoU {score:.4f}")
        assert score >= 0.97
        assert len(spline) < len(poly) / 3  # a real simplification


def test_corners_become_vertices():
    matte = fill(200, 200, np.array([[20, 20], [90, 20], [90, 120], [180, 120], [180, 180], [20, 180]], float))
    spline = fit_bezier(mask_to_polygons(matte)[0][0])
    corners = np.array([[20, 20], [90, 20], [90, 120], [180, 120], [180, 180], [20, 180]], float)
    nearest = cKDTree(spline.vertices).query(corners)[0]
    assert np.all(nearest < 1.5), nearest
    assert polygon_area(spline.sample(8)) > 0  # the polygon's direction (clockwise) is kept


@pytest.mark.parametrize("tolerance", [0.75, 1.0, 2.0, 4.0])
def test_tolerance_is_honoured(tolerance, people):
    shapes = [mask_to_polygons(fill(200, 200, star(100, 100, 85, 35)))[0][0], mask_to_polygons(people["bus"])[0][0]]
    for poly in shapes:
        boundary = densify(poly)
        exact = fit_bezier(poly, tolerance, smooth=0)
        assert distances_to_curve(boundary, exact).max() <= tolerance + 0.05
        smoothed = fit_bezier(poly, tolerance)  # fits the lightly smoothed boundary: about half a pixel more
        d = distances_to_curve(boundary, smoothed)
        assert d.max() <= tolerance + 0.6 and np.percentile(d, 99) <= tolerance + 0.3
    counts = [len(fit_bezier(shapes[1], t)) for t in (1.0, 2.0, 4.0)]
    assert counts[0] > counts[1] > counts[2]


def test_fit_rejects_bad_input():
    with pytest.raises(VisionError):
        fit_bezier([[0, 0], [1, 1]])
    with pytest.raises(VisionError):
        fit_bezier([[0, 0], [10, 0], [0, 10]], tolerance=0)
    tiny = fit_bezier([[0, 0], [1, 0], [1, 1]])
    assert len(tiny) >= 3


# ---------------------------------------------------------------- resampling and alignment

def test_resample_keeps_the_shape(people):
    matte = people["bus"]
    h, w = matte.shape
    poly = mask_to_polygons(matte)[0][0]
    fit = fit_bezier(poly)
    target = fill(w, h, poly)
    for n in (len(fit), 2 * len(fit)):
        r = resample(fit, n)
        assert len(r) == n
        score = iou(r.rasterize(w, h), target)
        print(f"\nresampled to {n}: IoU {score:.4f} (fit {iou(fit.rasterize(w, h), target):.4f})")
        assert score >= 0.97
        # the new vertices lie on the fitted curve, equally spaced by its arc length
        dense = fit.sample(2048)
        arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
        dist, at = cKDTree(dense).query(r.vertices)
        assert dist.max() < 0.05
        spans = np.diff(np.unwrap(arc[at] / arc[-1] * 2 * np.pi)) / (2 * np.pi) * arc[-1]
        assert np.abs(spans - arc[-1] / n).max() < 0.05 * arc[-1] / n


def test_resample_is_exact_on_segments():
    square = Spline.polygon([[0, 0], [10, 0], [10, 10], [0, 10]])
    r = resample(square, 8)
    assert np.allclose(r.vertices, [[0, 0], [5, 0], [10, 0], [10, 5], [10, 10], [5, 10], [0, 10], [0, 5]])
    assert np.allclose(r.sample(32)[:, None], r.sample(32)[:, None])
    ellipse = fit_bezier(circle(100, 100, 50), 0.1)
    fine = resample(ellipse, 3 * len(ellipse), start=0.3)
    assert distances_to_curve(fine.sample(32), ellipse).max() < 0.02
    shifted = resample(square, 4, start=0.125)  # half a side along
    assert np.allclose(shifted.vertices[0], [5, 0])


def test_align_recovers_orientation_and_start():
    fit = fit_bezier(mask_to_polygons(fill(200, 200, star(100, 100, 85, 35)))[0][0])
    ref = resample(fit, 40)
    scrambled = Spline(np.roll(ref.vertices, 7, axis=0)[::-1], np.roll(ref.out_tangents, 7, axis=0)[::-1],
                       np.roll(ref.in_tangents, 7, axis=0)[::-1])
    assert polygon_area(scrambled.sample(8)) < 0
    back = align(scrambled, ref)
    assert np.allclose(back.vertices, ref.vertices)
    assert np.allclose(back.in_tangents, ref.in_tangents) and np.allclose(back.out_tangents, ref.out_tangents)
    # sliding: a moved copy of a smooth shape, started a third of a spacing further on (or with another
    # point count), comes back to the reference's start
    smooth = fit_bezier(circle(0, 0, 1) * (70, 45) + (100, 100), 0.2)
    ref = resample(smooth, 40)
    for moved in (resample(smooth, 40, start=(1 / 3) / 40), resample(smooth, 29, start=0.4), smooth):
        slid = align(moved.translated(12, -5), ref, slide=True)
        assert np.abs(slid.vertices - (ref.vertices + (12, -5))).max() < 0.05
    with pytest.raises(VisionError):
        align(resample(fit, 30), ref)


# ---------------------------------------------------------------- animations

W, H = 320, 240
HEXAGON = np.array([[-60, -40], [20, -50], [60, -10], [40, 45], [-10, 30], [-50, 50]], float)
ELLIPSE = circle(0, 0, 1) * (70, 45)
STAR = star(0, 0, 80, 35)


def moving(shape: np.ndarray, turn: float, step, frames: int = 30):
    centre = np.array([150.0, 115.0])
    place = lambda i, pts: pts @ rot(turn * i).T + centre + np.asarray(step) * i  # noqa: E731
    unplace = lambda i, pts: (pts - centre - np.asarray(step) * i) @ rot(turn * i)  # noqa: E731
    mattes = (fill(W, H, place(i, shape)) for i in range(frames))  # a generator: streamed
    return place, unplace, mattes


@pytest.mark.parametrize("name, shape, turn", [("hexagon", HEXAGON, 1.5), ("star", STAR, 1.5),
                                               ("ellipse", ELLIPSE, 4.0), ("hexagon", HEXAGON, 0.0)])
def test_points_follow_the_true_motion(name, shape, turn):
    place, unplace, mattes = moving(shape, turn, (2.0, 0.7))
    anim = animation_from_mattes("obj", range(30), mattes, W, H, Fraction(25))
    (track,) = anim.tracks
    assert list(track.frames) == list(range(30))
    v = track.vertices
    # where each vertex would go if it were glued to the shape, against where it went
    step = np.array([np.linalg.norm(place(i + 1, unplace(i, v[i])) - v[i + 1], axis=1) for i in range(29)])
    drift = np.linalg.norm(place(29, unplace(0, v[0])) - v[29], axis=1)
    spacing = np.linalg.norm(np.diff(v[0], axis=0), axis=1).mean()
    print(f"\n{name} turning {turn} deg/frame: {track.point_count} points {spacing:.1f} px apart; "
          f"frame-to-frame error mean {step.mean():.2f} max {step.max():.2f} px, drift over 29 frames "
          f"mean {drift.mean():.2f} max {drift.max():.2f} px")
    assert step.mean() < 1.0 and step.max() < min(3.0, spacing / 3)  # no start jumps, no sliding
    assert drift.mean() < 2.0 and drift.max() < 4.0
    for i in range(0, 30, 7):
        key = track.key(i)
        assert polygon_area(key.sample(8)) > 0  # never flipped
        assert iou(key.rasterize(W, H), fill(W, H, place(i, shape))) >= 0.97


def test_round_shape_does_not_spin():
    place, unplace, mattes = moving(circle(0, 0, 60), 0.0, (2.5, -1.0))
    (track,) = animation_from_mattes("disc", range(30), mattes, W, H, 25).tracks
    drift = np.linalg.norm(place(29, unplace(0, track.vertices[0])) - track.vertices[29], axis=1)
    assert drift.max() < 3.0


def test_real_silhouette_animation(people):
    matte = people["bus"]
    h, w = matte.shape
    shifts = [(np.float32([[1, 0, 3 * i], [0, 1, -i]])) for i in range(8)]
    mattes = (cv2.warpAffine(matte, m, (w, h), flags=cv2.INTER_NEAREST) for m in shifts)
    start = time.perf_counter()
    anim = animation_from_mattes("man", range(8), mattes, w, h, Fraction(30000, 1001))
    per_frame = (time.perf_counter() - start) / 8
    (track,) = [t for t in anim.tracks if t.mode == "add"]  # (a hole in the silhouette adds a subtract track)
    print(f"\nbus.jpg man: {track.point_count} points per key, {per_frame * 1000:.0f} ms per frame")
    for i in (0, 7):
        expected = cv2.warpAffine(matte, shifts[i], (w, h), flags=cv2.INTER_NEAREST)
        assert iou(anim.rasterize(i), expected) >= 0.97
    motion = np.diff(track.vertices, axis=0) - np.array([3.0, -1.0])
    assert np.abs(motion).mean() < 1.0


def smoothing_case(**kw):
    rng = np.random.default_rng(3)
    jitter = rng.normal(0, 1.5, (20, 2))

    def mattes():
        for i in range(20):
            yield fill(W, H, HEXAGON @ rot(i).T + (150 + i + jitter[i, 0], 115 + jitter[i, 1]))

    return animation_from_mattes("obj", range(20), mattes(), W, H, 25, **kw).tracks[0]


def test_smoothing_never_moves_locked_frames():
    raw = smoothing_case(point_count=24)
    for spec in (2.0, {"method": "savgol", "window": 7, "order": 2, "blend": 2}):
        smooth = smoothing_case(point_count=24, smoothing=spec, locked_frames=[5, 12])
        for k in (5, 12):
            assert np.array_equal(smooth.vertices[k], raw.vertices[k])
            assert np.array_equal(smooth.in_tangents[k], raw.in_tangents[k])
            assert np.array_equal(smooth.out_tangents[k], raw.out_tangents[k])
        assert np.abs(smooth.vertices[8] - raw.vertices[8]).max() > 0.1  # the others were smoothed
        # smoothing takes out jitter: frame-to-frame centroid motion is steadier
        jerk = lambda tr: np.abs(np.diff(tr.vertices.mean(axis=1), n=2, axis=0)).mean()  # noqa: E731
        assert jerk(smooth) < jerk(raw)


def test_user_keys_are_kept_verbatim():
    raw = smoothing_case(point_count=24)
    mine = raw.key(10).translated(3.0, 0.0)
    track = smoothing_case(smoothing=1.5, locked_frames={10: mine})
    assert track.point_count == 24
    assert np.array_equal(track.vertices[10], mine.vertices)
    assert np.array_equal(track.out_tangents[10], mine.out_tangents)
    with pytest.raises(VisionError):
        smoothing_case(point_count=30, locked_frames={10: mine})


def test_empty_frames_get_no_key_and_split_smoothing():
    def mattes():
        for i in range(12):
            yield np.zeros((H, W), np.uint8) if 4 <= i <= 6 else fill(W, H, HEXAGON + (150 + 2 * i, 115))

    calls = []
    anim = animation_from_mattes("obj", range(12), mattes(), W, H, 25, smoothing=1.0,
                                 progress=lambda f, msg="": calls.append(f))
    assert list(anim.tracks[0].frames) == [0, 1, 2, 3, 7, 8, 9, 10, 11]
    assert calls[-1] == 1.0
    with pytest.raises(VisionError, match="no frame has a shape"):
        animation_from_mattes("obj", range(3), [np.zeros((H, W), np.uint8)] * 3, W, H, 25)


def test_holes_become_subtract_tracks_when_always_there():
    def donut(i, with_hole=True):
        m = fill(W, H, circle(120 + 3 * i, 120, 70))
        if with_hole:
            m[fill(W, H, circle(120 + 3 * i, 120, 30)) > 0] = 0
        return m

    anim = animation_from_mattes("ring", range(10), (donut(i) for i in range(10)), W, H, 25, feather=(1.0, 2.0))
    assert [t.mode for t in anim.tracks] == ["add", "subtract"]
    assert anim.tracks[1].feather_outer == 2.0
    for i in (0, 9):
        assert iou(anim.rasterize(i), donut(i)) >= 0.97
    flicker = animation_from_mattes("ring", range(10), (donut(i, i % 3 != 0) for i in range(10)), W, H, 25)
    assert [t.mode for t in flicker.tracks] == ["add"]
    plain = animation_from_mattes("ring", range(10), (donut(i) for i in range(10)), W, H, 25, holes=False)
    assert len(plain.tracks) == 1


def test_cancel_and_matte_types():
    good = fill(W, H, HEXAGON + (150, 115))
    with pytest.raises(JobCancelled):
        animation_from_mattes("o", range(3), [good] * 3, W, H, 25, cancelled=lambda: True)
    as_bool = animation_from_mattes("o", [0], [good > 0], W, H, 25, point_count=20).tracks[0]
    as_float = animation_from_mattes("o", [0], [good / 255.0], W, H, 25, point_count=20).tracks[0]
    assert np.allclose(as_bool.vertices, as_float.vertices)


def test_animation_input_errors():
    good = fill(W, H, HEXAGON + (150, 115))
    with pytest.raises(VisionError, match="matte is"):
        animation_from_mattes("o", [0], [good[:100]], W, H, 25)
    with pytest.raises(VisionError, match="increase"):
        animation_from_mattes("o", [3, 2], [good, good], W, H, 25)
    with pytest.raises(VisionError):
        animation_from_mattes("o", [0], [good], W, H, 25, smoothing={"method": "median"})
    with pytest.raises(VisionError):
        animation_from_mattes("o", [0], [good], W, H, 25, tolerance=-1)


# ---------------------------------------------------------------- feathering

def test_feather_ramp_values():
    hard = np.zeros((20, 100), np.uint8)
    hard[:, :50] = 255  # the edge is the line x = 50, between columns 49 and 50; x = 0 is the frame border
    soft = feather_matte(hard, inner=4, outer=4)
    assert soft.dtype == np.float32
    row = soft[10]
    # value = clip((s + outer) / (inner + outer)), s = signed distance of the pixel centre (inside +)
    expect = {45: 1.0, 46: 7.5 / 8, 47: 6.5 / 8, 48: 5.5 / 8, 49: 4.5 / 8, 50: 3.5 / 8, 53: 0.5 / 8, 54: 0.0, 0: 1.0}
    for col, value in expect.items():
        assert row[col] == pytest.approx(value, abs=1e-6), col
    assert np.array_equal(feather_matte(hard, 0, 0), (hard > 0).astype(np.float32))
    outer_only = feather_matte(hard, 0, 3)[10]
    assert outer_only[49] == 1.0 and outer_only[50] == pytest.approx(2.5 / 3) and outer_only[53] == 0.0
    inner_only = feather_matte(hard, 3, 0)[10]
    assert inner_only[50] == 0.0 and inner_only[49] == pytest.approx(0.5 / 3) and inner_only[46] == 1.0


def test_feather_follows_the_distance_to_a_curved_edge():
    hard = fill(200, 200, circle(100, 100, 50, 720))
    soft = feather_matte(hard, inner=5, outer=10)
    yy, xx = np.mgrid[0:200, 0:200] + 0.5
    s = 50 - np.hypot(xx - 100, yy - 100)  # signed distance to the true circle
    band = np.abs(s) < 12
    expected = np.clip((s + 10) / 15, 0, 1)
    assert np.abs(soft[band] - expected[band]).max() < 0.06  # within a pixel's quantisation
    assert soft[100, 100] == 1.0 and soft[0, 0] == 0.0
    assert feather_matte(np.zeros((5, 5), bool), 2, 2).max() == 0.0
    with pytest.raises(VisionError):
        feather_matte(hard, -1, 0)


# ---------------------------------------------------------------- speed (printed)

def test_fit_speed_720p(people):
    """Contour + fit of a person-sized real silhouette on a 1280x720 frame (printed; loose bound for shared CI)."""
    matte = people["zidane"]
    assert matte.shape == (720, 1280)
    fit_bezier(mask_to_polygons(matte)[0][0])  # warm-up (imports)
    wall, cpu = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        poly = mask_to_polygons(matte)[0][0]
        spline = fit_bezier(poly)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best = min(wall) * 1000
    print(f"\n720p person silhouette ({int((matte > 0).sum())} px, {len(poly)} contour points, {len(spline)} "
          f"vertices): contour + fit {best:.1f} ms wall (median {np.median(wall) * 1000:.1f}), "
          f"{min(cpu) * 1000:.1f} ms CPU")
    assert best < 200
