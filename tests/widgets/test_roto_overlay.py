"""RotoOverlay over both frame viewers: prompts, Bezier editing with real mouse events, matte tint, onion skins."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from core.vision.roto_model import Spline, rasterize_splines
from widgets.viewer import GLViewer, RasterViewer, opengl_unavailable_reason
from widgets.viewer.roto_overlay import (BOX_COLOUR, NEGATIVE_COLOUR, POSITIVE_COLOUR, SHAPE_COLOUR,
                                         RotoOverlay)
from widgets.viewer.roto_tools import (nearest_on_curve, offset_outline, onion_alpha, move_handle,
                                       remove_vertex, split_segment)

FRAME_W, FRAME_H = 160, 120
GREY = 60
KAPPA = 0.5522847498  # cubic Bezier handle length of a quarter circle, per unit radius


def circle(cx=80.0, cy=60.0, r=40.0, n=4) -> Spline:
    """A Bezier circle: vertices clockwise on screen (y down), smooth handles."""
    theta = np.arange(n) * 2 * np.pi / n
    v = np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)])
    k = 4.0 / 3.0 * np.tan(np.pi / (2 * n)) * r
    out = k * np.column_stack([-np.sin(theta), np.cos(theta)])
    return Spline(v, -out, out)


def rgb_of(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def grab(viewer) -> np.ndarray:
    return rgb_of(viewer.grab().toImage())


def pixel(pixels: np.ndarray, point: QPointF) -> np.ndarray:
    return pixels[int(point.y()), int(point.x())].astype(int)


def patch(pixels: np.ndarray, point: QPointF, radius: int = 2) -> np.ndarray:
    x, y = int(round(point.x())), int(round(point.y()))
    return pixels[max(0, y - radius): y + radius + 1, max(0, x - radius): x + radius + 1].astype(int).reshape(-1, 3)


def has_colour(pixels, point, c, radius=2, tol=8) -> bool:
    want = np.array([c.red(), c.green(), c.blue()])
    return bool((np.abs(patch(pixels, point, radius) - want).max(axis=1) <= tol).any())


def is_grey(pixels, point, radius=2) -> bool:
    return bool((np.abs(patch(pixels, point, radius) - GREY).max() <= 2))


@pytest.fixture(params=[pytest.param("gl", marks=pytest.mark.gl), "raster"])
def viewer(request, qtbot):
    if request.param == "gl":
        reason = opengl_unavailable_reason()
        if reason is not None:
            pytest.skip(f"GLViewer needs an X server with OpenGL (pytest-xvfb): {reason}")
        v = GLViewer()
    else:
        v = RasterViewer()
    qtbot.addWidget(v)
    v.setFixedSize(400, 300)
    v.show()
    qtbot.waitExposed(v)
    v.set_frame(np.full((FRAME_H, FRAME_W, 3), GREY, np.uint8))
    qtbot.wait(20)
    return v


@pytest.fixture
def overlay(viewer):
    return RotoOverlay(viewer)


class Recorder:
    """Collects every edit signal of an overlay."""

    def __init__(self, overlay: RotoOverlay):
        self.edits, self.splines, self.selections = [], [], []
        overlay.shapeEdited.connect(lambda old, new: self.edits.append((old, new)))
        overlay.splineEdited.connect(lambda i, old, new: self.splines.append((i, old, new)))
        overlay.selectionChanged.connect(lambda s, k: self.selections.append((s, k)))


def wpoint(viewer, x, y) -> QPointF:
    return viewer.map_from_image(QPointF(float(x), float(y)))


def settle(qtbot, viewer):
    viewer.update()
    qtbot.wait(30)


def drag(qtbot, widget, a: QPoint, b: QPoint, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, pos=a)
    qtbot.mouseMove(widget, pos=(a + b) / 2)
    qtbot.mouseMove(widget, pos=b)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, pos=b)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return float((a & b).sum() / max(1, (a | b).sum()))


# ---------------------------------------------------------------- geometry helpers (no Qt)

def test_split_segment_keeps_the_curve_exactly():
    s = circle()
    for seg, t in ((0, 0.5), (3, 0.25), (1, 0.9)):
        split = split_segment(s, seg, t)
        assert len(split) == len(s) + 1
        # every point of the new curve lies on the old one
        for q in split.sample(24)[::5]:
            assert nearest_on_curve(s, q, steps=400)[2] < 1e-3
        # the untouched vertices are still there
        assert np.allclose(np.delete(split.vertices, seg + 1, axis=0), s.vertices)


def test_handle_edits_and_vertex_removal():
    s = circle()
    aligned = move_handle(s, 0, "out", (10.0, 30.0))
    assert np.allclose(aligned.out_tangents[0], (10, 30))
    length = np.hypot(*s.in_tangents[0])
    assert np.isclose(np.hypot(*aligned.in_tangents[0]), length)
    assert np.allclose(aligned.in_tangents[0] / length, -np.array([10, 30]) / np.hypot(10, 30))
    broken = move_handle(s, 0, "out", (10.0, 30.0), broken=True)
    assert np.allclose(broken.in_tangents[0], s.in_tangents[0])
    assert len(remove_vertex(s, 2)) == 3
    with pytest.raises(ValueError):
        remove_vertex(remove_vertex(s, 2), 0)


def test_offset_outline_and_onion_alpha():
    s = circle(r=40, n=8)
    for shape in (s, Spline(s.vertices[::-1], s.out_tangents[::-1], s.in_tangents[::-1])):  # both windings
        out = offset_outline(shape, 6.0)
        assert np.allclose(np.hypot(out[:, 0] - 80, out[:, 1] - 60), 46, atol=0.2)
        inner = offset_outline(shape, -5.0)
        assert np.allclose(np.hypot(inner[:, 0] - 80, inner[:, 1] - 60), 35, atol=0.2)
    offsets = [-3, -2, -1, 1, 2]
    assert onion_alpha(-1, offsets) > onion_alpha(-2, offsets) > onion_alpha(-3, offsets)
    assert onion_alpha(1, offsets) == onion_alpha(-1, offsets)


# ---------------------------------------------------------------- tools and prompts

def test_tools_and_visibility(viewer, overlay):
    assert not overlay.isVisible()
    overlay.set_tool("points")
    assert overlay.isVisible() and overlay.tool() == "points"
    overlay.set_tool(None)
    assert not overlay.isVisible()
    overlay.set_shape(circle())
    assert overlay.isVisible()
    # display only: mouse events go through to the viewer (or another overlay) below
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    overlay.set_tool("edit")
    assert not overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    with pytest.raises(ValueError):
        overlay.set_tool("lasso")


@pytest.mark.parametrize("zoom", [None, 2.0])
def test_box_tool_emits_source_pixels(viewer, overlay, qtbot, zoom):
    viewer.set_zoom(zoom)
    if zoom:
        viewer.set_center(QPointF(50, 60))
    overlay.set_tool("box")
    boxes = []
    overlay.boxDrawn.connect(lambda *b: boxes.append(b))
    drag(qtbot, overlay, wpoint(viewer, 10, 20).toPoint(), wpoint(viewer, 50, 80).toPoint())
    assert len(boxes) == 1
    tol = 1.0 / viewer.effective_zoom() + 1e-6  # one widget pixel in source pixels
    assert np.allclose(boxes[0], (10, 20, 50, 80), atol=tol)
    assert overlay.prompt()[0] == boxes[0]  # shown at once
    settle(qtbot, viewer)
    assert has_colour(grab(viewer), wpoint(viewer, 10, 50), BOX_COLOUR)
    # drawn right to left, bottom to top: still x1 < x2, y1 < y2
    drag(qtbot, overlay, wpoint(viewer, 60, 70).toPoint(), wpoint(viewer, 30, 40).toPoint())
    assert np.allclose(boxes[-1], (30, 40, 60, 70), atol=tol)
    # a click is not a box
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, 30, 30).toPoint())
    assert len(boxes) == 2


def test_box_is_clipped_to_the_picture(viewer, overlay, qtbot):
    viewer.set_zoom(1.0)
    overlay.set_tool("box")
    boxes = []
    overlay.boxDrawn.connect(lambda *b: boxes.append(b))
    drag(qtbot, overlay, wpoint(viewer, 100, 60).toPoint(), wpoint(viewer, 300, 300).toPoint())
    assert boxes[-1][2] == FRAME_W and boxes[-1][3] == FRAME_H


def test_box_being_drawn_is_shown_during_the_drag(viewer, overlay, qtbot):
    overlay.set_tool("box")
    a, b = wpoint(viewer, 20, 20).toPoint(), wpoint(viewer, 100, 90).toPoint()
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(overlay, pos=b)
    settle(qtbot, viewer)
    assert has_colour(grab(viewer), wpoint(viewer, 20, 50), BOX_COLOUR)  # the rubber band, before the release
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=b)


def test_point_clicks_positive_and_negative(viewer, overlay, qtbot):
    overlay.set_tool("points")
    points = []
    overlay.pointAdded.connect(lambda x, y, p: points.append((x, y, p)))
    at = [(40, 30), (100, 60), (60, 90), (120, 100)]
    clicks = [(Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
              (Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier),
              (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier),
              (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier)]
    for (x, y), (button, mod) in zip(at, clicks):
        qtbot.mouseClick(overlay, button, mod, pos=wpoint(viewer, x, y).toPoint())
    assert [p[2] for p in points] == [True, False, False, False]
    tol = 1.0 / viewer.effective_zoom() + 1e-6
    for (x, y), (px, py, _) in zip(at, points):
        assert abs(px - x) <= tol and abs(py - y) <= tol
    assert overlay.prompt()[1] == points
    settle(qtbot, viewer)
    shot = grab(viewer)
    # the marker's disc around the glyph (the glyph itself is white)
    assert has_colour(shot, wpoint(viewer, 40, 30) + QPointF(3, 3), POSITIVE_COLOUR, radius=1)
    assert has_colour(shot, wpoint(viewer, 100, 60) + QPointF(3, 3), NEGATIVE_COLOUR, radius=1)
    overlay.clear_prompt()
    settle(qtbot, viewer)
    assert is_grey(grab(viewer), wpoint(viewer, 40, 30) + QPointF(3, 3))


def test_set_prompt_draws_box_and_points_and_outside_clicks_are_ignored(viewer, overlay, qtbot):
    viewer.set_zoom(1.0)  # the picture no longer fills the widget
    overlay.set_prompt((20, 20, 100, 90), [(50, 50, True), (80, 70, False)])
    settle(qtbot, viewer)
    shot = grab(viewer)
    assert has_colour(shot, wpoint(viewer, 20, 50), BOX_COLOUR)
    assert has_colour(shot, wpoint(viewer, 50, 50) + QPointF(3, 3), POSITIVE_COLOUR, radius=1)
    assert has_colour(shot, wpoint(viewer, 80, 70) + QPointF(3, 3), NEGATIVE_COLOUR, radius=1)
    overlay.set_tool("points")
    points = []
    overlay.pointAdded.connect(lambda *p: points.append(p))
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, -20, 50).toPoint())
    assert points == []


# ---------------------------------------------------------------- editing

def test_vertex_drag_moves_vertex_and_handles_with_one_edit(viewer, overlay, qtbot):
    shape = circle()
    overlay.set_shape(shape)
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    zoom = viewer.effective_zoom()
    start = wpoint(viewer, *shape.vertices[0]).toPoint()
    drag(qtbot, overlay, start, start + QPoint(20, 10))
    assert len(rec.edits) == 1 and len(rec.splines) == 1
    old, new = rec.edits[0]
    assert isinstance(new, Spline) and old is shape
    moved = shape.vertices[0] + (20 / zoom, 10 / zoom)
    assert np.allclose(new.vertices[0], moved, atol=1.0 / zoom)
    assert np.allclose(new.vertices[1:], shape.vertices[1:])
    # handles are offsets: unchanged, so their absolute positions moved with the vertex
    assert np.allclose(new.in_tangents, shape.in_tangents) and np.allclose(new.out_tangents, shape.out_tangents)
    assert overlay.shape() is new and overlay.selected_vertex() == (0, 0)
    assert rec.selections == [(0, 0)]
    assert rec.splines[0][0] == 0
    # the edited shape is drawn where it now is
    settle(qtbot, viewer)
    assert has_colour(grab(viewer), wpoint(viewer, *moved) + QPointF(0, 12), SHAPE_COLOUR, radius=3, tol=30)
    # a click on a vertex (no move) selects it and edits nothing
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, *shape.vertices[2]).toPoint())
    assert len(rec.edits) == 1 and overlay.selected_vertex() == (0, 2)
    # a click on nothing clears the selection
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, 80, 60).toPoint())
    assert overlay.selected_vertex() is None and rec.selections[-1] == (-1, -1)


@pytest.mark.parametrize("broken", [False, True])
def test_handle_drag_aligned_or_broken(viewer, overlay, qtbot, broken):
    shape = circle()
    overlay.set_shape(shape)
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    zoom = viewer.effective_zoom()
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, *shape.vertices[0]).toPoint())
    assert overlay.selected_vertex() == (0, 0) and not rec.edits
    handle = wpoint(viewer, *(shape.vertices[0] + shape.out_tangents[0])).toPoint()
    mod = Qt.KeyboardModifier.AltModifier if broken else Qt.KeyboardModifier.NoModifier
    drag(qtbot, overlay, handle, handle + QPoint(15, 0), mod)
    assert len(rec.edits) == 1
    old, new = rec.edits[0]
    assert old is shape
    assert np.allclose(new.vertices, shape.vertices)
    assert np.allclose(new.out_tangents[0], shape.out_tangents[0] + (15 / zoom, 0), atol=1.0 / zoom)
    assert np.allclose(new.out_tangents[1:], shape.out_tangents[1:])
    if broken:
        assert np.allclose(new.in_tangents, shape.in_tangents)
    else:
        length = np.hypot(*shape.in_tangents[0])
        out_dir = new.out_tangents[0] / np.hypot(*new.out_tangents[0])
        assert np.isclose(np.hypot(*new.in_tangents[0]), length)
        assert np.allclose(new.in_tangents[0], -out_dir * length)
        assert np.allclose(new.in_tangents[1:], shape.in_tangents[1:])


def test_ctrl_drag_pulls_handles_out_of_a_corner(viewer, overlay, qtbot):
    square = Spline.polygon([(40, 30), (120, 30), (120, 90), (40, 90)])
    overlay.set_shape(square)
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    zoom = viewer.effective_zoom()
    start = wpoint(viewer, 120, 30).toPoint()
    drag(qtbot, overlay, start, start + QPoint(0, 25), Qt.KeyboardModifier.ControlModifier)
    (old, new), = rec.edits
    assert np.allclose(new.vertices, square.vertices)
    assert np.allclose(new.out_tangents[1], (0, 25 / zoom), atol=1.0 / zoom)
    assert np.allclose(new.in_tangents[1], -new.out_tangents[1])
    # without Ctrl the same drag moves the vertex (a zero handle under it cannot be grabbed)
    overlay.set_shape(square)
    drag(qtbot, overlay, start, start + QPoint(0, 25))
    assert np.allclose(rec.edits[-1][1].vertices[1], (120, 30 + 25 / zoom), atol=1.0 / zoom)
    assert np.allclose(rec.edits[-1][1].out_tangents, 0)


def test_double_click_on_the_curve_inserts_a_vertex_keeping_the_shape(viewer, overlay, qtbot):
    shape = circle()
    overlay.set_shape(shape)
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    c = shape.controls()[1]
    t = 0.3
    on_curve = (1 - t) ** 3 * c[0] + 3 * (1 - t) ** 2 * t * c[1] + 3 * (1 - t) * t ** 2 * c[2] + t ** 3 * c[3]
    qtbot.mouseDClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, *on_curve).toPoint())
    assert len(rec.edits) == 1
    old, new = rec.edits[0]
    assert old is shape and len(new) == 5
    assert np.allclose(new.vertices[2], on_curve, atol=1.5 / viewer.effective_zoom())
    before = rasterize_splines([shape], FRAME_W, FRAME_H)
    after = rasterize_splines([new], FRAME_W, FRAME_H)
    assert iou(before, after) >= 0.99
    assert overlay.selected_vertex() == (0, 2)
    # a double-click away from the curve inserts nothing
    qtbot.mouseDClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, 80, 60).toPoint())
    assert len(rec.edits) == 1


def test_delete_key_removes_the_selected_vertex_but_keeps_three(viewer, overlay, qtbot):
    shape = circle()
    overlay.set_shape(shape)
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, *shape.vertices[1]).toPoint())
    qtbot.keyClick(overlay, Qt.Key.Key_Delete)
    assert len(rec.edits) == 1
    old, new = rec.edits[0]
    assert old is shape and len(new) == 3
    assert np.allclose(new.vertices, shape.vertices[[0, 2, 3]])
    assert overlay.selected_vertex() is None
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=wpoint(viewer, *shape.vertices[2]).toPoint())
    qtbot.keyClick(overlay, Qt.Key.Key_Backspace)
    assert len(rec.edits) == 1 and len(overlay.shape()) == 3


def test_set_shape_never_emits_and_drops_a_gesture(viewer, overlay, qtbot):
    shape = circle()
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    overlay.set_shape(shape)
    overlay.set_selected_vertex(0, 1)
    overlay.set_shape(circle(r=30))  # e.g. undo: the selection survives when the vertex still exists
    assert overlay.selected_vertex() == (0, 1)
    overlay.set_shape(shape)
    start = wpoint(viewer, *shape.vertices[0]).toPoint()
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(overlay, pos=start + QPoint(30, 0))
    replaced = circle(r=20)
    overlay.set_shape(replaced)  # from outside, mid-gesture
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=start + QPoint(30, 0))
    assert rec.edits == [] and overlay.shape() is replaced
    # Escape drops a gesture too
    start = wpoint(viewer, *replaced.vertices[0]).toPoint()
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(overlay, pos=start + QPoint(30, 0))
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=start + QPoint(30, 0))
    assert rec.edits == [] and overlay.shape() is replaced
    overlay.set_shape(None)
    assert overlay.shape() is None and rec.edits == []


def test_a_list_of_splines_is_edited_as_a_list(viewer, overlay, qtbot):
    a, b = circle(r=30), Spline.polygon([(10, 10), (30, 10), (20, 25)])
    overlay.set_shape([a, b])
    overlay.set_tool("edit")
    rec = Recorder(overlay)
    start = wpoint(viewer, 30, 10).toPoint()
    drag(qtbot, overlay, start, start + QPoint(10, 10))
    (old, new), = rec.edits
    assert isinstance(old, list) and old[0] is a and old[1] is b
    assert new[0] is a and len(new[1]) == 3 and not np.allclose(new[1].vertices[1], b.vertices[1])
    (index, old_b, new_b), = rec.splines
    assert index == 1 and old_b is b and new_b is new[1]
    assert overlay.shape() == new


# ---------------------------------------------------------------- matte, feather, onion skins

def test_matte_tint_changes_only_masked_pixels(viewer, overlay, qtbot):
    matte = np.zeros((FRAME_H, FRAME_W), np.uint8)
    matte[30:90, 40:120] = 255
    overlay.set_matte(matte, (255, 0, 0), opacity=0.5)
    image = overlay.matte_image()
    settle(qtbot, viewer)
    shot = grab(viewer)
    inside, outside = pixel(shot, wpoint(viewer, 80, 60)), pixel(shot, wpoint(viewer, 20, 60))
    assert np.abs(outside - GREY).max() <= 2
    assert inside[0] > GREY + 60 and inside[1] < GREY - 15 and inside[2] < GREY - 15
    assert abs(inside[0] - (GREY + 255) / 2) <= 6
    # edges land on the matte's pixels
    assert np.abs(pixel(shot, wpoint(viewer, 39.5, 60)) - GREY).max() <= 2
    assert pixel(shot, wpoint(viewer, 40.5, 60))[0] > GREY + 60
    # the tint image is cached across paints
    settle(qtbot, viewer)
    assert overlay.matte_image() is image
    overlay.set_matte(None)
    assert overlay.matte_image() is None and not overlay.isVisible()
    with pytest.raises(ValueError):
        overlay.set_matte(np.zeros((4, 4), np.float32))


def test_feather_outlines_are_drawn_at_their_offsets(viewer, overlay, qtbot):
    overlay.set_shape(circle(r=40))
    settle(qtbot, viewer)
    plain = grab(viewer)
    overlay.set_feather(6, 10)
    settle(qtbot, viewer)
    shot = grab(viewer)
    for radius in (34, 50):
        for angle in np.linspace(0, 2 * np.pi, 6, endpoint=False):
            p = wpoint(viewer, 80 + radius * np.cos(angle), 60 + radius * np.sin(angle))
            assert (np.abs(patch(shot, p, 4) - patch(plain, p, 4)).max(axis=1) > 20).any(), (radius, angle)
    assert is_grey(shot, wpoint(viewer, 80, 60))


def test_onion_skins_drawn_fainter_with_distance(viewer, overlay, qtbot):
    before = circle(cx=60, r=25)
    after = np.array([(115, 20), (145, 20), (145, 100), (115, 100)], float)  # a matte outline polygon
    far = circle(cx=60, r=40)
    overlay.set_onion_skins([(before, -1), (far, -3), (after, 2)])
    assert overlay.isVisible()
    settle(qtbot, viewer)
    shot = grab(viewer)
    near_px = patch(shot, wpoint(viewer, 85, 60), 2)
    far_px = patch(shot, wpoint(viewer, 100, 60), 2)
    after_px = patch(shot, wpoint(viewer, 145, 60), 2)
    # earlier frames reddish, later bluish, the nearer frame stronger
    assert (near_px[:, 0] - near_px[:, 2]).max() > 60
    assert 0 < (far_px[:, 0] - far_px[:, 2]).max() < (near_px[:, 0] - near_px[:, 2]).max()
    assert (after_px[:, 2] - after_px[:, 0]).max() > 40
    assert is_grey(shot, wpoint(viewer, 60, 60))
    overlay.clear_onion_skins()
    assert not overlay.isVisible()
