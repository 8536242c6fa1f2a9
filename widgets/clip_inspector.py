"""Clip inspector: the editable properties and the filter stack of a clip, a track or the sequence.

The panel is built from :class:`core.timeline.props.PropSpec` tables: one row
per property (a spin box, a slider for short ranges, and for a keyframable
property a keyframe toggle ◆ and previous/next key buttons), the blend mode
for a clip, and the filter stack (add from the registered filter types,
remove, move up/down, enable, and the selected filter's parameters with the
same rows; a LUT filter gets a "Choose .cube…" button).

It knows nothing about storage or rendering: the app gives it an
:class:`InspectorTarget` (the stored properties and the frame under the
playhead in the target's key time) and turns its signals into edits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QButtonGroup, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QScrollArea, QSizePolicy, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from core.timeline import keyframes
from core.timeline import props as P

KEY_ON, KEY_OFF = "◆", "◇"
SLIDER_STEPS = 1000
TARGET_KINDS = ("clip", "track", "sequence")


def filter_label(kind: str) -> str:
    return kind.replace("_", " ").capitalize() if kind != "lut" else "LUT"


def key_frames(value) -> list[int]:
    """Frames of the keys of a stored value (none for a constant)."""
    return [int(k[0]) for k in value["keys"]] if keyframes.is_animated(value) else []


@dataclass
class InspectorTarget:
    """What the inspector shows: ``props`` as stored, ``frame`` in the target's key time."""

    kind: str  # "clip" | "track" | "sequence"
    title: str
    props: dict
    specs: dict = field(default_factory=dict)  # name -> PropSpec of the editable properties
    frame: int = 0
    blend: bool = False  # show the blend-mode choice (clips)
    filters: bool = True  # show the filter stack (pictures: not for sound)


def _clear_form(form: QFormLayout, keep=()) -> None:
    """Delete every row of ``form`` except the widgets in ``keep`` (taken out, kept for reuse)."""
    for w in keep:
        row, _role = form.getWidgetPosition(w)
        if row >= 0:
            taken = form.takeRow(row)
            if taken.labelItem is not None and taken.labelItem.widget() is not None:
                taken.labelItem.widget().deleteLater()
            w.setParent(None)
    while form.rowCount():
        form.removeRow(0)


def _add_row(form: QFormLayout, text: str, widget: QWidget) -> None:
    label = QLabel(text)
    form.addRow(label, widget)
    for w in (label, widget):  # shown now, not at the next event-loop turn (a grab right after sees them)
        w.setVisible(True)


def _is_integer(spec: P.PropSpec) -> bool:
    return isinstance(spec.default, int) and not spec.keyframable


