"""Detect, choose, track, correct, cancel and resume from the real main window on vtest.avi.

The clip is put on the timeline at sequence frame 10, so sequence frame ``f``
shows source frame ``f - 10``: sessions and the overlay work in source frames.
HOG (no weights) detects and CSRT tracks, to keep the run short on a small CPU.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from app.tracking_support import choose_tracker, fit_transform, track_range
from core.vision.detect import create_detector
from core.vision.sessions import get_session, keyframes, list_sessions, row_arrays
from widgets.viewer.overlay import DETECTION_COLOUR, KEYFRAME_COLOUR, SELECTED_COLOUR, TRACK_COLOUR

OFFSET = 10  # sequence frame of source frame 0
SPAN = 40  # frames tracked per session in these tests


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
    t = w.tracking
    t.set_detector_factory(lambda: create_detector("hog"))
    t.max_track_frames = SPAN
    t.batch = 10
    w.errors.clear()
    yield w
    w.close()


def seek(qtbot, w, source_frame: int) -> None:
    w.seek(source_frame + OFFSET)
    qtbot.waitUntil(lambda: w.playback.last_shown == source_frame + OFFSET, timeout=10000)
    qtbot.waitUntil(lambda: w.tracking.overlay.current_frame() == source_frame or
                    w.tracking.context().frame == source_frame, timeout=5000)


def wait_tracked(qtbot, w, sid: int, timeout=60000) -> None:
    qtbot.waitUntil(lambda: w.tracking.job_of(sid) is None, timeout=timeout)


def grab(viewer) -> np.ndarray:
    image = viewer.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def edge_has(w, box, colour) -> bool:
    """Whether the viewer shows ``colour`` on the left edge of ``box`` (source pixels)."""
    ov = w.tracking.overlay
    p = ov.to_widget(QPointF(box[0], (box[1] + box[3]) / 2))
    px = grab(w.viewer)[int(p.y()) - 1: int(p.y()) + 2, int(round(p.x())) - 2: int(round(p.x())) + 3].astype(int)
    want = np.array([colour.red(), colour.green(), colour.blue()])
    return bool((np.abs(px - want).max(axis=-1) <= 8).any())


def drag(qtbot, widget, a: QPoint, b: QPoint) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(widget, pos=(a + b) / 2)
    qtbot.mouseMove(widget, pos=b)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def test_tracker_choice_range_and_letterbox_mapping():
    assert choose_tracker(from_detection=True) == "follow"
    assert choose_tracker(from_detection=False) == "csrt"
    assert track_range(0, 794, 100, 40) == (80, 119)
    assert track_range(0, 794, 5, 40) == (0, 39) and track_range(0, 794, 790, 40) == (755, 794)
    assert track_range(3, 20, 10, None) == (3, 20)
    # 768x576 footage in a 1920x1080 sequence: pillar-boxed, 1080 high
    m = fit_transform((768, 576), (1920, 1080))
    assert m.map(QPointF(0, 0)) == QPointF(240, 0) and m.map(QPointF(768, 576)) == QPointF(1680, 1080)
    assert fit_transform((768, 576), (768, 576)).isIdentity()


def test_detect_click_track_correct_undo(qtbot, window):
    w, t = window, window.tracking
    ov = t.overlay
    seek(qtbot, w, 100)
    ctx = t.context()
    assert (ctx.frame, ctx.size, ctx.first) == (100, (768, 576), 0)
    # Detect runs on the job runner and shows clickable boxes
    t.detect_action.trigger()
    qtbot.waitUntil(lambda: len(ov.detections()) > 0, timeout=60000)
    assert any("Detect people" in r.title.text() for r in w.jobs_panel.rows.values())
    dets = t.detections()
    assert edge_has(w, dets.boxes[0], DETECTION_COLOUR)
    pick = int(np.argmax(dets.scores))
    box = dets.boxes[pick]
    qtbot.mouseClick(ov, Qt.MouseButton.LeftButton,
                     pos=ov.to_widget(QPointF((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)).toPoint())
    chosen = t.chosen()
    assert chosen is not None and chosen["frame"] == 100 and chosen["detection"] == pick
    assert edge_has(w, box, SELECTED_COLOUR)

    # Track: a session over SPAN source frames around frame 100, progress in the Jobs panel
    t.tracker = "csrt"  # the automatic choice for a detection is "follow" (HOG on every frame is slow here)
    t.track_action.trigger()
    sid = t.shown_session()
    assert sid is not None and t.job_of(sid) is not None
    row = w.jobs_panel.rows[t.job_of(sid)]
    wait_tracked(qtbot, w, sid)
    assert row.bar.value() == 1000 and row.status.text() == "Done"
    session = get_session(w.project, sid)
    assert session.status == "complete" and (session.first_frame, session.last_frame) == (80, 119)
    assert session.tracker == "csrt" and session.subject == "Person 1"
    rows = row_arrays(w.project, sid)
    assert rows["frame"].tolist() == list(range(80, 120))
    assert not np.isnan(rows["box"]).any()
    np.testing.assert_allclose(rows["box"][20], box, atol=1e-3)  # the seed row is the clicked box
    assert len(ov.detections()) == 0  # the detections made way for the track
    # the overlay shows the track at the current frame: the seed is a keyframe
    qtbot.waitUntil(lambda: ov.track_box() is not None, timeout=5000)
    assert edge_has(w, rows["box"][20], KEYFRAME_COLOUR)
    # ... and follows the playhead
    seek(qtbot, w, 110)
    qtbot.waitUntil(lambda: ov.current_frame() == 110, timeout=5000)
    b110 = rows["box"][30]
    assert ov.track_box() is not None
    np.testing.assert_allclose([ov.track_box().left(), ov.track_box().top()], b110[:2], atol=1e-3)
    assert edge_has(w, b110, TRACK_COLOUR)
    # the inspector lists the clip's tracks
    assert w.inspector.track_ids() == [sid]
    assert "complete" in w.inspector.track_text(sid) and "tracked 80-119" in w.inspector.track_text(sid)

    # drag the box at frame 110: a keyframe is stored and the frames after it are re-tracked
    centre = ov.to_widget(QPointF((b110[0] + b110[2]) / 2, (b110[1] + b110[3]) / 2)).toPoint()
    drag(qtbot, ov, centre, centre + QPoint(25, 0))
    assert t.job_of(sid) is not None or get_session(w.project, sid).status == "complete"
    wait_tracked(qtbot, w, sid)
    kf = {k.frame: k.box for k in keyframes(w.project, sid)}
    assert sorted(kf) == [100, 110]
    shift = kf[110][0] - b110[0]
    assert shift > 10 and abs(kf[110][1] - b110[1]) < 1e-3
    after = row_arrays(w.project, sid)
    assert after["frame"].tolist() == list(range(80, 120))
    moved = np.abs(after["box"][31:, 0] - rows["box"][31:, 0])
    assert moved.max() > 5  # the frames after the correction follow the corrected box
    np.testing.assert_allclose(after["box"][:20], rows["box"][:20])  # before the seed: untouched
    assert get_session(w.project, sid).status == "complete"
    assert edge_has(w, kf[110], KEYFRAME_COLOUR)

    # undo removes the correction and re-tracks; redo puts it back
    assert w.undo_stack.undoText() == "correct track at frame 110"
    w.undo_stack.undo()
    wait_tracked(qtbot, w, sid)
    assert sorted(k.frame for k in keyframes(w.project, sid)) == [100]
    np.testing.assert_allclose(row_arrays(w.project, sid)["box"], rows["box"], atol=0.5)
    w.undo_stack.redo()
    wait_tracked(qtbot, w, sid)
    assert sorted(k.frame for k in keyframes(w.project, sid)) == [100, 110]
    np.testing.assert_allclose(row_arrays(w.project, sid)["box"], after["box"], atol=0.5)
    assert not w.errors


def test_draw_box_cancel_quit_reopen_resume_delete(qtbot, window):
    w, t = window, window.tracking
    ov = t.overlay
    t.max_track_frames = 2 * SPAN
    seek(qtbot, w, 300)
    t.draw_action.trigger()
    assert ov.tool() == "draw" and t.draw_action.isChecked()
    a, b = ov.to_widget(QPointF(300, 200)).toPoint(), ov.to_widget(QPointF(340, 300)).toPoint()
    drag(qtbot, ov, a, b)
    assert ov.tool() is None and not t.draw_action.isChecked()
    chosen = t.chosen()
    assert chosen["detection"] is None and chosen["frame"] == 300
    t.track_action.trigger()
    sid = t.shown_session()
    session = get_session(w.project, sid)
    assert session.tracker == "csrt" and session.subject == "Subject 1"  # a drawn box: CSRT
    # the overlay follows the batches as they land; cancel from the Jobs panel once some are in
    job = t.job_of(sid)
    qtbot.waitUntil(lambda: len(row_arrays(w.project, sid)["frame"]) >= 21, timeout=60000)
    qtbot.waitUntil(lambda: ov.track_box(301) is not None and ov.track_box(299) is not None, timeout=5000)
    qtbot.mouseClick(w.jobs_panel.rows[job].cancel, Qt.MouseButton.LeftButton)
    wait_tracked(qtbot, w, sid)
    assert w.jobs.jobs[job].state == "cancelled"
    kept = row_arrays(w.project, sid)["frame"]
    session = get_session(w.project, sid)
    assert session.status == "in_progress" and 21 <= len(kept) < 2 * SPAN
    assert "paused" in w.inspector.track_text(sid)
    assert [s.id for s in t.resumable_sessions()] == [sid]

    # quit and reopen: the session is offered for resuming
    path = w.project.path
    w.save()
    w.close_project()
    assert w.open_project(path)
    assert "1 tracking session can resume" in t.last_message
    assert row_arrays(w.project, sid)["frame"].tolist() == kept.tolist()
    t.resume_action.trigger()
    assert t.job_of(sid) is not None
    wait_tracked(qtbot, w, sid)
    session = get_session(w.project, sid)
    assert session.status == "complete"
    assert row_arrays(w.project, sid)["frame"].tolist() == list(range(session.first_frame, session.last_frame + 1))
    assert session.last_frame - session.first_frame + 1 == 2 * SPAN
    seek(qtbot, w, 300)
    qtbot.waitUntil(lambda: t.shown_session() == sid and ov.track_box() is not None, timeout=5000)

    # delete it from the inspector (confirmed)
    w.inspector.select_track(sid)
    w.inspector.delete_track_button.click()
    box = t._delete_box
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: list_sessions(w.project) == [], timeout=5000)
    assert t.shown_session() is None and ov.track_box() is None
    assert w.inspector.track_ids() == []
    assert not w.errors


def test_closing_mid_track_keeps_the_rows_and_delete_waits_for_the_job(qtbot, window):
    w, t = window, window.tracking
    t.max_track_frames = 2 * SPAN
    seek(qtbot, w, 200)
    t.choose_box([400, 150, 440, 260])
    sid = t.track_subject()
    qtbot.waitUntil(lambda: len(row_arrays(w.project, sid)["frame"]) >= 11, timeout=60000)
    path = w.project.path
    w.close_project()  # what quitting does: the job is cancelled at once, its finished batches stay
    assert w.open_project(path)
    rows = row_arrays(w.project, sid)["frame"]
    assert 11 <= len(rows) < 2 * SPAN and get_session(w.project, sid).status == "in_progress"
    assert "1 tracking session can resume" in t.last_message
    # deleting a session that is tracking stops the job first
    t.resume_tracking()
    job = t.job_of(sid)
    assert job is not None
    t.confirm_delete = False
    t.delete_track(sid)
    qtbot.waitUntil(lambda: list_sessions(w.project) == [], timeout=30000)
    assert w.jobs.jobs[job].state in ("cancelled", "done") and t.job_of(sid) is None
    assert not w.errors


def test_detected_person_is_followed(qtbot, window):
    w, t = window, window.tracking
    t.max_track_frames = 6
    seek(qtbot, w, 0)
    t.detect()
    qtbot.waitUntil(lambda: t.detections() is not None, timeout=60000)
    dets = t.detections()
    pick = int(np.argmax(dets.scores))
    t.choose_box(dets.boxes[pick], detection=pick)
    sid = t.track_subject()
    assert get_session(w.project, sid).tracker == "follow"  # chosen for a detected person
    wait_tracked(qtbot, w, sid, timeout=120000)
    session = get_session(w.project, sid)
    assert session.status == "complete", session.error
    assert row_arrays(w.project, sid)["frame"].tolist() == list(range(0, 6))
    assert not w.errors
