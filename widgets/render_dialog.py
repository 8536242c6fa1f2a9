"""Render dialog: what to render (profile, range, output file, loudness, workers) and its progress.

The dialog collects :class:`RenderSettings` and emits ``renderRequested``;
the app runs the render and reports back through :meth:`RenderDialog.set_progress`,
:meth:`RenderDialog.set_finished` and :meth:`RenderDialog.set_failed`. While a
render runs, Cancel emits ``cancelRequested`` (the dialog stays open to show
that it stopped); otherwise it closes the dialog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QRadioButton,
                               QSpinBox, QVBoxLayout, QWidget)

#: loudness targets offered (label, LUFS); "custom" uses the spin box
LOUDNESS_TARGETS = (("-16 LUFS (streaming, podcasts)", -16.0), ("-23 LUFS (EBU R128 broadcast)", -23.0))
CUSTOM = "Custom"


@dataclass(frozen=True)
class RenderSettings:
    profile: str
    out_path: Path
    start: int | None  # None: the whole sequence
    end: int | None  # exclusive; None: the whole sequence
    loudness: float | None  # target LUFS, None: leave the levels alone
    workers: int
    scheduler: str | None  # a Dask scheduler address, None: render on this machine


class RenderDialog(QDialog):
    renderRequested = Signal(object)  # RenderSettings
    cancelRequested = Signal()

    def __init__(self, profiles: list[tuple[str, str]], default_dir: str | os.PathLike, base_name: str,
                 in_out: tuple[int, int] | None = None, extension_for=None, parent=None):
        """``profiles``: (name, description); ``in_out``: the marked range [start, end) or None;
        ``extension_for(profile) -> ".mp4"``: the file extension a profile writes."""
        super().__init__(parent)
        self.setWindowTitle("Render Sequence")
        self.setMinimumWidth(520)
        self._extension_for = extension_for or (lambda _p: ".mp4")
        self._base_name = base_name
        self._running = False
        self.result_path: Path | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        lay.addLayout(form)

        self.profile_combo = QComboBox()
        for name, desc in profiles:
            self.profile_combo.addItem(f"{name} — {desc}" if desc else name, name)
        form.addRow("Profile", self.profile_combo)

        range_row = QWidget()
        rl = QHBoxLayout(range_row)
        rl.setContentsMargins(0, 0, 0, 0)
        self.whole_radio = QRadioButton("Whole sequence")
        self.inout_radio = QRadioButton("In to out")
        self._in_out = in_out
        if in_out is not None:
            self.inout_radio.setText(f"In to out (frames {in_out[0]}–{in_out[1] - 1})")
        self.inout_radio.setEnabled(in_out is not None)
        group = QButtonGroup(self)
        group.addButton(self.whole_radio)
        group.addButton(self.inout_radio)
        (self.inout_radio if in_out is not None else self.whole_radio).setChecked(True)
        rl.addWidget(self.whole_radio)
        rl.addWidget(self.inout_radio)
        rl.addStretch(1)
        form.addRow("Range", range_row)

        out_row = QWidget()
        ol = QHBoxLayout(out_row)
        ol.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit()
        self.browse_button = QPushButton("Browse…")
        ol.addWidget(self.path_edit, 1)
        ol.addWidget(self.browse_button)
        form.addRow("Output", out_row)
        self._dir = Path(default_dir)
        self.path_edit.setText(str(self._default_path()))

        loud_row = QWidget()
        ll = QHBoxLayout(loud_row)
        ll.setContentsMargins(0, 0, 0, 0)
        self.loudness_check = QCheckBox("Normalise loudness to")
        self.loudness_combo = QComboBox()
        for label, lufs in LOUDNESS_TARGETS:
            self.loudness_combo.addItem(label, lufs)
        self.loudness_combo.addItem(CUSTOM, None)
        self.loudness_spin = QDoubleSpinBox()
        self.loudness_spin.setRange(-70.0, -5.0)
        self.loudness_spin.setDecimals(1)
        self.loudness_spin.setSuffix(" LUFS")
        self.loudness_spin.setValue(-14.0)
        ll.addWidget(self.loudness_check)
        ll.addWidget(self.loudness_combo, 1)
        ll.addWidget(self.loudness_spin)
        form.addRow("Loudness", loud_row)

        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, max(1, os.cpu_count() or 1) * 4)
        self.workers_spin.setValue(max(1, min(4, os.cpu_count() or 1)))
        self.workers_spin.setToolTip("Parallel render processes (chunks of the sequence rendered at once)")
        form.addRow("Workers", self.workers_spin)
        self.scheduler_edit = QLineEdit()
        self.scheduler_edit.setPlaceholderText("optional: tcp://host:8786 (a Dask scheduler); empty = this machine")
        form.addRow("Dask scheduler", self.scheduler_edit)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.render_button = QPushButton("Render")
        self.render_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        buttons.addWidget(self.render_button)
        buttons.addWidget(self.cancel_button)
        lay.addLayout(buttons)

        self.profile_combo.currentIndexChanged.connect(self._profile_changed)
        self.browse_button.clicked.connect(self._browse)
        self.loudness_check.toggled.connect(self._update_enabled)
        self.loudness_combo.currentIndexChanged.connect(self._update_enabled)
        self.render_button.clicked.connect(self._render_clicked)
        self.cancel_button.clicked.connect(self._cancel_clicked)
        self._update_enabled()

    # ------------------------------------------------------------ settings
    def profile(self) -> str:
        return str(self.profile_combo.currentData())

    def set_profile(self, name: str) -> None:
        i = self.profile_combo.findData(name)
        if i < 0:
            raise ValueError(f"no render profile {name!r}")
        self.profile_combo.setCurrentIndex(i)

    def set_loudness(self, lufs: float | None) -> None:
        """None: off; a listed target selects it, another value the custom one."""
        self.loudness_check.setChecked(lufs is not None)
        if lufs is None:
            return
        for i in range(self.loudness_combo.count()):
            if self.loudness_combo.itemData(i) == float(lufs):
                self.loudness_combo.setCurrentIndex(i)
                return
        self.loudness_combo.setCurrentIndex(self.loudness_combo.count() - 1)
        self.loudness_spin.setValue(float(lufs))

    def settings(self) -> RenderSettings:
        loudness = None
        if self.loudness_check.isChecked():
            loudness = self.loudness_combo.currentData()
            loudness = float(self.loudness_spin.value() if loudness is None else loudness)
        start = end = None
        if self.inout_radio.isChecked() and self._in_out is not None:
            start, end = self._in_out
        return RenderSettings(self.profile(), Path(self.path_edit.text().strip()).expanduser(), start, end, loudness,
                              int(self.workers_spin.value()), self.scheduler_edit.text().strip() or None)

    def _default_path(self) -> Path:
        return self._dir / f"{self._base_name}_{self.profile()}{self._extension_for(self.profile())}"

    def _profile_changed(self) -> None:
        text = self.path_edit.text().strip()
        if not text:
            self.path_edit.setText(str(self._default_path()))
            return
        path = Path(text)
        stem = path.stem
        for name in (self.profile_combo.itemData(i) for i in range(self.profile_combo.count())):
            if stem == f"{self._base_name}_{name}":  # still the name we made: follow the profile
                stem = f"{self._base_name}_{self.profile()}"
        self.path_edit.setText(str(path.with_name(stem + self._extension_for(self.profile()))))

    def _browse(self) -> None:
        ext = self._extension_for(self.profile())
        path, _ = QFileDialog.getSaveFileName(self, "Render to", self.path_edit.text(),
                                              f"Video (*{ext});;All files (*)")
        if path:
            if not Path(path).suffix:
                path += ext
            self.path_edit.setText(path)

    def _update_enabled(self) -> None:
        idle = not self._running
        on = self.loudness_check.isChecked()
        for w in (self.profile_combo, self.whole_radio, self.path_edit, self.browse_button, self.loudness_check,
                  self.workers_spin, self.scheduler_edit):
            w.setEnabled(idle)
        self.inout_radio.setEnabled(idle and self._in_out is not None)
        self.loudness_combo.setEnabled(idle and on)
        self.loudness_spin.setEnabled(idle and on and self.loudness_combo.currentData() is None)
        self.render_button.setEnabled(idle)
        self.cancel_button.setText("Cancel" if self._running else "Close")

    # ------------------------------------------------------------ progress (from the app)
    @property
    def running(self) -> bool:
        return self._running

    def set_running(self, running: bool) -> None:
        self._running = bool(running)
        if running:
            self.progress.setValue(0)
            self.status.setText("Starting…")
            self.status.setStyleSheet("")
            self.result_path = None
        self._update_enabled()

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.progress.setValue(int(round(min(max(float(fraction), 0.0), 1.0) * 1000)))
        if message:
            self.status.setText(message)

    def set_finished(self, path: str | os.PathLike, detail: str = "") -> None:
        self.set_running(False)
        self.result_path = Path(path)
        self.progress.setValue(1000)
        self.status.setStyleSheet("")
        self.status.setText(f"Rendered {path}" + (f"\n{detail}" if detail else ""))

    def set_failed(self, message: str) -> None:
        self.set_running(False)
        self.status.setStyleSheet("color: #e06c6c")
        self.status.setText(message)

    def set_cancelled(self) -> None:
        self.set_running(False)
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText("Cancelled: nothing was written")

    # ------------------------------------------------------------ buttons
    def _render_clicked(self) -> None:
        s = self.settings()
        if not str(s.out_path) or s.out_path == Path("."):
            self.set_failed("Choose an output file")
            return
        self.renderRequested.emit(s)

    def _cancel_clicked(self) -> None:
        if self._running:
            self.status.setText("Cancelling…")
            self.cancelRequested.emit()
        else:
            self.reject()

    def reject(self) -> None:
        if self._running:  # Esc / the window's close button while rendering: cancel, keep the dialog
            self.cancelRequested.emit()
            return
        super().reject()