class ParamRow(QWidget):
    """One number: spin box (+ slider for a short range) and, when keyframable, ◆ / ◀ / ▶."""

    edited = Signal(float)
    keyToggled = Signal()
    seekRequested = Signal(int)  # key frame to go to
    gestureStarted = Signal()
    gestureEnded = Signal()

    def __init__(self, spec: P.PropSpec, parent=None):
        super().__init__(parent)
        self.spec = spec
        self._frames: list[int] = []
        self._frame = 0
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        if _is_integer(spec):
            self.spin: QAbstractSpinBox = QSpinBox()
            self.spin.setRange(int(spec.minimum), int(min(spec.maximum, 2**31 - 1)))
        else:
            self.spin = QDoubleSpinBox()
            span = spec.maximum - spec.minimum
            self.spin.setDecimals(3 if span <= 10 else 2)
            self.spin.setSingleStep(0.01 if span <= 2 else (0.1 if span <= 20 else 1.0))
            self.spin.setRange(spec.minimum, spec.maximum)
        self.spin.setKeyboardTracking(False)  # one edit per Enter / arrow step, not per keystroke
        if spec.unit:
            self.spin.setSuffix(f" {spec.unit}")
        self.spin.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.spin.setMinimumWidth(64)
        lay.addWidget(self.spin, 2)
        self.slider: QSlider | None = None
        if not _is_integer(spec) and spec.maximum - spec.minimum <= 200:
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.setMinimumWidth(40)
            lay.addWidget(self.slider, 3)
            self.slider.valueChanged.connect(self._slider_moved)
            self.slider.sliderPressed.connect(self.gestureStarted)
            self.slider.sliderReleased.connect(self.gestureEnded)
        self.key_button = self._tool(KEY_OFF, "Set or remove a keyframe here")
        self.key_button.setCheckable(True)
        self.prev_button = self._tool("◀", "Previous keyframe")
        self.next_button = self._tool("▶", "Next keyframe")
        for b in (self.prev_button, self.key_button, self.next_button):
            lay.addWidget(b)
            b.setVisible(spec.keyframable)
        self.spin.valueChanged.connect(self._spin_changed)
        self.key_button.clicked.connect(lambda _c=False: self.keyToggled.emit())
        self.prev_button.clicked.connect(lambda: self._jump(-1))
        self.next_button.clicked.connect(lambda: self._jump(1))

    def _tool(self, text: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        return b

    # ------------------------------------------------------------ display
    def show_value(self, stored, frame: int) -> None:
        """Show ``stored`` (number or keyed value) as it is at ``frame``; no signal."""
        self._frames = key_frames(stored)
        self._frame = int(frame)
        v = keyframes.evaluate(stored, int(frame))
        for w in (self.spin, self.slider):
            if w is not None:
                w.blockSignals(True)
        try:
            self.spin.setValue(int(round(v)) if isinstance(self.spin, QSpinBox) else float(v))
            if self.slider is not None and not self.slider.isSliderDown():
                self.slider.setValue(self._to_slider(v))
        finally:
            for w in (self.spin, self.slider):
                if w is not None:
                    w.blockSignals(False)
        here = self._frame in self._frames
        self.key_button.setChecked(here)
        self.key_button.setText(KEY_ON if here else KEY_OFF)
        animated = bool(self._frames)
        self.key_button.setStyleSheet("color: #f0b030" if animated else "")
        self.prev_button.setEnabled(any(f < self._frame for f in self._frames))
        self.next_button.setEnabled(any(f > self._frame for f in self._frames))

    def value(self) -> float:
        return float(self.spin.value())

    def animated(self) -> bool:
        return bool(self._frames)

    def has_key_here(self) -> bool:
        return self._frame in self._frames

    # ------------------------------------------------------------ user gestures
    def set_value(self, v: float) -> None:
        """Type a value as the user would (emits ``edited`` when it changes)."""
        self.spin.setValue(int(round(v)) if isinstance(self.spin, QSpinBox) else float(v))

    def _to_slider(self, v: float) -> int:
        s = self.spec
        return int(round((min(max(v, s.minimum), s.maximum) - s.minimum) / (s.maximum - s.minimum) * SLIDER_STEPS))

    def _slider_moved(self, pos: int) -> None:
        s = self.spec
        v = s.minimum + (s.maximum - s.minimum) * pos / SLIDER_STEPS
        self.spin.blockSignals(True)
        self.spin.setValue(v)
        self.spin.blockSignals(False)
        self.edited.emit(float(self.spin.value()))

    def _spin_changed(self, v) -> None:
        if self.slider is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(self._to_slider(float(v)))
            self.slider.blockSignals(False)
        self.edited.emit(float(v))

    def _jump(self, direction: int) -> None:
        f = self._frame
        target = [k for k in self._frames if k > f][:1] if direction > 0 else [k for k in self._frames if k < f][-1:]
        if target:
            self.seekRequested.emit(target[0])


class ClipInspector(QWidget):
    """See the module docstring. Every signal names what to change; the app applies it."""

    targetKindChanged = Signal(str)
    propertyEdited = Signal(str, float)  # name, value at the current frame
    blendEdited = Signal(str)
    keyToggled = Signal(str)  # property name
    seekRequested = Signal(int)  # a key frame, in the target's key time
    filterAddRequested = Signal(str)  # filter type
    filterRemoveRequested = Signal(int)
    filterMoveRequested = Signal(int, int)  # index, new index
    filterEnabledEdited = Signal(int, bool)
    filterParamEdited = Signal(int, str, float)
    filterKeyToggled = Signal(int, str)
    filterLutChosen = Signal(int, str)

    def __init__(self, filter_specs: dict | None = None, blend_modes=P.BLEND_MODES, parent=None):
        super().__init__(parent)
        self.filter_specs = P.FILTER_SPECS if filter_specs is None else filter_specs
        self.target: InspectorTarget | None = None
        self._gesture = 0
        self._dragging = False
        self._rows: dict[str, ParamRow] = {}
        self._rows_key: tuple = ()
        self._param_rows: dict[str, ParamRow] = {}
        self._param_key: tuple | None = None
        self._shown_filters: list[dict] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)

        top = QHBoxLayout()
        self.kind_group = QButtonGroup(self)
        self.kind_buttons: dict[str, QToolButton] = {}
        for kind in TARGET_KINDS:
            b = QToolButton()
            b.setText(kind.capitalize())
            b.setCheckable(True)
            b.setObjectName(f"target-{kind}")
            self.kind_group.addButton(b)
            self.kind_buttons[kind] = b
            top.addWidget(b)
            b.clicked.connect(lambda _c=False, k=kind: self._kind_clicked(k))
        top.addStretch(1)
        outer.addLayout(top)
        self.title = QLabel("Nothing selected")
        self.title.setWordWrap(True)
        outer.addWidget(self.title)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._body = QVBoxLayout(body)
        self._body.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(body)
        self._scroll = scroll
        outer.addWidget(scroll, 1)

        self.props_box = QGroupBox("Properties")
        self._props_form = QFormLayout(self.props_box)
        self._props_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.blend_combo = QComboBox()
        self.blend_combo.addItems(list(blend_modes))
        self.blend_combo.currentTextChanged.connect(self._blend_changed)
        self._body.addWidget(self.props_box)

        self.filters_box = QGroupBox("Filters")
        fl = QVBoxLayout(self.filters_box)
        self.filter_list = QListWidget()
        self.filter_list.setObjectName("filterList")
        self.filter_list.setMaximumHeight(130)
        fl.addWidget(self.filter_list)
        buttons = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add ▾")
        self.add_button.setToolTip("Add a filter at the end of the stack")
        self.add_menu = QMenu(self.add_button)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.remove_button = QToolButton()
        self.remove_button.setText("Remove")
        self.up_button = QToolButton()
        self.up_button.setText("▲")
        self.up_button.setToolTip("Move up (applied earlier)")
        self.down_button = QToolButton()
        self.down_button.setText("▼")
        self.down_button.setToolTip("Move down (applied later)")
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        fl.addLayout(buttons)
        self.params_box = QGroupBox("Parameters")
        self._params_form = QFormLayout(self.params_box)
        self._params_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.lut_button = QPushButton("Choose .cube…")
        self.lut_button.clicked.connect(self._choose_lut)
        fl.addWidget(self.params_box)
        self._body.addWidget(self.filters_box)
        self._body.addStretch(1)

        self.filter_list.currentRowChanged.connect(lambda _r: self._show_filter_params())
        self.filter_list.itemChanged.connect(self._item_changed)
        self.remove_button.clicked.connect(self._remove_clicked)
        self.up_button.clicked.connect(lambda: self._move_clicked(-1))
        self.down_button.clicked.connect(lambda: self._move_clicked(1))
        self.set_available({})
        self.set_target(None)

    # ================================================================ input from the app
    def set_available(self, available: dict[str, bool]) -> None:
        """Which target kinds can be chosen now (e.g. no clip selected: no "Clip")."""
        for kind, b in self.kind_buttons.items():
            b.setEnabled(bool(available.get(kind)))

    def set_target(self, target: InspectorTarget | None) -> None:
        """Show ``target`` (None: nothing to edit). Emits no edit signal."""
        self.target = target
        for kind, b in self.kind_buttons.items():
            b.blockSignals(True)
            b.setChecked(target is not None and target.kind == kind)
            b.blockSignals(False)
        enabled = target is not None
        self.props_box.setEnabled(enabled)
        self.filters_box.setEnabled(enabled)
        if target is None:
            self.title.setText("Nothing selected: select a clip on the timeline")
            self._build_rows({}, False)
            self._fill_filters([])
            self._shown_filters = []
            return
        self.title.setText(f"<b>{target.title}</b>")
        self._build_rows(target.specs, target.blend)
        for name, row in self._rows.items():
            row.show_value(target.props.get(name, target.specs[name].default), target.frame)
        if target.blend:
            self.blend_combo.blockSignals(True)
            self.blend_combo.setCurrentText(str(target.props.get("blend", "normal")))
            self.blend_combo.blockSignals(False)
        self.props_box.setVisible(bool(target.specs) or target.blend)
        self.filters_box.setVisible(target.filters)
        filters = self.filters()
        if filters != self._shown_filters or self.filter_list.count() != len(filters):
            self._fill_filters(filters)
        else:  # the same stack (e.g. the playhead moved): only the values at the new frame
            self._show_filter_params()
        self._fit_width()

    def filters(self) -> list[dict]:
        return list(self.target.props.get("filters", [])) if self.target is not None else []

    # ================================================================ state (tests, the app)
    def row(self, name: str) -> ParamRow:
        return self._rows[name]

    def property_names(self) -> list[str]:
        return list(self._rows)

    def value(self, name: str) -> float:
        return self._rows[name].value()

    def filter_kinds(self) -> list[str]:
        return [f["type"] for f in self.filters()]

    def selected_filter(self) -> int | None:
        r = self.filter_list.currentRow()
        return r if 0 <= r < len(self.filters()) else None

    def select_filter(self, index: int | None) -> None:
        n = len(self.filters())
        self.filter_list.setCurrentRow(-1 if index is None or n == 0 else max(0, min(int(index), n - 1)))
        self._show_filter_params()

    def param_row(self, name: str) -> ParamRow:
        return self._param_rows[name]

    def param_names(self) -> list[str]:
        return list(self._param_rows)

    def gesture(self) -> int | None:
        """An id shared by the edits of one slider drag (None outside a drag): edits of one drag may merge."""
        return self._gesture if self._dragging else None

    def add_filter(self, kind: str) -> None:
        """Add a filter as the Add menu does."""
        self.filterAddRequested.emit(kind)

    # ================================================================ building
    def _build_rows(self, specs: dict, blend: bool) -> None:
        key = (tuple(specs), blend)
        if key == self._rows_key:
            return
        self._rows_key = key
        _clear_form(self._props_form, keep=(self.blend_combo,))
        self._rows = {}
        if blend:
            _add_row(self._props_form, "Blend mode", self.blend_combo)
        for name, spec in specs.items():
            row = ParamRow(spec)
            row.setObjectName(f"prop-{name}")
            row.edited.connect(lambda v, n=name: self.propertyEdited.emit(n, v))
            row.keyToggled.connect(lambda n=name: self.keyToggled.emit(n))
            row.seekRequested.connect(self.seekRequested)
            self._wire_gesture(row)
            _add_row(self._props_form, spec.label or name, row)
            self._rows[name] = row

    def _wire_gesture(self, row: ParamRow) -> None:
        row.gestureStarted.connect(self._gesture_started)
        row.gestureEnded.connect(self._gesture_ended)

    def _gesture_started(self) -> None:
        self._gesture += 1
        self._dragging = True

    def _gesture_ended(self) -> None:
        self._dragging = False

    def _fill_filters(self, filters: list[dict]) -> None:
        self._shown_filters = [dict(f) for f in filters]
        current = self.filter_list.currentRow()
        self.filter_list.blockSignals(True)
        try:
            self.filter_list.clear()
            for f in filters:
                kind = f.get("type", "?")
                text = filter_label(kind)
                if kind == "lut" and isinstance(f.get("params", {}).get("path"), str):
                    text += f"  ({Path(f['params']['path']).name})"
                if any(keyframes.is_animated(v) for v in f.get("params", {}).values()):
                    text += "  " + KEY_ON
                item = QListWidgetItem(text)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if f.get("enabled", True) else Qt.CheckState.Unchecked)
                self.filter_list.addItem(item)
            if filters:
                self.filter_list.setCurrentRow(min(max(current, 0), len(filters) - 1))
        finally:
            self.filter_list.blockSignals(False)
        self._show_filter_params()

    def _show_filter_params(self) -> None:
        filters = self.filters()
        index = self.selected_filter()
        n = len(filters)
        self.remove_button.setEnabled(index is not None)
        self.up_button.setEnabled(index is not None and index > 0)
        self.down_button.setEnabled(index is not None and index < n - 1)
        if index is None:
            self._build_params(None, None)
            self.params_box.setVisible(False)
            return
        f = filters[index]
        kind = f.get("type", "")
        specs = self.filter_specs.get(kind, {})
        self._build_params(index, kind)
        params = f.get("params", {})
        for name, row in self._param_rows.items():
            row.show_value(params.get(name, specs[name].default), self.target.frame)
        if kind == "lut":
            path = params.get("path")
            self.lut_button.setText(Path(path).name if isinstance(path, str) and path else "Choose .cube…")
            self.lut_button.setToolTip(path if isinstance(path, str) else "Choose a 3D LUT (.cube)")
        self.params_box.setTitle(f"{filter_label(kind)} ({'on' if f.get('enabled', True) else 'off'})")
        self.params_box.setVisible(True)

    def _build_params(self, index: int | None, kind: str | None) -> None:
        key = (index, kind)
        if key == self._param_key:
            return
        self._param_key = key
        _clear_form(self._params_form, keep=(self.lut_button,))
        self._param_rows = {}
        if index is None or kind is None:
            return
        if kind == "lut":
            _add_row(self._params_form, "LUT file", self.lut_button)
        for name, spec in self.filter_specs.get(kind, {}).items():
            row = ParamRow(spec)
            row.setObjectName(f"param-{name}")
            row.edited.connect(lambda v, n=name: self._param_edited(n, v))
            row.keyToggled.connect(lambda n=name: self._param_key_toggled(n))
            row.seekRequested.connect(self.seekRequested)
            self._wire_gesture(row)
            _add_row(self._params_form, spec.label or name.replace("_", " ").capitalize(), row)
            self._param_rows[name] = row

    def _fit_width(self) -> None:
        """Never narrower than the rows (the panel scrolls up and down, not sideways)."""
        body = self._scroll.widget()
        need = body.minimumSizeHint().width() + self._scroll.verticalScrollBar().sizeHint().width() + 2
        if self._scroll.minimumWidth() < need:
            self._scroll.setMinimumWidth(need)

    # ================================================================ gestures
    def _kind_clicked(self, kind: str) -> None:
        if self.target is None or self.target.kind != kind:
            self.targetKindChanged.emit(kind)

    def _blend_changed(self, mode: str) -> None:
        if self.target is not None and self.target.blend and mode:
            self.blendEdited.emit(mode)

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        for kind in sorted(self.filter_specs):
            act = self.add_menu.addAction(filter_label(kind))
            act.triggered.connect(lambda _c=False, k=kind: self.filterAddRequested.emit(k))
        if not self.filter_specs:
            self.add_menu.addAction("No filter types are registered").setEnabled(False)

    def _item_changed(self, item: QListWidgetItem) -> None:
        row = self.filter_list.row(item)
        if 0 <= row < len(self.filters()):
            on = item.checkState() == Qt.CheckState.Checked
            if on != bool(self.filters()[row].get("enabled", True)):
                self.filterEnabledEdited.emit(row, on)

    def set_filter_enabled(self, index: int, on: bool) -> None:
        """Tick or untick a filter's checkbox as the user would."""
        self.filter_list.item(index).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _remove_clicked(self) -> None:
        index = self.selected_filter()
        if index is not None:
            self.filterRemoveRequested.emit(index)

    def _move_clicked(self, step: int) -> None:
        index = self.selected_filter()
        if index is not None and 0 <= index + step < len(self.filters()):
            self.filterMoveRequested.emit(index, index + step)

    def _param_edited(self, name: str, v: float) -> None:
        index = self.selected_filter()
        if index is not None and not math.isnan(v):
            self.filterParamEdited.emit(index, name, v)

    def _param_key_toggled(self, name: str) -> None:
        index = self.selected_filter()
        if index is not None:
            self.filterKeyToggled.emit(index, name)

    def _choose_lut(self) -> None:
        index = self.selected_filter()
        if index is None:
            return
        current = self.filters()[index].get("params", {}).get("path")
        start = str(Path(current).parent) if isinstance(current, str) and current else ""
        path, _ = QFileDialog.getOpenFileName(self, "Choose a 3D LUT", start, "Cube LUTs (*.cube);;All files (*)")
        if path:
            self.filterLutChosen.emit(index, path)
