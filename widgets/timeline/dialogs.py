"""Small dialogs of the timeline: clip speed and transition settings.

They only collect values; the app passes them to :mod:`core.timeline.edit`,
which validates them (a refused value comes back as an error message).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QRadioButton, QSpinBox, QVBoxLayout, QWidget)


def parse_speed(text: str) -> Fraction | None:
    """A speed typed by the user: ``"50%"``, ``"50 %"``, ``"1/2"``, ``"0.5"`` or ``"2"``; None if not a number.

    A bare number of 10 or more is read as a percentage (``"200"`` is 200 %, not 200x)."""
    t = text.strip().replace(",", ".")
    if not t:
        return None
    percent = t.endswith("%")
    t = t.rstrip("%").strip()
    try:
        value = Fraction(t)
    except (ValueError, ZeroDivisionError):
        return None
    if percent or ("/" not in t and value >= 10):
        value /= 100
    return value


def format_speed(speed: Fraction) -> str:
    pct = Fraction(speed) * 100
    return f"{pct.numerator}%" if pct.denominator == 1 else f"{float(pct):.4g}%"


class SpeedDialog(QDialog):
    """Speed of a clip: percent or fraction, keeping its source range or its duration."""

    def __init__(self, speed: Fraction = Fraction(1), parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Clip Speed")
        self.edit = QLineEdit(format_speed(speed))
        self.edit.setPlaceholderText("e.g. 50%, 200%, 1/2, 2")
        self.keep_source = QRadioButton("Keep the source range (the clip gets longer or shorter)")
        self.keep_duration = QRadioButton("Keep the duration (more or less of the source plays)")
        self.keep_source.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.keep_source)
        group.addButton(self.keep_duration)
        self.ripple = QCheckBox("Move the later clips of the track (ripple)")
        self.hint = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Speed", self.edit)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.hint)
        lay.addWidget(self.keep_source)
        lay.addWidget(self.keep_duration)
        lay.addWidget(self.ripple)
        lay.addWidget(self.buttons)
        self.edit.textChanged.connect(self._check)
        self.keep_source.toggled.connect(self.ripple.setEnabled)
        self._check()

    def _check(self) -> None:
        value = parse_speed(self.edit.text())
        ok = value is not None and value > 0
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        self.hint.setText(f"{float(value):.4g}x" if ok else "Type a speed such as 50% or 1/2")

    def speed(self) -> Fraction | None:
        return parse_speed(self.edit.text())

    def keep(self) -> str:
        return "source" if self.keep_source.isChecked() else "duration"


class TransitionDialog(QDialog):
    """Kind and length (frames) of a transition."""

    def __init__(self, kinds: Sequence[str], kind: str, frames: int, rate: Fraction,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Transition")
        self.rate = Fraction(rate)
        self.kind_box = QComboBox()
        for k in kinds:
            self.kind_box.addItem(k.replace("_", " "), k)
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(kind)))
        self.frames = QSpinBox()
        self.frames.setRange(1, 100000)
        self.frames.setValue(int(frames))
        self.frames.setSuffix(" frames")
        self.seconds = QLabel()
        self.seconds.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.frames.valueChanged.connect(self._show_seconds)
        self._show_seconds()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Kind", self.kind_box)
        form.addRow("Duration", self.frames)
        form.addRow("", self.seconds)
        form.addRow(buttons)

    def _show_seconds(self) -> None:
        self.seconds.setText(f"{float(self.frames.value() / self.rate):.3g} s")

    def kind(self) -> str:
        return self.kind_box.currentData()

    def duration(self) -> int:
        return self.frames.value()
