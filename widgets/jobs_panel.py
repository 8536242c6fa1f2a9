"""Jobs panel: one row per background job with progress, cancel and error text."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)


class JobRow(QWidget):
    def __init__(self, job_id: int, title: str, parent=None):
        super().__init__(parent)
        self.job_id = job_id
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        top = QHBoxLayout()
        self.title = QLabel(title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.cancel = QPushButton("Cancel")
        top.addWidget(self.title, 2)
        top.addWidget(self.bar, 3)
        top.addWidget(self.cancel)
        lay.addLayout(top)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)

    def update_state(self, state: str, progress: float, message: str, error: str) -> None:
        self.bar.setValue(int(round(progress * 1000)))
        finished = state in ("done", "failed", "cancelled")
        self.cancel.setEnabled(not finished)
        if state == "failed":
            self.status.setText(f"Failed: {error}")
            self.status.setStyleSheet("color: #e06c6c")
        elif state == "cancelled":
            self.status.setText("Cancelled")
            self.status.setStyleSheet("")
        elif state == "done":
            self.status.setText("Done")
            self.status.setStyleSheet("")
        else:
            self.status.setText(message)
            self.status.setStyleSheet("")


class JobsPanel(QScrollArea):
    cancelRequested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self._layout.addStretch(1)
        self.setWidget(self._inner)
        self.rows: dict[int, JobRow] = {}

    def add_job(self, job_id: int, title: str) -> JobRow:
        row = JobRow(job_id, title)
        row.cancel.clicked.connect(lambda: self.cancelRequested.emit(job_id))
        self._layout.insertWidget(self._layout.count() - 1, row)
        self.rows[job_id] = row
        return row

    def update_job(self, job_id: int, state: str, progress: float, message: str = "", error: str = "") -> None:
        row = self.rows.get(job_id)
        if row is not None:
            row.update_state(state, progress, message, error)

    def clear_finished(self) -> None:
        for job_id, row in list(self.rows.items()):
            if not row.cancel.isEnabled():
                row.setParent(None)
                del self.rows[job_id]
