"""TrackOverlay over both frame viewers: boxes land where the viewer maps them, clicks, drawing, keyframe drags."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QTransform

from widgets.viewer import GLViewer, RasterViewer, opengl_unavailable_reason
from widgets.viewer.overlay import (DETECTION_COLOUR, KEYFRAME_COLOUR, SELECTED_COLOUR, TRACK_COLOUR,
                                    TrackOverlay)

FRAME_W, FRAME_H = 160, 120
GREY = 60


def rgb_of(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def grab(viewer) -> np.ndarray:
    """What the user sees: the viewer with its overlay child."""
    return rgb_of(viewer.grab().toImage())


def colour(c) -> np.ndarray:
    return np.array([c.red(), c.green(), c.blue()])


def near(pixels: np.ndarray, point: QPointF, c, radius: int = 1) -> bool:
    """Whether a pixel within ``radius`` of ``point`` has colour ``c`` (+-8 per channel)."""
    x, y = int(round(point.x())), int(round(point.y()))
    patch = pixels[max(0, y - radius): y + radius + 1, max(0, x - radius): x + radius + 1].astype(int)
    return bool((np.abs(patch - colour(c)).max(axis=-1) <= 8).any())


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
    ov = TrackOverlay(viewer)
    return ov


def widget_point(viewer, x, y, transform=None) -> QPointF:
    p = QPointF(x, y) if transform is None else transform.map(QPointF(x, y))
    return viewer.map_from_image(p)


def settle(qtbot, viewer):
    viewer.update()
    qtbot.wait(30)


def test_overlay_follows_viewer_size_and_is_hidden_when_empty(viewer, overlay, qtbot):
    assert overlay.geometry() == viewer.rect()
    assert not overlay.isVisible()
    overlay.set_detections([[10, 10, 20, 20]])
    assert overlay.isVisible()
    viewer.setFixedSize(320, 200)
    qtbot.waitUntil(lambda: overlay.geometry() == viewer.rect(), timeout=2000)
    overlay.clear_detections()
    assert not overlay.isVisible()


@pytest.mark.parametrize("zoom", [None, 2.0])
def test_detection_boxes_drawn_where_the_viewer_maps_them(viewer, overlay, qtbot, zoom):
    viewer.set_zoom(zoom)
    if zoom:
        viewer.set_center(QPointF(50, 60))
    box = (20.0, 30.0, 60.0, 100.0)
    overlay.set_detections([box, (100, 10, 150, 50)], [0.9, 0.5])
    settle(qtbot, viewer)
    px = grab(viewer)
    x1, y1, x2, y2 = box
    ymid, xmid = (y1 + y2) / 2, (x1 + x2) / 2
    for p in (widget_point(viewer, x1, ymid), widget_point(viewer, x2, ymid), widget_point(viewer, xmid, y1),
              widget_point(viewer, xmid, y2)):
        assert near(px, p, DETECTION_COLOUR), p
    # transparent inside: the frame shows through
    centre = widget_point(viewer, xmid, ymid)
    assert np.abs(px[int(centre.y()), int(centre.x())].astype(int) - GREY).max() <= 2
    # a box edge is not drawn somewhere else
    assert not near(px, widget_point(viewer, x1 + 8, ymid), DETECTION_COLOUR, radius=0)


def test_source_transform_places_boxes_in_the_letterboxed_picture(viewer, overlay, qtbot):
    # the source is 320x240 shown at half size (a proxy / a fitted clip), offset by 0 here
    transform = QTransform.fromScale(0.5, 0.5)
    overlay.set_source((320, 240), transform)
    overlay.set_detections([(40, 60, 120, 200)])
    settle(qtbot, viewer)
    px = grab(viewer)
    assert near(px, widget_point(viewer, 40, 130, transform), DETECTION_COLOUR)
    assert near(px, widget_point(viewer, 120, 130, transform), DETECTION_COLOUR)
    # and clicks map back to source pixels
    hits = []
    overlay.boxChosen.connect(hits.append)
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=widget_point(viewer, 80, 130, transform).toPoint())
    assert hits == [QRectF(40, 60, 80, 140)]


def test_click_selects_the_smallest_detection_under_the_mouse(viewer, overlay, qtbot):
    overlay.set_detections([(10, 10, 150, 110), (40, 40, 70, 90)], [0.8, 0.9])
    chosen, boxes = [], []
    overlay.detectionChosen.connect(chosen.append)
    overlay.boxChosen.connect(boxes.append)
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=widget_point(viewer, 55, 60).toPoint())
    assert chosen == [1] and boxes == [QRectF(40, 40, 30, 50)]
    assert overlay.selected_detection() == 1
    settle(qtbot, viewer)
    assert near(grab(viewer), widget_point(viewer, 40, 60), SELECTED_COLOUR)
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=widget_point(viewer, 20, 20).toPoint())
    assert chosen == [1, 0]
    # outside every box: nothing chosen (the click goes on to the viewer)
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=widget_point(viewer, 155, 115).toPoint())
    assert chosen == [1, 0]


def test_draw_tool_drag_draws_a_box(viewer, overlay, qtbot):
    overlay.set_tool("draw")
    assert overlay.isVisible()
    boxes = []
    overlay.boxChosen.connect(boxes.append)
    a, b = widget_point(viewer, 10, 20).toPoint(), widget_point(viewer, 50, 80).toPoint()
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(overlay, pos=(a + b) / 2)
    qtbot.mouseMove(overlay, pos=b)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=b)
    assert len(boxes) == 1
    tolerance = 1.0 / viewer.effective_zoom() + 1e-6  # one widget pixel in source pixels
    got = boxes[0]
    for value, want in ((got.left(), 10), (got.top(), 20), (got.right(), 50), (got.bottom(), 80)):
        assert abs(value - want) <= tolerance
    assert overlay.chosen_box() == got
    # a click without a drag draws nothing
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=a)
    assert len(boxes) == 1
    # drawing past the picture is clipped to it
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=widget_point(viewer, 100, 60).toPoint())
    far = widget_point(viewer, 400, 400).toPoint()
    qtbot.mouseMove(overlay, pos=far)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=far)
    assert boxes[-1].right() == FRAME_W and boxes[-1].bottom() == FRAME_H


def moving_track(n=10):
    frames = np.arange(n)
    boxes = np.array([[20 + 3 * f, 30, 50 + 3 * f, 90] for f in frames], float)
    return frames, boxes


def test_track_box_trail_and_keyframe_marker(viewer, overlay, qtbot):
    frames, boxes = moving_track()
    overlay.set_track(frames, boxes, keyframes=[0], current=5, frame_range=(0, 20))
    settle(qtbot, viewer)
    px = grab(viewer)
    x1, y1, x2, y2 = boxes[5]
    assert near(px, widget_point(viewer, x1, 60), TRACK_COLOUR)
    assert near(px, widget_point(viewer, x2, 60), TRACK_COLOUR)
    # the trail of earlier centres (fading: older ones are blended with the picture)
    for f in (1, 4):
        p = widget_point(viewer, (boxes[f, 0] + boxes[f, 2]) / 2, 60)
        patch = px[int(p.y()) - 2: int(p.y()) + 3, int(p.x()) - 2: int(p.x()) + 3].astype(int)
        assert (patch[..., 1] - patch[..., 0] > 40).any(), f
    assert not near(px, widget_point(viewer, (boxes[1, 0] + boxes[1, 2]) / 2, 40), TRACK_COLOUR, radius=2)
    # on a keyframe the box is drawn in the keyframe colour
    overlay.set_current_frame(0)
    settle(qtbot, viewer)
    assert near(grab(viewer), widget_point(viewer, boxes[0, 0], 60), KEYFRAME_COLOUR)
    # no row at a frame: no box
    overlay.set_current_frame(15)
    assert overlay.track_box() is None


def drag(qtbot, widget, a: QPoint, b: QPoint):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(widget, pos=(a + b) / 2)
    qtbot.mouseMove(widget, pos=b)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def test_dragging_the_track_box_emits_a_keyframe(viewer, overlay, qtbot):
    frames, boxes = moving_track()
    overlay.set_track(frames, boxes, keyframes=[0], current=5, frame_range=(0, 9))
    edits = []
    overlay.keyframeEdited.connect(lambda f, r: edits.append((f, r)))
    zoom = viewer.effective_zoom()
    x1, y1, x2, y2 = boxes[5]
    centre = widget_point(viewer, (x1 + x2) / 2, (y1 + y2) / 2).toPoint()
    drag(qtbot, overlay, centre, centre + QPoint(20, 10))
    assert len(edits) == 1
    frame, rect = edits[0]
    assert frame == 5
    tol = 1.0 / zoom + 1e-6
    assert abs(rect.left() - (x1 + 20 / zoom)) <= tol and abs(rect.top() - (y1 + 10 / zoom)) <= tol
    assert abs(rect.width() - (x2 - x1)) < 1e-6 and abs(rect.height() - (y2 - y1)) < 1e-6
    assert overlay.is_keyframe(5)  # shown at once, before the owner stores it
    # resize by the bottom-right corner
    overlay.set_track(frames, boxes, keyframes=[0], current=5)
    corner = widget_point(viewer, x2, y2).toPoint()
    drag(qtbot, overlay, corner, corner + QPoint(-10, 15))
    frame, rect = edits[-1]
    assert frame == 5 and abs(rect.left() - x1) < 1e-6 and abs(rect.top() - y1) < 1e-6
    assert abs(rect.right() - (x2 - 10 / zoom)) <= tol and abs(rect.bottom() - (y2 + 15 / zoom)) <= tol
    # a click inside without moving is not an edit
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=centre)
    assert len(edits) == 2


def test_wheel_and_middle_drag_reach_the_viewer(viewer, overlay, qtbot):
    overlay.set_detections([(0, 0, FRAME_W, FRAME_H)])
    assert overlay.isVisible()
    before = viewer.effective_zoom()
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    pos = QPointF(200, 150)
    event = QWheelEvent(pos, overlay.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(overlay, event)
    assert viewer.effective_zoom() > before
    centre = viewer.center()
    qtbot.mousePress(overlay, Qt.MouseButton.MiddleButton, pos=QPoint(200, 150))
    qtbot.mouseMove(overlay, pos=QPoint(230, 150))
    qtbot.mouseRelease(overlay, Qt.MouseButton.MiddleButton, pos=QPoint(230, 150))
    assert viewer.center().x() < centre.x()
