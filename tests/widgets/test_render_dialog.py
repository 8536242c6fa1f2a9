"""The render dialog: the settings it collects, file naming per profile, and its running/cancel states."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from widgets.render_dialog import RenderDialog, RenderSettings

PROFILES = [("draft_480p", "480p draft"), ("master_prores", "ProRes master")]


def ext_for(profile):
    return ".mov" if "prores" in profile else ".mp4"


@pytest.fixture
def dialog(qtbot, tmp_path):
    d = RenderDialog(PROFILES, tmp_path, "Seq", in_out=(10, 40), extension_for=ext_for)
    qtbot.addWidget(d)
    d.show()
    return d


def test_settings_collect_every_choice(dialog, tmp_path):
    s = dialog.settings()
    assert s.profile == "draft_480p" and s.out_path == tmp_path / "Seq_draft_480p.mp4"
    assert (s.start, s.end) == (10, 40)  # the marked range is offered first when there is one
    assert s.loudness is None and s.scheduler is None and s.workers >= 1
    dialog.set_profile("master_prores")
    assert dialog.settings().out_path == tmp_path / "Seq_master_prores.mov"  # the name follows the profile
    dialog.whole_radio.setChecked(True)
    dialog.loudness_check.setChecked(True)
    assert dialog.settings().loudness == -16.0 and not dialog.loudness_spin.isEnabled()
    dialog.loudness_combo.setCurrentIndex(1)
    assert dialog.settings().loudness == -23.0
    dialog.set_loudness(-18.5)
    assert dialog.loudness_spin.isEnabled() and dialog.settings().loudness == -18.5
    dialog.workers_spin.setValue(2)
    dialog.scheduler_edit.setText("  tcp://127.0.0.1:8786 ")
    s = dialog.settings()
    assert s == RenderSettings("master_prores", tmp_path / "Seq_master_prores.mov", None, None, -18.5, 2,
                               "tcp://127.0.0.1:8786")
    # a name the user typed keeps its stem; only the extension follows the profile
    dialog.path_edit.setText(str(tmp_path / "mine.mov"))
    dialog.set_profile("draft_480p")
    assert dialog.settings().out_path == tmp_path / "mine.mp4"


def test_browse_and_no_in_out(qtbot, tmp_path, monkeypatch):
    d = RenderDialog(PROFILES, tmp_path, "Seq", in_out=None, extension_for=ext_for)
    qtbot.addWidget(d)
    assert not d.inout_radio.isEnabled() and d.whole_radio.isChecked()
    assert (d.settings().start, d.settings().end) == (None, None)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "out" / "film"), ""))
    d.browse_button.click()
    assert d.settings().out_path == tmp_path / "out" / "film.mp4"


def test_running_state_progress_and_cancel(dialog, qtbot):
    requested, cancels = [], []
    dialog.renderRequested.connect(requested.append)
    dialog.cancelRequested.connect(lambda: cancels.append(True))
    dialog.render_button.click()
    assert len(requested) == 1 and isinstance(requested[0], RenderSettings)
    dialog.set_running(True)
    assert not dialog.render_button.isEnabled() and not dialog.profile_combo.isEnabled()
    assert dialog.cancel_button.text() == "Cancel"
    dialog.set_progress(0.42, "frame 21 of 50")
    assert dialog.progress.value() == 420 and "frame 21" in dialog.status.text()
    dialog.cancel_button.click()
    dialog.reject()  # Esc while rendering cancels too, and keeps the dialog open
    assert cancels == [True, True] and dialog.isVisible()
    dialog.set_cancelled()
    assert dialog.render_button.isEnabled() and dialog.progress.value() == 0
    dialog.set_running(True)
    dialog.set_failed("out.mp4: disk full")
    assert "disk full" in dialog.status.text() and dialog.render_button.isEnabled()
    dialog.set_running(True)
    dialog.set_finished(Path("/tmp/x.mp4"))
    assert dialog.result_path == Path("/tmp/x.mp4") and dialog.progress.value() == 1000
    dialog.cancel_button.click()  # idle: Close
    assert not dialog.isVisible()
