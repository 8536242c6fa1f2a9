"""Rotoscoping from the real main window on vtest.avi: box and point prompts, undo, propagation with
progress, shape editing on the canvas, onion skin, keyframe navigation and export (app/roto.py).

The clip sits at sequence frame 10, so sequence frame ``f`` shows source frame ``f - 10``.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from core.vision import roto as R

OFFSET = 10
WALKER_300 = (313.0, 209.0, 345.0, 297.0)  # the man in the dark coat on source frame 300
SPAN = 12


@pytest.fixture
def window(shown_window, qtbot, tmp_path, vtest):
    w = shown_window
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    local = tmp_path / "vtest.avi"
    shutil.copy(vtest, local)
    w.import_files([str(local)])
    qtbot.waitUntil(lambda: len(w.bin.media_ids()) == 1, timeout=60000)
    w.add_media_to_timeline(w.bin.media_ids(), frame=OFFSET)
    w.roto.max_frames = SPAN
    w.errors.clear()
    yield w
    w.close()


def seek(qtbot, w, source_frame: int) -> None:
    w.seek(source_frame + OFFSET)
    qtbot.waitUntil(lambda: w.playback.last_shown == source_frame + OFFSET, timeout=10000)
    qtbot.waitUntil(lambda: w.roto._ctx is not None and w.roto._ctx.frame == source_frame, timeout=5000)


def widget_point(w, x: float, y: float) -> QPoint:
    p = w.roto.overlay.to_widget(QPointF(x, y))
    return QPoint(int(round(p.x())), int(round(p.y())))


def drag(qtbot, widget, a: QPoint, b: QPoint) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(widget, pos=(a + b) / 2)
    qtbot.mouseMove(widget, pos=b)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def wait_segmented(qtbot, w):
    qtbot.waitUntil(lambda: not w.roto.segmenting(), timeout=30000)


def inside_fraction(matte: np.ndarray, box) -> float:
    x1, y1, x2, y2 = (int(v) for v in box)
    on = matte >= 128
    return on[y1:y2, x1:x2].sum() / max(1, on.sum())


def test_box_prompt_undo_points_propagate_edit_navigate_export(window, qtbot, tmp_path):
    w, roto = window, window.roto
    seek(qtbot, w, 300)
    roto.set_tool("box")
    assert roto.box_action.isChecked() and roto.overlay.tool() == "box"
    x1, y1, x2, y2 = WALKER_300
    drag(qtbot, roto.overlay, widget_point(w, x1 - 3, y1 - 3), widget_point(w, x2 + 3, y2 + 3))
    qtbot.waitUntil(lambda: roto.current_object() is not None, timeout=10000)
    wait_segmented(qtbot, w)
    oid = roto.current_object()
    obj = R.get_object(w.project, oid)
    assert (obj.first_frame, obj.last_frame) == (294, 305)  # SPAN frames around the playhead
    key = R.keyframe(w.project, oid, 300)
    assert key is not None and key.source == "prompt" and key.prompt.box is not None
    matte = R.matte(w.project, oid, 300)
    assert matte.shape == (576, 768)
    assert 400 < (matte >= 128).sum() < (x2 - x1 + 6) * (y2 - y1 + 6)
    assert inside_fraction(matte, (x1 - 4, y1 - 4, x2 + 4, y2 + 4)) > 0.98
    assert roto.overlay.matte_image() is not None  # the matte is tinted over the picture

    w.undo_stack.undo()
    assert R.keyframe(w.project, oid, 300) is None and R.matte(w.project, oid, 300) is None
    w.undo_stack.redo()
    assert np.array_equal(R.matte(w.project, oid, 300), matte)

    # a negative point on the background beside him: segmented again, one more undo step
    roto.set_tool("points")
    steps = w.undo_stack.count()
    qtbot.mouseClick(roto.overlay, Qt.MouseButton.RightButton, pos=widget_point(w, x1 + 1, y1 + 2))
    wait_segmented(qtbot, w)
    qtbot.waitUntil(lambda: w.undo_stack.count() == steps + 1, timeout=10000)
    key = R.keyframe(w.project, oid, 300)
    assert key.prompt.box is not None and key.prompt.points == ((pytest.approx(x1 + 1, abs=1.5),
                                                                 pytest.approx(y1 + 2, abs=1.5), False),)

    # propagate both ways over the object's range, in the Jobs panel
    jid = roto.propagate()
    assert jid is not None and roto.job_of(oid) == jid
    qtbot.waitUntil(lambda: roto.job_of(oid) is None, timeout=120000)
    assert w.jobs.jobs[jid].state == "done", w.jobs.jobs[jid].error
    assert R.mask_frames(w.project, oid) == list(range(294, 306))
    assert R.passes(w.project, oid) == []
    for f in (295, 305):
        m = R.matte(w.project, oid, f)
        ys, xs = np.nonzero(m >= 128)
        assert len(xs) > 300 and 290 < xs.mean() < 370  # still on him

    # edit the shape on frame 304: drag one vertex outward; it becomes a 'shape' keyframe
    seek(qtbot, w, 304)
    roto.set_tool("edit")
    shape = roto.overlay.shape()
    assert shape is not None
    spline = shape[0] if isinstance(shape, list) else shape
    k = int(np.argmin(spline.vertices[:, 0]))  # the leftmost vertex
    vx, vy = spline.vertices[k]
    steps = w.undo_stack.count()
    drag(qtbot, roto.overlay, widget_point(w, vx, vy), widget_point(w, vx - 12, vy))
    qtbot.waitUntil(lambda: w.undo_stack.count() == steps + 1, timeout=5000)
    key = R.keyframe(w.project, oid, 304)
    assert key is not None and key.source == "shape"
    edited = R.matte(w.project, oid, 304)
    assert (edited >= 128)[int(vy), int(vx) - 8]  # the matte follows the shape
    # propagation continues from the corrected keyframe by itself
    qtbot.waitUntil(lambda: roto.job_of(oid) is None and not R.passes(w.project, oid), timeout=60000)
    origins = dict(w.project.query("SELECT frame, origin FROM roto_masks WHERE object_id = ? AND direction = 1",
                                   (oid,)))
    assert origins[305] == 304 and origins[303] == 300
    w.undo_stack.undo()
    assert R.keyframe(w.project, oid, 304) is None
    qtbot.waitUntil(lambda: roto.job_of(oid) is None and not R.passes(w.project, oid), timeout=60000)
    assert R.mask_frames(w.project, oid) == list(range(294, 306))

    # feather: one undoable step, shown on the canvas and kept in the object
    steps = w.undo_stack.index()
    assert roto.set_feather(2.0, 6.0)
    assert w.undo_stack.index() == steps + 1
    obj = R.get_object(w.project, oid)
    assert (obj.feather_inner, obj.feather_outer) == (2.0, 6.0)
    assert roto.overlay._feather == (2.0, 6.0)
    w.undo_stack.undo()
    obj = R.get_object(w.project, oid)
    assert (obj.feather_inner, obj.feather_outer) == (0.0, 0.0)
    w.undo_stack.redo()

    # onion skin: outlines of the neighbouring frames
    roto.set_onion(True)
    assert roto.onion_action.isChecked()
    assert roto.overlay._onion, "no onion skins drawn"
    roto.set_onion(False)

    # keyframe navigation moves the playhead to the keyframe's sequence frame
    roto.set_tool(None)
    assert roto.goto_keyframe(-1) == 300
    assert w.timeline.playhead == 300 + OFFSET
    assert roto.goto_keyframe(-1) is None

    # export: JSON shapes through the job runner, read back
    out = tmp_path / "walker.json"
    jid = roto.export("json", out)
    qtbot.waitUntil(lambda: w.jobs.jobs[jid].state in ("done", "failed"), timeout=60000)
    assert w.jobs.jobs[jid].state == "done", w.jobs.jobs[jid].error
    data = json.loads(out.read_text())
    assert data["format"] == "luma-roto" and data["width"] == 768
    frames = sorted({k["frame"] for t in data["tracks"] for k in t["keys"]})
    assert frames == list(range(294, 306))
    assert not w.errors
