"""The Audio menu in the real main window: beats of a click track, the tempo from a clip, the Tempo dialog."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from app.audio_ui import TempoDialog
from core.audio.tempo import load_grid, project_tempo_map
from core.project import Project
from core.project import media_store
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from resources.footage import write_test_clip

BPM = 100  # a click every 0.6 s
START = 25  # the clip starts 1 s into the sequence


@pytest.fixture(scope="module")
def click_clip(tmp_path_factory) -> Path:
    """6 s of a 100 BPM click track (and a tiny picture)."""
    return write_test_clip(tmp_path_factory.mktemp("beats") / "clicks.mp4", frames=150, size=(160, 120),
                           rate=Fraction(25), click_bpm=BPM)


@pytest.fixture
def win(shown_window, tmp_path, click_clip):
    p = Project.create(tmp_path / "a.luma")
    create_sequence(p, rate=25, width=160, height=120)
    tl = Timeline(p)
    mid = media_store.ingest(p, click_clip).id
    edit.add_media(tl, mid, tl.video_tracks()[0].id, tl.audio_tracks()[0].id, START)
    p.close()
    w = shown_window
    assert w.open_project(tmp_path / "a.luma")
    w.errors.clear()
    w.media_id = mid
    w.audio_clip = next(c.id for c in w.timeline.clips.values() if w.timeline.track(c.track_id).kind == "audio")
    return w


def on_file(w, fn):
    p = Project.open(w.project.path)
    try:
        return fn(p)
    finally:
        p.close()


def menu_action(w, text):
    menu = w.audio_ui.menu
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_detect_beats_then_tempo_from_clip_with_undo(qtbot, win):
    w = win
    assert [a.text().replace("&", "") for a in w.audio_ui.menu.actions() if a.text()] == [
        "Detect Beats", "Set Tempo from Selected Clip", "Tempo…"]
    # nothing selected: told what to do
    menu_action(w, "Detect Beats").trigger()
    assert "Select one clip" in w.audio_ui.last_message and not w.audio_ui.beat_jobs
    w.timeline_view.select([w.audio_clip])
    menu_action(w, "Set Tempo from Selected Clip").trigger()
    assert "Detect Beats first" in w.audio_ui.last_message and w.undo_stack.count() == 0
    menu_action(w, "Detect Beats").trigger()
    (jid,) = w.audio_ui.beat_jobs
    qtbot.waitUntil(lambda: w.jobs.jobs[jid].state in ("done", "failed", "cancelled"), timeout=120000)
    assert w.jobs.jobs[jid].state == "done", w.jobs.jobs[jid].error
    grid = on_file(w, lambda p: load_grid(p, w.media_id))
    assert grid is not None and grid.bpm == pytest.approx(BPM, abs=0.5) and len(grid.beats) >= 6
    assert "BPM" in w.audio_ui.last_message
    old = on_file(w, project_tempo_map)
    assert old == TempoMap(Fraction(120), Fraction(0), 4)
    menu_action(w, "Set Tempo from Selected Clip").trigger()
    tempo = on_file(w, project_tempo_map)
    assert float(tempo.bpm) == pytest.approx(BPM, abs=0.5)
    # beat 0 is a click where the clip plays it on the sequence: 1 s + a multiple of 0.6 s
    beats_in = (float(tempo.offset) - START / 25) / 0.6
    assert float(tempo.offset) >= START / 25 - 0.01 and abs(beats_in - round(beats_in)) < 0.02
    assert w.undo_stack.count() == 1
    w.undo_stack.undo()
    assert on_file(w, project_tempo_map) == old
    w.undo_stack.redo()
    assert on_file(w, project_tempo_map) == tempo


def test_tempo_dialog_is_undoable(qtbot, win, monkeypatch):
    w = win

    def fill(dialog):
        assert dialog.bpm.value() == 120.0 and dialog.beats_per_bar.value() == 4
        dialog.bpm.setValue(87.5)
        dialog.offset.setValue(0.25)
        dialog.beats_per_bar.setValue(3)
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(TempoDialog, "exec", fill)
    menu_action(w, "Tempo…").trigger()
    assert on_file(w, project_tempo_map) == TempoMap(Fraction(175, 2), Fraction(1, 4), 3)
    assert "87.50 BPM" in w.audio_ui.last_message
    w.undo_stack.undo()
    assert on_file(w, project_tempo_map) == TempoMap(Fraction(120), Fraction(0), 4)
    # cancelling the dialog changes nothing
    monkeypatch.setattr(TempoDialog, "exec", lambda self: QDialog.DialogCode.Rejected.value)
    menu_action(w, "Tempo…").trigger()
    assert w.undo_stack.count() == 1 and not w.undo_stack.canUndo()
