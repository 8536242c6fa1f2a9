"""The DMX outputs of a project as an editable table, with live sender counters.

One row per output: enabled, name, URL, universes ("1-4, 7"; empty: every
universe of the show), latency compensation (ms), rate (Hz), then what the
running sender reports (state, frames sent, jitter p99, late ticks) through
:meth:`OutputsDialog.update_stats`. *Add* offers presets (Art-Net node, sACN
receiver, the Enttec USB interfaces the app found, a file recorder); *Test*
emits :attr:`OutputsDialog.testRequested` with the row, the app runs the test
and reports back with :meth:`OutputsDialog.set_row_message`.

The dialog decides nothing about URLs: *OK* asks the ``validator`` the app
gave (``config -> message or None``) about every row and stays open, with the
messages shown, while any row is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QDoubleSpinBox, QHBoxLayout,
                               QHeaderView, QLabel, QMenu, QPushButton, QTableWidget, QTableWidgetItem,
                               QToolButton, QVBoxLayout, QWidget)

from core.output.base import OutputError
from core.output.config import OutputConfig
from core.output.universes import format_universe_list, parse_universe_list

HEADERS = ("On", "Name", "URL", "Universes", "Latency ms", "Rate Hz", "State", "Frames sent", "Jitter p99 ms",
           "Late ticks")
COL_ON, COL_NAME, COL_URL, COL_UNIVERSES, COL_LATENCY, COL_RATE, COL_STATE, COL_FRAMES, COL_JITTER, COL_LATE = \
    range(len(HEADERS))
STAT_COLUMNS = (COL_STATE, COL_FRAMES, COL_JITTER, COL_LATE)

STATE_COLOURS = {"connected": QColor("#3aa655"), "disconnected": QColor("#d04040"),
                 "connecting": QColor("#d09020"), "stopped": QColor("#888888")}
ERROR_BG = QColor(200, 60, 60, 70)

# preset kind -> (menu text, default name, URL template; {host} / {device} / {path} filled in)
PRESETS = {
    "artnet": ("Art-Net node", "Art-Net node", "artnet://{host}"),
    "sacn": ("sACN receiver", "sACN receiver", "sacn://{host}"),
    "enttec-pro": ("Enttec DMX USB Pro", "Enttec DMX USB Pro", "enttec-pro://{device}"),
    "enttec-open": ("Enttec Open DMX USB", "Enttec Open DMX USB", "enttec-open://{device}"),
    "file": ("File recorder", "File recorder", "{path}"),
}
DEFAULT_HOST = "192.168.1.50"

Validator = Callable[[OutputConfig], "str | None"]


def _get(stats: Any, name: str, default=None):
    return stats.get(name, default) if isinstance(stats, dict) else getattr(stats, name, default)


class OutputsDialog(QDialog):
    testRequested = Signal(int)

    def __init__(self, configs: Iterable[OutputConfig | dict] = (), validator: Validator | None = None,
                 usb_devices: Iterable[tuple[str, str]] = (), usb_note: str = "",
                 recording_dir: str | Path | None = None, parent: QWidget | None = None):
        """``usb_devices``: (selector, description) of each FTDI interface (selector: serial or index)."""
        super().__init__(parent)
        self.setWindowTitle("DMX Outputs")
        self.resize(1000, 360)
        self.validator = validator
        self.usb_devices = [(str(s), str(d)) for s, d in usb_devices]
        self.usb_note = usb_note
        self.recording_dir = Path(recording_dir) if recording_dir else Path.home()
        self._messages: dict[int, str] = {}  # row -> a message shown in the State column (test result)

        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(COL_URL, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)

        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #e05050;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        lay.addWidget(self.error_label)

        row = QHBoxLayout()
        self.add_button = QToolButton(text="Add")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = self._build_add_menu()
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton("Remove")
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Open the selected output and send it the show's current DMX once")
        for b in (self.add_button, self.remove_button, self.test_button):
            row.addWidget(b)
        row.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        row.addWidget(self.buttons)
        lay.addLayout(row)

        self.remove_button.clicked.connect(self.remove_selected)
        self.test_button.clicked.connect(self._test_clicked)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemChanged.connect(self._item_changed)

        for cfg in configs:
            self.add_output(cfg)
        self._update_buttons()

    # ------------------------------------------------------------ rows
    def _build_add_menu(self) -> QMenu:
        menu = QMenu(self)
        for kind in ("artnet", "sacn"):
            menu.addAction(PRESETS[kind][0], lambda k=kind: self._add_and_edit(k))
        for kind in ("enttec-pro", "enttec-open"):
            sub = menu.addMenu(PRESETS[kind][0])
            for selector, description in self.usb_devices:
                sub.addAction(f"{description}", lambda k=kind, s=selector: self._add_and_edit(k, s))
            if not self.usb_devices:
                none = QAction(self.usb_note or "No FTDI USB interface found", sub)
                none.setEnabled(False)
                sub.addAction(none)
            sub.addSeparator()
            sub.addAction("First interface (by index 0)", lambda k=kind: self._add_and_edit(k, "0"))
        menu.addAction(PRESETS["file"][0], lambda: self._add_and_edit("file"))
        return menu

    def preset_config(self, kind: str, selector: str | None = None) -> OutputConfig:
        """The output a preset adds (``selector``: the USB interface's serial number or index)."""
        text, name, template = PRESETS[kind]
        path = (self.recording_dir / "show.dmxrec").absolute().as_uri()
        url = template.format(host=DEFAULT_HOST, device=selector or "0", path=path)
        if kind in ("enttec-pro", "enttec-open") and selector:
            name = f"{name} {selector}"
        taken = {self.table.item(r, COL_NAME).text() for r in range(self.table.rowCount())}
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name} {n}", n + 1
        return OutputConfig(url=url, universes=[1] if kind.startswith("enttec") else [], name=unique)

    def add_preset(self, kind: str, selector: str | None = None) -> int:
        """Add a row from a preset; returns its row number."""
        return self.add_output(self.preset_config(kind, selector))

    def _add_and_edit(self, kind: str, selector: str | None = None) -> None:
        row = self.add_preset(kind, selector)
        if kind in ("artnet", "sacn", "file"):  # the address / file name is the user's to fill in
            self.table.setCurrentCell(row, COL_URL)
            self.table.editItem(self.table.item(row, COL_URL))

    def add_output(self, cfg: OutputConfig | dict) -> int:
        if isinstance(cfg, dict):
            cfg = OutputConfig.from_dict(cfg)
        t = self.table
        row = t.rowCount()
        t.blockSignals(True)
        t.insertRow(row)
        on = QTableWidgetItem()
        on.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        on.setCheckState(Qt.CheckState.Checked if cfg.enabled else Qt.CheckState.Unchecked)
        t.setItem(row, COL_ON, on)
        t.setItem(row, COL_NAME, QTableWidgetItem(cfg.name))
        t.setItem(row, COL_URL, QTableWidgetItem(cfg.url))
        t.setItem(row, COL_UNIVERSES, QTableWidgetItem(format_universe_list(cfg.universes)))
        t.item(row, COL_UNIVERSES).setToolTip("e.g. 1-4, 7; empty: every universe of the show")
        t.setCellWidget(row, COL_LATENCY, self._spin(-1000.0, 1000.0, cfg.latency_ms, 1.0))
        t.setCellWidget(row, COL_RATE, self._spin(1.0, 1000.0, cfg.rate, 1.0))
        for col in STAT_COLUMNS:
            item = QTableWidgetItem("")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            t.setItem(row, col, item)
        t.blockSignals(False)
        t.selectRow(row)
        self._update_buttons()
        return row

    @staticmethod
    def _spin(lo: float, hi: float, value: float, step: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setDecimals(1)
        spin.setSingleStep(step)
        spin.setValue(float(value))
        spin.setFrame(False)
        return spin

    def remove_row(self, row: int) -> None:
        if 0 <= row < self.table.rowCount():
            self.table.removeRow(row)
            self._messages = {(r if r < row else r - 1): m for r, m in self._messages.items() if r != row}
            self._update_buttons()

    def remove_selected(self) -> None:
        self.remove_row(self.current_row())

    def current_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else self.table.currentRow()

    def row_count(self) -> int:
        return self.table.rowCount()

    # ------------------------------------------------------------ editing a row from code (and tests)
    def set_text(self, row: int, column: int, text: str) -> None:
        self.table.item(row, column).setText(text)

    def set_enabled(self, row: int, enabled: bool) -> None:
        self.table.item(row, COL_ON).setCheckState(Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked)

    def latency_spin(self, row: int) -> QDoubleSpinBox:
        return self.table.cellWidget(row, COL_LATENCY)

    def rate_spin(self, row: int) -> QDoubleSpinBox:
        return self.table.cellWidget(row, COL_RATE)

    def text(self, row: int, column: int) -> str:
        return self.table.item(row, column).text()

    # ------------------------------------------------------------ results
    def config_at(self, row: int) -> OutputConfig:
        """The output a row describes; raises :class:`OutputError` when its universes cannot be read."""
        t = self.table
        return OutputConfig(
            url=t.item(row, COL_URL).text().strip(),
            universes=parse_universe_list(t.item(row, COL_UNIVERSES).text()),
            latency_ms=float(self.latency_spin(row).value()),
            rate=float(self.rate_spin(row).value()),
            enabled=t.item(row, COL_ON).checkState() == Qt.CheckState.Checked,
            name=t.item(row, COL_NAME).text().strip(),
        )

    def configs(self) -> list[OutputConfig]:
        """Every row as an :class:`OutputConfig`, in table order (raises on unreadable universes)."""
        return [self.config_at(r) for r in range(self.table.rowCount())]

    def problems(self) -> list[tuple[int, str]]:
        """(row, message) for each row the dialog cannot read or the validator refuses."""
        out = []
        for r in range(self.table.rowCount()):
            try:
                cfg = self.config_at(r)
            except OutputError as exc:
                out.append((r, str(exc)))
                continue
            if not cfg.url:
                out.append((r, "the URL is empty"))
                continue
            message = self.validator(cfg) if self.validator is not None else None
            if message:
                out.append((r, message))
        return out

    def accept(self) -> None:
        problems = self.problems()
        self._mark_rows({r for r, _ in problems})
        if problems:
            lines = [f"Row {r + 1} ({self.table.item(r, COL_NAME).text() or 'unnamed'}): {m}" for r, m in problems]
            self.error_label.setText("\n".join(lines))
            self.error_label.show()
            self.table.selectRow(problems[0][0])
            return
        self.error_label.hide()
        super().accept()

    def _mark_rows(self, bad: set[int]) -> None:
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            for col in (COL_NAME, COL_URL, COL_UNIVERSES):
                item = self.table.item(r, col)
                item.setBackground(ERROR_BG if r in bad else QColor(0, 0, 0, 0))
        self.table.blockSignals(False)

    # ------------------------------------------------------------ live counters
    def update_stats(self, stats: Iterable[Any]) -> None:
        """Show what the running senders report; each stat is matched to the enabled row with its URL."""
        pending: dict[str, list[Any]] = {}
        for s in stats:
            pending.setdefault(str(_get(s, "url", "")), []).append(s)
        t = self.table
        t.blockSignals(True)
        for r in range(t.rowCount()):
            url = t.item(r, COL_URL).text().strip()
            enabled = t.item(r, COL_ON).checkState() == Qt.CheckState.Checked
            found = pending.get(url)
            s = found.pop(0) if enabled and found else None
            if s is None:
                state = self._messages.get(r) or ("off" if not enabled else "not sending")
                values = (state, "", "", "")
                tip, colour = state, None
            else:
                state = str(_get(s, "state", ""))
                message = str(_get(s, "message", "") or "")
                jitter = _get(s, "jitter_p99_ms", None)
                values = (state if not self._messages.get(r) else f"{state}; {self._messages[r]}",
                          str(_get(s, "frames_sent", "")), "" if jitter is None else f"{float(jitter):.2f}",
                          str(_get(s, "late_ticks", "")))
                tip = message or state
                colour = STATE_COLOURS.get(state)
            for col, value in zip(STAT_COLUMNS, values):
                item = t.item(r, col)
                if item.text() != value:
                    item.setText(value)
            state_item = t.item(r, COL_STATE)
            state_item.setToolTip(tip)
            state_item.setForeground(colour if colour is not None else self.palette().text().color())
        t.blockSignals(False)

    def set_row_message(self, row: int, text: str) -> None:
        """Show a note for a row (e.g. the result of a test) in its State column."""
        if not 0 <= row < self.table.rowCount():
            return
        if text:
            self._messages[row] = text
        else:
            self._messages.pop(row, None)
        item = self.table.item(row, COL_STATE)
        item.setText(text)
        item.setToolTip(text)

    def row_state(self, row: int) -> str:
        return self.table.item(row, COL_STATE).text()

    # ------------------------------------------------------------ internal
    def _test_clicked(self) -> None:
        row = self.current_row()
        if row >= 0:
            self.set_row_message(row, "testing...")
            self.testRequested.emit(row)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() in (COL_URL, COL_UNIVERSES, COL_NAME) and self.error_label.isVisible():
            self._mark_rows(set())

    def _update_buttons(self) -> None:
        has_row = self.current_row() >= 0 and self.table.rowCount() > 0
        self.remove_button.setEnabled(has_row)
        self.test_button.setEnabled(has_row)
