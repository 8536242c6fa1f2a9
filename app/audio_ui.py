"""The Audio menu: beat detection and the project tempo.

* **Detect Beats** (Ctrl+Alt+B): a :class:`core.audio.beats.BeatJob` on the job
  runner for the selected clip's media (its sound); the beat grid is stored in
  the project file.
* **Set Tempo from Selected Clip**: the project tempo map fitted to that grid
  where the clip sits on the sequence (undoable).
* **Tempo…**: BPM, the time of beat 1 and beats per bar by hand (undoable).
"""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QSpinBox, QVBoxLayout

from core.audio.tempo import project_tempo_map, set_project_tempo
from core.errors import LumaError
from core.time import TempoMap

_FINISHED = ("done", "failed", "cancelled")


def describe_tempo(t: TempoMap) -> str:
    return f"{float(t.bpm):.2f} BPM, beat 1 at {float(t.offset):.3f} s, {t.beats_per_bar} beats per bar"


class TempoCommand(QUndoCommand):
    """Set the project tempo map; undo puts the previous one back."""

    def __init__(self, controller: "AudioController", new: TempoMap, text: str = "set tempo"):
        super().__init__(text)
        self.ctl, self.new = controller, new
        self.old = project_tempo_map(controller.project)

    def _set(self, tempo: TempoMap) -> None:
        try:
            set_project_tempo(self.ctl.project, tempo, self.text())
        except LumaError as exc:
            self.ctl.window.show_error(str(exc))
            self.setObsolete(True)
            return
        self.ctl.tempo_changed()

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


class TempoDialog(QDialog):
    """BPM, beat 1 (seconds on the sequence) and beats per bar."""

    def __init__(self, tempo: TempoMap, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Tempo")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.bpm = QDoubleSpinBox()
        self.bpm.setRange(20.0, 400.0)
        self.bpm.setDecimals(3)
        self.bpm.setSuffix(" BPM")
        self.bpm.setValue(float(tempo.bpm))
        self.offset = QDoubleSpinBox()
        self.offset.setRange(-3600.0, 36000.0)
        self.offset.setDecimals(3)
        self.offset.setSuffix(" s")
        self.offset.setValue(float(tempo.offset))
        self.offset.setToolTip("Where beat 1 falls on the sequence")
        self.beats_per_bar = QSpinBox()
        self.beats_per_bar.setRange(1, 32)
        self.beats_per_bar.setValue(int(tempo.beats_per_bar))
        form.addRow("Tempo", self.bpm)
        form.addRow("Beat 1 at", self.offset)
        form.addRow("Beats per bar", self.beats_per_bar)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def tempo(self) -> TempoMap:
        return TempoMap(Fraction(str(round(self.bpm.value(), 3))), Fraction(str(round(self.offset.value(), 3))),
                        int(self.beats_per_bar.value()))


class AudioController(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.last_message = ""
        self.beat_jobs: dict[int, int] = {}  # job id -> media id
        window.jobs.changed.connect(self._on_job_changed)

    @property
    def project(self):
        return self.window.project

    def say(self, text: str, msecs: int = 8000) -> None:
        self.last_message = text
        self.window.statusBar().showMessage(text, msecs)

    def _action(self, menu, text: str, slot, shortcut: str | None = None) -> QAction:
        act = QAction(text, self.window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _c=False: slot())
        menu.addAction(act)
        self.window.addAction(act)
        return act

    def install_menu(self, menubar) -> None:
        menu = menubar.addMenu("&Audio")
        self.detect_action = self._action(menu, "Detect &Beats", self.detect_beats, "Ctrl+Alt+B")
        self.from_clip_action = self._action(menu, "Set Tempo from Selected &Clip", self.tempo_from_clip)
        menu.addSeparator()
        self.tempo_action = self._action(menu, "&Tempo…", self.tempo_dialog)
        self.menu = menu

    # ------------------------------------------------------------ the clip
    def _selected_clip(self):
        tl = self.window.timeline
        if tl is None or self.project is None:
            self.say("Open a project first")
            return None
        ids = [i for i in self.window.timeline_view.selected_clip_ids() if i in tl.clips]
        if len(ids) != 1:
            self.say("Select one clip with sound on the timeline first")
            return None
        return tl.clips[ids[0]]

    # ------------------------------------------------------------ beats
    def detect_beats(self) -> int | None:
        """Detect the beats of the selected clip's media on the job runner (the grid is stored)."""
        from core.audio.beats import BeatJob

        clip = self._selected_clip()
        if clip is None:
            return None
        job = BeatJob(self.project.path, clip.media_id)
        job.title = f"Beats of {clip.name}"
        jid = self.window.jobs.submit(job, on_done=lambda grid, m=clip.media_id: self._beats_done(m, grid),
                                      on_error=self.window.show_error)
        self.beat_jobs[jid] = clip.media_id
        self.say(f"Detecting the beats of {clip.name}…")
        return jid

    def _beats_done(self, media_id: int, grid) -> None:
        self.say(f"{len(grid.beats)} beats at {grid.bpm:.2f} BPM: Audio > Set Tempo from Selected Clip "
                 "puts the project tempo on them")

    def _on_job_changed(self, jid: int) -> None:
        if jid in self.beat_jobs and self.window.jobs.jobs[jid].state in _FINISHED:
            self.beat_jobs.pop(jid, None)

    # ------------------------------------------------------------ tempo
    def tempo_from_clip(self) -> TempoMap | None:
        """Fit the project tempo to the selected clip's detected beats where the clip sits (undoable)."""
        from core.audio.tempo import load_grid, tempo_from_clip

        clip = self._selected_clip()
        if clip is None:
            return None
        if load_grid(self.project, clip.media_id) is None:
            self.say(f"{clip.name} has no beat grid yet: Audio > Detect Beats first")
            return None
        try:
            tempo = tempo_from_clip(self.window.timeline, clip.id)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None
        return self.set_tempo(tempo, f"tempo from {clip.name}")

    def set_tempo(self, tempo: TempoMap, text: str = "set tempo") -> TempoMap | None:
        if self.project is None:
            return None
        if project_tempo_map(self.project) == tempo:
            return tempo
        self.window.undo_stack.push(TempoCommand(self, tempo, text))
        return tempo

    def tempo_dialog(self) -> None:
        if self.project is None:
            self.say("Open a project first")
            return
        d = TempoDialog(project_tempo_map(self.project), self.window)
        if d.exec():
            self.set_tempo(d.tempo())

    def tempo_changed(self) -> None:
        """The tempo map changed (set, undone, redone): say so and let beat-aware views redraw."""
        if self.project is None:
            return
        self.say(f"Tempo: {describe_tempo(project_tempo_map(self.project))}")
        self.window.timeline_view.update()
