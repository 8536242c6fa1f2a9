"""Inspector: the properties of the selected clip (label/value pairs) and its tracks.

The track list shows one line per tracking session of the clip (text made by
the app); selecting a line emits ``trackSelected(id)``, the Delete button
``trackDeleteRequested(id)``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWidget)


class Inspector(QWidget):
    trackSelected = Signal(int)
    trackDeleteRequested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        props = QWidget()
        self._form = QFormLayout(props)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        outer.addWidget(props)
        self.tracks_box = QGroupBox("Tracks")
        tl = QVBoxLayout(self.tracks_box)
        self.track_list = QListWidget()
        self.track_list.setObjectName("trackList")
        self.track_list.setWordWrap(True)
        self.track_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tl.addWidget(self.track_list)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.delete_track_button = QPushButton("Delete Track")
        buttons.addWidget(self.delete_track_button)
        tl.addLayout(buttons)
        outer.addWidget(self.tracks_box, 1)
        self.track_list.currentItemChanged.connect(self._current_changed)
        self.delete_track_button.clicked.connect(self._delete_clicked)
        self._quiet = False
        self.show_properties([])
        self.set_tracks([])

    # ------------------------------------------------------------ properties
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

    # ------------------------------------------------------------ tracks
    def set_tracks(self, rows: list[tuple[int, str]], current: int | None = None, title: str = "Tracks") -> None:
        """One ``(id, text)`` per track; ``current`` is selected (no signal is emitted for it)."""
        self._quiet = True
        try:
            self.tracks_box.setTitle(title)
            self.track_list.clear()
            for track_id, text in rows:
                item = QListWidgetItem(text)
                item.setToolTip(text)
                item.setData(Qt.ItemDataRole.UserRole, int(track_id))
                self.track_list.addItem(item)
                if track_id == current:
                    self.track_list.setCurrentItem(item)
            if not rows:
                item = QListWidgetItem("No tracks: Track > Detect People, pick a box, Track Subject")
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                self.track_list.addItem(item)
        finally:
            self._quiet = False
        self.delete_track_button.setEnabled(self.selected_track() is not None)

    def track_ids(self) -> list[int]:
        ids = (self.track_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.track_list.count()))
        return [int(i) for i in ids if i is not None]

    def track_text(self, track_id: int) -> str:
        for i in range(self.track_list.count()):
            item = self.track_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == track_id:
                return item.text()
        return ""

    def selected_track(self) -> int | None:
        item = self.track_list.currentItem()
        value = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        return None if value is None else int(value)

    def select_track(self, track_id: int) -> None:
        """Select a track as the user would (emits trackSelected)."""
        for i in range(self.track_list.count()):
            if self.track_list.item(i).data(Qt.ItemDataRole.UserRole) == track_id:
                self.track_list.setCurrentRow(i)
                return

    def _current_changed(self, item, _previous) -> None:
        track = self.selected_track()
        self.delete_track_button.setEnabled(track is not None)
        if track is not None and not self._quiet:
            self.trackSelected.emit(track)

    def _delete_clicked(self) -> None:
        track = self.selected_track()
        if track is not None:
            self.trackDeleteRequested.emit(track)
