"""Inspector: shows the properties of the selected clip (given as label/value pairs)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget


class Inspector(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.show_properties([])

    def show_properties(self, rows: list[tuple[str, str]], title: str = "") -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        if title:
            heading = QLabel(f"<b>{title}</b>")
            self._form.addRow(heading)
        if not rows:
            self._form.addRow(QLabel("Nothing selected"))
        for label, value in rows:
            v = QLabel(value)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._form.addRow(label, v)

    def values(self) -> dict[str, str]:
        out = {}
        for r in range(self._form.rowCount()):
            lab = self._form.itemAt(r, QFormLayout.ItemRole.LabelRole)
            fld = self._form.itemAt(r, QFormLayout.ItemRole.FieldRole)
            if lab is not None and fld is not None:
                out[lab.widget().text()] = fld.widget().text()
        return out
