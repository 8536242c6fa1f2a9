"""The real main window, driven like a user would: drops, edits, undo, playback, save/reopen."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from app.main_window import MainWindow
from core.project import Project
from core.project import media_store
from core.timeline.model import Timeline
from resources.footage import read_barcode
from tests.qt_helpers import drop_on, file_mime
from widgets.media_bin import MEDIA_MIME


@pytest.fixture
def window(shown_window, tmp_path):
    w = shown_window
    assert w.new_project(tmp_path / "proj" / "p.luma") is False  # folder does not exist yet
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    w.errors.clear()
    return w


def drop_files(target, paths, pos=None):
    return drop_on(target, file_mime(paths), pos)


def shortcut(window, key):
    seq = QKeySequence(key)
    return next(a for a in window.actions() if a.shortcut() == seq)


def wait_jobs(qtbot, w, timeout=60000):
    qtbot.waitUntil(lambda: not w.jobs.active(), timeout=timeout)


def import_and_wait(qtbot, w, paths, target=None):
    n = len(media_store.list_media(w.project))
    drop_files(target or w, paths)
    qtbot.waitUntil(lambda: len(w.bin.media_ids()) >= n + len(paths), timeout=60000)


def test_drop_on_window_imports_into_bin_with_thumbnail_and_details(qtbot, window, small_clip):
    import_and_wait(qtbot, window, [small_clip])
    (mid,) = window.bin.media_ids()
    text = window.bin.entry_text(mid)
    assert "small.mp4" in text and "320x240" in text and "25 fps" in text and "00:00:02:00" in text
    assert not window.bin.entry_icon_size(mid).isEmpty()
    # the proxy job ran on the job runner and recorded its lineage
    wait_jobs(qtbot, window)
    # 240p source: no proxy is needed (all proxy sizes are larger) -> none recorded
    assert media_store.list_derived(window.project, mid) == []


def test_proxy_builds_in_background_with_progress_row(qtbot, window, tmp_path):
    from resources.footage import write_test_clip

    big = write_test_clip(tmp_path / "big.mp4", frames=20, size=(960, 540), rate=25)
    import_and_wait(qtbot, window, [big])
    wait_jobs(qtbot, window)
    (mid,) = window.bin.media_ids()
    derived = media_store.list_derived(window.project, mid, "proxy")
    assert [d["height"] for d in derived] == [360]
    assert os.path.isfile(derived[0]["path"])
    titles = [r.title.text() for r in window.jobs_panel.rows.values()]
    assert any("big.mp4" in t for t in titles)
    assert all(r.bar.value() == 1000 for r in window.jobs_panel.rows.values())


def test_corrupt_files_give_clear_errors_and_leave_project_unchanged(qtbot, window, tmp_path, small_clip):
    junk = tmp_path / "noise.mp4"
    junk.write_bytes(os.urandom(64 * 1024))
    trunc = tmp_path / "cut.mp4"
    data = small_clip.read_bytes()
    trunc.write_bytes(data[: len(data) // 3])
    before = json.dumps(Timeline(window.project).snapshot())
    media_before = window.project.query("SELECT COUNT(*) FROM media")[0][0]
    drop_files(window, [junk, trunc])
    qtbot.waitUntil(lambda: len(window.errors) >= 2, timeout=30000)
    joined = "\n".join(window.errors)
    assert "noise.mp4" in joined and "cut.mp4" in joined
    assert window.project.query("SELECT COUNT(*) FROM media")[0][0] == media_before
    assert json.dumps(Timeline(window.project).snapshot()) == before
    failed = [r for r in window.jobs_panel.rows.values() if "Failed" in r.status.text()]
    assert len(failed) == 2


def test_bin_to_timeline_drop_edit_undo_redo(qtbot, window, small_clip):
    import_and_wait(qtbot, window, [small_clip])
    (mid,) = window.bin.media_ids()
    tl = window.timeline
    view = window.timeline_view
    # drag from the bin: the bin's own mime data, dropped on the timeline's V1 at frame 10
    mime = window.bin.model().mimeData([window.bin.model().index(0, 0)])
    assert json.loads(bytes(mime.data(MEDIA_MIME)).decode()) == [mid]
    v1 = tl.video_tracks()[0]
    view.mediaDropped.emit([mid], v1.id, 10)
    assert sorted((tl.track(c.track_id).kind, c.start, c.duration) for c in tl.clips.values()) == [
        ("audio", 10, 50), ("video", 10, 50)]
    vclip = next(c for c in tl.clips.values() if tl.track(c.track_id).kind == "video")
    # move by the view's signal, then trim, then split at the playhead
    view.moveRequested.emit([vclip.id], 5, {})
    assert tl.clips[vclip.id].start == 15
    view.trimRequested.emit(vclip.id, "out", 40)
    assert tl.clips[vclip.id].end == 40
    window.seek(30)
    view.select([vclip.id])
    window.split_at_playhead()
    assert sorted(c.start for c in tl.clips.values() if c.track_id == v1.id) == [15, 30]
    snap_after = tl.snapshot()
    stack = window.undo_stack
    assert stack.count() == 4
    for _ in range(4):
        stack.undo()
    assert tl.clips == {}
    for _ in range(4):
        stack.redo()
    assert tl.snapshot() == snap_after
    # refused edits are reported, not pushed
    count = stack.count()
    view.moveRequested.emit([vclip.id], -100, {})
    assert stack.count() == count and window.errors and "before the beginning" in window.errors[-1]


def test_playback_lands_on_exact_frame_and_viewer_shows_it(qtbot, window, small_clip):
    import_and_wait(qtbot, window, [small_clip])
    (mid,) = window.bin.media_ids()
    window.add_media_to_timeline([mid], frame=0)
    pb = window.playback
    pb.set_play_range(0, 24)
    window.toggle_play()
    qtbot.waitUntil(lambda: not pb.transport.playing, timeout=10000)
    qtbot.waitUntil(lambda: pb.last_shown == 24, timeout=5000)
    assert window.timeline.playhead == 24
    assert window.transport_bar.timecode.text() == "00:00:00:24"
    assert read_barcode(window.viewer.frame()) == 24
    assert pb.shown + pb.dropped >= 20
    # scrubbing lands on the exact frame
    for f in (7, 3, 41, 0):
        window.seek(f)
        qtbot.waitUntil(lambda f=f: pb.last_shown == f, timeout=5000)
        assert read_barcode(window.viewer.frame()) == f
    # frame stepping with the keyboard
    window.step(1)
    qtbot.waitUntil(lambda: pb.last_shown == 1, timeout=5000)
    # (Xvfb has no window manager to activate the window, so trigger the key's action itself)
    shortcut(window, Qt.Key.Key_Right).trigger()
    qtbot.waitUntil(lambda: pb.last_shown == 2, timeout=5000)
    shortcut(window, Qt.Key.Key_End).trigger()
    qtbot.waitUntil(lambda: pb.last_shown == 49, timeout=5000)
    shortcut(window, Qt.Key.Key_Home).trigger()
    qtbot.waitUntil(lambda: pb.last_shown == 0, timeout=5000)
    shortcut(window, Qt.Key.Key_L).trigger()
    shortcut(window, Qt.Key.Key_L).trigger()
    assert pb.transport.speed == 2
    shortcut(window, Qt.Key.Key_K).trigger()
    assert not pb.transport.playing
    shortcut(window, Qt.Key.Key_Space).trigger()
    assert pb.transport.playing
    shortcut(window, Qt.Key.Key_Space).trigger()
    assert not pb.transport.playing


def test_save_quit_reopen_is_identical(qtbot, window, small_clip, second_clip, tmp_path):
    import_and_wait(qtbot, window, [small_clip, second_clip])
    ids = window.bin.media_ids()
    window.add_media_to_timeline(ids, frame=0)
    window.seek(17)
    qtbot.waitUntil(lambda: window.playback.last_shown == 17, timeout=5000)
    snap = window.timeline.snapshot()
    path = window.project.path
    window.save()
    window.close_project()
    w2 = MainWindow(settings=window.settings)
    qtbot.addWidget(w2)
    assert w2.open_project(path)
    assert w2.timeline.snapshot()["clips"] == snap["clips"]
    assert w2.timeline.playhead == 17
    assert sorted(w2.bin.media_ids()) == sorted(ids)
    assert str(path) in w2.recent_files()
    # save as elsewhere keeps working on the copy
    (tmp_path / "elsewhere").mkdir()
    assert w2.save_as(tmp_path / "elsewhere" / "copy.luma")
    assert w2.project.path.parent.name == "elsewhere"
    assert w2.timeline.snapshot()["clips"] == snap["clips"]
    w2.close()


@pytest.mark.slow
def test_end_to_end_vtest(qtbot, window, vtest, tmp_path):
    """Drop vtest.avi on the window, put it on the timeline, play one second, save, reopen."""
    local = tmp_path / "vtest.avi"
    shutil.copy(vtest, local)
    drop_files(window, [local])
    qtbot.waitUntil(lambda: len(window.bin.media_ids()) == 1, timeout=60000)
    (mid,) = window.bin.media_ids()
    rec = media_store.get_media(window.project, mid)
    assert (rec.info.video.width, rec.info.video.height) == (768, 576)
    rate = rec.info.video.rate
    # a sequence at the footage's own rate, like "new sequence from clip" in any NLE
    with window.project.transaction("match sequence"):
        window.project.execute("UPDATE sequences SET rate_num = ?, rate_den = ?, width = 768, height = 576",
                               (rate.numerator, rate.denominator))
    window._set_project(window.project)
    window.timeline_view.mediaDropped.emit([mid], window.timeline.video_tracks()[0].id, 0)
    tl = window.timeline
    assert len(tl.clips) == 1 and next(iter(tl.clips.values())).duration == rec.info.video.frame_count
    one_second = int(rate)  # frames in one second at the sequence rate
    pb = window.playback
    pb.set_play_range(0, one_second)
    window.toggle_play()
    qtbot.waitUntil(lambda: not pb.transport.playing, timeout=15000)
    qtbot.waitUntil(lambda: pb.last_shown == one_second, timeout=5000)
    assert tl.playhead == one_second
    # the viewer shows what PyAV decodes for that frame
    import av

    with av.open(str(local)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i == one_second:
                expected = fr.to_ndarray(format="rgb24")
                break
    assert np.abs(window.viewer.frame().astype(int) - expected.astype(int)).max() <= 1
    window.save()
    snap = tl.snapshot()
    path = window.project.path
    window.close_project()
    with Project.open(path) as p:
        assert Timeline(p).snapshot() == snap


def test_moved_footage_is_reported_and_relinked(qtbot, window, small_clip, tmp_path):
    (tmp_path / "footage").mkdir()
    local = shutil.copy(small_clip, tmp_path / "footage" / "take1.mp4")
    import_and_wait(qtbot, window, [local])
    window.add_media_to_timeline(window.bin.media_ids(), frame=0)
    path = window.project.path
    window.save()
    window.close_project()
    (tmp_path / "moved").mkdir()
    shutil.move(local, tmp_path / "moved" / "take1.mp4")
    window.errors.clear()
    assert window.open_project(path)
    assert window.errors and "take1.mp4" in window.errors[-1] and "missing" in window.errors[-1]
    assert window.relink_missing([str(tmp_path / "moved")]) == 1
    assert media_store.missing_media(window.project) == []
    window.seek(12)
    qtbot.waitUntil(lambda: window.playback.last_shown == 12, timeout=5000)
    assert read_barcode(window.viewer.frame()) == 12
