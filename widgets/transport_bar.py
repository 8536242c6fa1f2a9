"""Transport bar: play controls, timecode, dropped-frame counter and the live DMX controls.

The right-hand group is for the lighting designer: a *grand master* slider
(0-100 %, with a readout; double-click puts it back to 100 %), a latched
*Blackout* button (red while active) and a *DMX* button that shows or hides
the DMX monitor and carries a dot for the state of the DMX output (grey: not
sending, amber: connecting, green: every output connected, red: an output
failed; its tooltip says why).

The widget only displays state given to it and emits what the user asks for;
the app decides what the controls do (:mod:`app.show_output`).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

DMX_OFF, DMX_CONNECTING, DMX_OK, DMX_ERROR = "off", "connecting", "ok", "error"
DMX_COLORS = {
    DMX_OFF: QColor("#7a7d82"),
    DMX_CONNECTING: QColor("#e0a030"),
    DMX_OK: QColor("#3cc864"),
    DMX_ERROR: QColor("#e5484d"),
}
BLACKOUT_STYLE = (
    "QToolButton { font-weight: bold; }"
    "QToolButton:checked { background: #c62828; color: #ffffff; border: 1px solid #ff6b6b; }"
    "QToolButton:checked:hover { background: #d93636; }"
)
DMX_STYLE = "QToolButton:checked { background: #2b4a6b; border: 1px solid #4a7fb5; }"


def _dot_icon(color: QColor, size: int = 12) -> QIcon:
    pix = QPixmap(size * 2, size * 2)  # drawn at 2x: sharp on high-density screens too
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(color.darker(160))
    p.setBrush(color)
    p.drawEllipse(2, 2, size - 4, size - 4)
    p.end()
    return QIcon(pix)


class MasterSlider(QSlider):
    """A horizontal 0-100 slider that goes back to 100 on double-click."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setRange(0, 100)
        self.setValue(100)
        self.setSingleStep(1)
        self.setPageStep(10)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys stay the frame-step shortcuts

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.setValue(self.maximum())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)


class TransportBar(QWidget):
    playToggled = Signal()
    stepRequested = Signal(int)
    homeRequested = Signal()
    endRequested = Signal()
    grandMasterChanged = Signal(float)  # 0..1, while the slider moves
    blackoutToggled = Signal(bool)
    dmxMonitorToggled = Signal(bool)  # show (True) or hide the DMX monitor

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
        self._build_dmx_controls(lay)

    def _build_dmx_controls(self, lay: QHBoxLayout) -> None:
        sep = QFrame()
        sep.setFrameShape(QFrame.Shape.VLine)
        sep.setFrameShadow(QFrame.Shadow.Sunken)
        lay.addSpacing(8)
        lay.addWidget(sep)
        lay.addSpacing(4)
        self.master_label = QLabel("GM")
        self.master_slider = MasterSlider()
        self.master_slider.setFixedWidth(110)
        self.master_readout = QLabel()
        small_mono = QFont("monospace")
        small_mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.master_readout.setFont(small_mono)
        self.master_readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.master_readout.setMinimumWidth(self.master_readout.fontMetrics().horizontalAdvance("100 %") + 4)
        tip = "Grand master: scales the intensity of every fixture sent as DMX\n(double-click the slider: 100 %)"
        for w in (self.master_label, self.master_slider, self.master_readout):
            w.setToolTip(tip)
            lay.addWidget(w)
        self._show_master(self.master_slider.value())

        self.blackout = QToolButton(text="Blackout")
        self.blackout.setCheckable(True)
        self.blackout.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.blackout.setStyleSheet(BLACKOUT_STYLE)
        self._blackout_shortcut = ""
        self._update_blackout_tip()
        lay.addSpacing(4)
        lay.addWidget(self.blackout)

        self.dmx = QToolButton(text="DMX")
        self.dmx.setCheckable(True)
        self.dmx.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.dmx.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.dmx.setIconSize(QSize(12, 12))
        self.dmx.setStyleSheet(DMX_STYLE)
        self._dmx_state = ""
        self._dmx_detail = ""
        self._dmx_icons = {state: _dot_icon(color) for state, color in DMX_COLORS.items()}
        self.set_dmx_state(DMX_OFF, "DMX output is off")
        lay.addWidget(self.dmx)

        self.master_slider.valueChanged.connect(self._master_moved)
        self.blackout.toggled.connect(self.blackoutToggled)
        self.dmx.toggled.connect(self.dmxMonitorToggled)

    # ------------------------------------------------------------ play controls
    def set_timecode(self, text: str) -> None:
        self.timecode.setText(text)

    def set_playing(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    # ------------------------------------------------------------ DMX controls
    def _show_master(self, percent: int) -> None:
        self.master_readout.setText(f"{percent} %")

    def _master_moved(self, percent: int) -> None:
        self._show_master(percent)
        self.grandMasterChanged.emit(percent / 100.0)

    def grand_master(self) -> float:
        return self.master_slider.value() / 100.0

    def set_grand_master(self, level: float) -> None:
        """Show ``level`` (0..1) without emitting :attr:`grandMasterChanged`."""
        percent = max(0, min(100, int(round(float(level) * 100))))
        with QSignalBlocker(self.master_slider):
            self.master_slider.setValue(percent)
        self._show_master(percent)

    def set_blackout(self, on: bool) -> None:
        """Show the blackout state without emitting :attr:`blackoutToggled`."""
        with QSignalBlocker(self.blackout):
            self.blackout.setChecked(bool(on))

    def set_blackout_shortcut(self, text: str) -> None:
        self._blackout_shortcut = text
        self._update_blackout_tip()

    def _update_blackout_tip(self) -> None:
        tip = "Blackout: every intensity to zero while it is on"
        if self._blackout_shortcut:
            tip += f" ({self._blackout_shortcut})"
        self.blackout.setToolTip(tip)

    def set_dmx_monitor_visible(self, visible: bool) -> None:
        """Show whether the DMX monitor is open, without emitting :attr:`dmxMonitorToggled`."""
        with QSignalBlocker(self.dmx):
            self.dmx.setChecked(bool(visible))

    def dmx_state(self) -> str:
        return self._dmx_state

    def set_dmx_state(self, state: str, detail: str = "") -> None:
        """The DMX output's state (``off``, ``connecting``, ``ok``, ``error``) and what to say about it."""
        if state not in DMX_COLORS:
            raise ValueError(f"unknown DMX state {state!r}")
        if (state, detail) == (self._dmx_state, self._dmx_detail):
            return
        self._dmx_state, self._dmx_detail = state, detail
        self.dmx.setIcon(self._dmx_icons[state])
        lines = [detail] if detail else []
        lines.append("Click to show or hide the DMX monitor")
        self.dmx.setToolTip("\n".join(lines))
