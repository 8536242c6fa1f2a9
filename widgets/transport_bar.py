"""Transport bar: play controls, timecode, dropped-frame counter."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class TransportBar(QWidget):
    playToggled = Signal()
    stepRequested = Signal(int)
    homeRequested = Signal()
    endRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.home = QToolButton(text="|<")
        self.back = QToolButton(text="<")
        self.play = QToolButton(text="Play")
        self.fwd = QToolButton(text=">")
        self.end = QToolButton(text=">|")
        for b in (self.home, self.back, self.play, self.fwd, self.end):
            lay.addWidget(b)
        self.timecode = QLabel("00:00:00:00")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        mono.setPointSize(13)
        self.timecode.setFont(mono)
        lay.addSpacing(12)
        lay.addWidget(self.timecode)
        lay.addStretch(1)
        self.status = QLabel("")
        lay.addWidget(self.status)
        self.play.clicked.connect(self.playToggled)
        self.back.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.fwd.clicked.connect(lambda: self.stepRequested.emit(1))
        self.home.clicked.connect(self.homeRequested)
        self.end.clicked.connect(self.endRequested)

    def set_timecode(self, text: str) -> None:
        self.timecode.setText(text)

    def set_playing(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")

    def set_status(self, text: str) -> None:
        self.status.setText(text)
