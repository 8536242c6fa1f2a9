"""The stage view widget: colours drawn at every head, beams, dragging, selection, zoom; the viewer overlay."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from widgets.stage import StageOverlay, StageView
from widgets.viewer import RasterViewer

IDS = ["a", "b", "c", "bar"]
POS = np.array([[-2.0, 0.0, 4.0], [0.0, 0.0, 4.0], [2.0, 1.0, 4.0], [0.0, 3.0, 5.0]])
HEADS = np.array([1, 1, 1, 4])
LIGHT = np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.2, 0.4, 0.9],
                  [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]])


@pytest.fixture
def view(qtbot):
    v = StageView()
    qtbot.addWidget(v)
    v.resize(640, 420)
    v.show()
    qtbot.waitExposed(v)
    v.set_fixtures(IDS, ["A", "B", "C", "Bar"], POS, HEADS, columns=np.array([1, 1, 1, 4]))
    return v


def pixel(image, p) -> tuple[int, int, int]:
    """RGB of ``image`` at logical point ``p`` (grabs are in device pixels)."""
    r = image.devicePixelRatio()
    c = image.pixelColor(int(p[0] * r), int(p[1] * r))
    return c.red(), c.green(), c.blue()


def test_every_head_is_drawn_in_its_colour(view):
    view.set_look(LIGHT)
    assert view.colors.tolist() == np.floor(LIGHT * 255 + 0.5).astype(int).tolist()
    image = view.grab().toImage()
    centres = view.head_centres()
    assert len(centres) == 7
    for i, c in enumerate(centres):
        assert pixel(image, c) == tuple(view.colors[i]), i
    # the bar's heads stand in a row, left to right, centred on the fixture
    bar = centres[3:]
    assert np.all(np.diff(bar[:, 0]) > 0) and np.ptp(bar[:, 1]) == 0
    assert abs(bar[:, 0].mean() - view.fixture_centre("bar").x()) < 1.0
    # fixture positions land where the plan says: 2 m apart on the x axis
    a, b = view.fixture_centre("a"), view.fixture_centre("b")
    assert b.x() - a.x() == pytest.approx(2.0 * view.scale) and a.y() == pytest.approx(b.y())
    view.set_look(None)
    image = view.grab().toImage()
    assert all(pixel(image, c) == (0, 0, 0) for c in centres)
    with pytest.raises(ValueError):
        view.set_look(np.zeros((3, 3)))


def test_beams_are_drawn_and_taken_away(view):
    beams = np.full((7, 2), np.nan)
    beams[2] = [2.0, -0.8]  # head c (2, 1) to the floor point (2, -0.8): 1.8 m straight down the screen
    view.set_look(LIGHT, beams)
    image = view.grab().toImage()
    start = view.fixture_centre("c")
    mid = QPointF(start.x(), start.y() + 0.9 * view.scale)
    end = view.to_widget(np.array([[2.0, -0.8]]))[0]
    assert pixel(image, (mid.x(), mid.y())) == tuple(view.colors[2])
    assert pixel(image, end) == tuple(view.colors[2])  # the spot where it meets the floor
    view.set_look(LIGHT)  # no beams this frame: the floor is back
    image = view.grab().toImage()
    assert pixel(image, (mid.x(), mid.y())) != tuple(view.colors[2])
    assert pixel(image, view.head_centres()[2]) == tuple(view.colors[2])


def test_drag_requests_a_snapped_move_and_esc_cancels(qtbot, view):
    moves, selections = [], []
    view.moveRequested.connect(moves.append)
    view.selectionChanged.connect(selections.append)
    start = view.fixture_centre("a").toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    assert selections == [["a"]]
    qtbot.mouseMove(view, start + QPoint(20, 0))
    qtbot.mouseMove(view, start + QPoint(50, -30))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(50, -30))
    s = view.scale  # the mouse moved 50 px right and 30 px up: that many metres, snapped to 5 cm
    assert len(moves) == 1 and set(moves[0]) == {"a"}
    x, y = moves[0]["a"]
    assert x == pytest.approx(round((-2.0 + 50 / s) / 0.05) * 0.05, abs=1e-9)
    assert y == pytest.approx(round((30 / s) / 0.05) * 0.05, abs=1e-9)
    assert view.fixture_centre("a").x() == pytest.approx(view.to_widget(np.array([[x, y]]))[0, 0])
    assert not view.auto_fit  # a move does not make the plan jump
    # Esc during a drag puts the fixture back and requests nothing
    start = view.fixture_centre("b").toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(40, 40))
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 40))
    assert len(moves) == 1 and view.positions[1].tolist() == [0.0, 0.0, 4.0]
    # arrow keys nudge the selection 10 cm
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert moves[-1] == {"b": (0.1, 0.0)}


def test_selection_by_click_and_rubber_band(qtbot, view):
    selections = []
    view.selectionChanged.connect(selections.append)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.fixture_centre("c").toPoint())
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     view.fixture_centre("a").toPoint())
    assert view.selected_ids() == ["a", "c"]
    a, b = view.fixture_centre("a"), view.fixture_centre("b")
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=(a + QPointF(-20, -20)).toPoint())
    qtbot.mouseMove(view, (b + QPointF(20, 20)).toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=(b + QPointF(20, 20)).toPoint())
    assert view.selected_ids() == ["a", "b"] and selections[-1] == ["a", "b"]
    view.set_selected(["bar"])
    assert view.selected_ids() == ["bar"]


def test_wheel_zooms_about_the_pointer_and_fit(qtbot, view):
    view.fit()
    before_scale = view.scale
    at = view.fixture_centre("c")
    under = view.to_plan(at)
    view.zoom_by(2.0, at)
    assert view.scale == pytest.approx(2 * before_scale)
    assert view.to_plan(at) == pytest.approx(under)
    assert view.fixture_centre("c").x() == pytest.approx(at.x(), abs=0.5)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.scale == pytest.approx(before_scale)
    centres = view.head_centres()
    assert (centres >= 0).all() and (centres[:, 0] < view.width()).all() and (centres[:, 1] < view.height()).all()


def test_overlay_draws_the_plan_see_through_over_the_picture(qtbot):
    viewer = RasterViewer()
    qtbot.addWidget(viewer)
    viewer.resize(640, 400)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.set_frame(np.full((180, 320, 3), 100, np.uint8))
    overlay = StageOverlay(viewer)
    overlay.set_fixtures(IDS, ["A", "B", "C", "Bar"], POS, HEADS)
    overlay.set_look(LIGHT)
    overlay.show()
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    image = viewer.grab().toImage()
    rect = viewer.image_rect()
    # a mark: the colour at MARK_ALPHA over the plan's see-through layer, over the picture (grey 100)
    a = overlay.MARK_ALPHA
    for i, c in enumerate(overlay.head_centres()):
        assert rect.contains(QPointF(*c))
        dpr = overlay.devicePixelRatioF()
        *under, under_alpha = overlay._raster.pixel(int(c[0] * dpr), int(c[1] * dpr), static=True)
        assert 0 < under_alpha < 255  # the faint panel (or the dashed front edge) lies under the mark
        mark = np.floor(LIGHT[i] * 255 + 0.5) * a + np.array(under) * (1 - a)
        want = mark + 100 * (1 - (a + under_alpha / 255 * (1 - a)))
        assert np.abs(np.array(pixel(image, c)) - want).max() <= 2, i
    viewer.resize(500, 300)  # the overlay follows the viewer
    assert overlay.size() == viewer.size()
    assert all(viewer.image_rect().contains(QPointF(*c)) for c in overlay.head_centres())
