"""File > Render Sequence… in the real main window: a real render with progress, and Cancel."""

from __future__ import annotations

from pathlib import Path

import av
from PySide6.QtGui import QKeySequence

from core.project import Project
from core.project import media_store
from core.render.profiles import PROFILES
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from resources.footage import read_barcode


def make_project(path, clip, copies=1) -> Path:
    """A 320x240 25 fps sequence with ``copies`` of ``clip`` one after the other from frame 0."""
    p = Project.create(path)
    create_sequence(p, rate=25, width=320, height=240)
    tl = Timeline(p)
    mid = media_store.ingest(p, clip).id
    for _ in range(copies):
        edit.add_media(tl, mid, tl.video_tracks()[0].id, tl.audio_tracks()[0].id, tl.duration)
    p.close()
    return Path(path)


def open_dialog(qtbot, w):
    (act,) = [a for a in w.actions() if a.shortcut() == QKeySequence("Ctrl+M")]  # no other action has it
    assert act.text().replace("&", "") == "Render Sequence…"
    act.trigger()
    d = w.render_ui.dialog
    assert d is not None and d.isVisible()
    return d


def progress_seen(w, d):
    """Every progress bar value the dialog showed while the render ran."""
    seen = []
    w.jobs.changed.connect(lambda _jid: seen.append(d.progress.value()))
    return seen


def test_render_in_out_range_with_profile_size_and_progress(qtbot, shown_window, tmp_path, small_clip):
    w = shown_window
    assert w.open_project(make_project(tmp_path / "r.luma", small_clip))
    w.seek(10)
    w._mark("in")
    w.seek(29)
    w._mark("out")
    d = open_dialog(qtbot, w)
    assert d.inout_radio.isChecked() and d.settings().start == 10 and d.settings().end == 30
    d.set_profile("draft_480p")
    d.workers_spin.setValue(1)
    out = tmp_path / "out" / "cut.mp4"
    out.parent.mkdir()
    d.path_edit.setText(str(out))
    seen = progress_seen(w, d)
    d.render_button.click()
    assert d.running and not d.render_button.isEnabled()
    qtbot.waitUntil(lambda: not w.render_ui.running(), timeout=120000)
    assert w.render_ui.last_error == "" and d.result_path == out and str(out) in d.status.text()
    assert d.progress.value() == 1000
    assert any(0 < v < 1000 for v in seen)  # it advanced on the way
    assert seen == sorted(seen)
    expected = PROFILES["draft_480p"].sequence_size(320, 240)
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert c.streams.audio  # the sound is rendered too
    assert (frames[0].shape[1], frames[0].shape[0]) == expected == (640, 480)
    assert len(frames) == 20
    assert read_barcode(frames[0]) == 10 and read_barcode(frames[-1]) == 29
    assert not list(out.parent.glob("*.part*"))


def test_cancel_stops_the_render_and_leaves_no_output(qtbot, shown_window, tmp_path, small_clip):
    w = shown_window
    assert w.open_project(make_project(tmp_path / "c.luma", small_clip, copies=4))
    d = open_dialog(qtbot, w)
    assert not d.inout_radio.isEnabled() and d.settings().start is None  # no marks: the whole sequence
    d.set_profile("preview_720p")
    d.workers_spin.setValue(1)
    out = tmp_path / "long.mp4"
    d.path_edit.setText(str(out))
    cancelled_at = []

    def cancel_once(jid):
        rec = w.jobs.jobs[jid]
        if not cancelled_at and rec.state == "running" and 0 < rec.progress:
            cancelled_at.append(rec.progress)
            d.cancel_button.click()  # "Cancel" while running

    w.jobs.changed.connect(cancel_once)
    d.render_button.click()
    jid = w.render_ui.job_id
    qtbot.waitUntil(lambda: w.jobs.jobs[jid].state in ("done", "failed", "cancelled"), timeout=120000)
    assert cancelled_at and cancelled_at[0] < 0.9
    assert w.jobs.jobs[jid].state == "cancelled"
    assert not w.render_ui.running() and "Cancelled" in d.status.text() and d.render_button.isEnabled()
    assert not out.exists() and not list(tmp_path.glob("long*"))
    assert not [p for p in tmp_path.rglob("*.part*")]
    assert w.errors == []


def test_empty_sequence_and_bad_output_are_reported(qtbot, shown_window, tmp_path, small_clip):
    w = shown_window
    (tmp_path / "e").mkdir()
    assert w.new_project(tmp_path / "e" / "e.luma")
    w.render_ui.open_dialog()
    assert w.render_ui.dialog is None and "empty" in w.errors[-1]
    w.errors.clear()
    assert w.open_project(make_project(tmp_path / "b.luma", small_clip))
    d = open_dialog(qtbot, w)
    d.set_profile("master_prores")
    assert d.settings().out_path.suffix == ".mov"
    d.path_edit.setText(str(tmp_path / "wrong.mp4"))  # ProRes goes in .mov
    d.render_button.click()
    assert not w.render_ui.running() and ".mov" in d.status.text() and ".mov" in w.errors[-1]
