"""The parameters of the selected node, one editor per parameter kind.

float -> spin box with the parameter's range, int -> integer spin box, bool ->
check box, choice -> combo box, color -> swatch button (colour dialog),
colors -> a row of swatches with + and -, names / text -> line edit (names:
comma-separated, with completion from the application's suggestions).

An edit emits ``paramEdited(node_id, name, value)`` once it is complete (Enter,
leaving the field, a step of the arrows, a pick in a list or dialog), never
while typing; values are ``"#rrggbb"`` for colours and lists for colors/names.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QCompleter, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from widgets.nodes.model import NodeTypeDef, ParamDef


def to_qcolor(value: Any) -> QColor:
    """A colour parameter value (``"#rrggbb"`` or ``[r, g, b]`` 0..1) as a QColor (grey if unreadable)."""
    if isinstance(value, str):
        c = QColor(value if value.startswith("#") else "#" + value)
        return c if c.isValid() else QColor("grey")
    if isinstance(value, (list, tuple)) and len(value) == 3:
        try:
            r, g, b = (min(max(float(v), 0.0), 1.0) for v in value)
        except (TypeError, ValueError):
            return QColor("grey")
        return QColor.fromRgbF(r, g, b)
    return QColor("grey")


class ColorButton(QPushButton):
    """A swatch; clicking opens a colour dialog; ``picked("#rrggbb")`` after a choice."""

    picked = Signal(str)

    def __init__(self, color: QColor, parent=None):
        super().__init__(parent)
        self.setFixedSize(44, 22)
        self.color = QColor()
        self.set_color(color)
        self.clicked.connect(self._ask)
        self._dialog: QColorDialog | None = None

    def set_color(self, color: QColor) -> None:
        self.color = QColor(color)
        self.setToolTip(self.color.name())
        self.setStyleSheet(f"background-color: {self.color.name()}; border: 1px solid #111; border-radius: 3px;")

    def pick(self, color: QColor) -> None:
        """Take ``color`` as the user's choice."""
        self.set_color(color)
        self.picked.emit(self.color.name())

    def _ask(self) -> None:
        self._dialog = QColorDialog(self.color, self)
        self._dialog.setOption(QColorDialog.ColorDialogOption.DontUseNativeDialog)
        self._dialog.colorSelected.connect(self.pick)
        self._dialog.open()


class ColorsEditor(QWidget):
    """A list of colours: swatches, + adds a copy of the last, - removes the last (at least two)."""

    edited = Signal(list)

    def __init__(self, values: Sequence[Any], parent=None):
        super().__init__(parent)
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(3)
        self.buttons: list[ColorButton] = []
        self.add_button = QToolButton(text="+")
        self.remove_button = QToolButton(text="−")
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self._lay.addWidget(self.add_button)
        self._lay.addWidget(self.remove_button)
        self._lay.addStretch(1)
        for v in values:
            self._append(to_qcolor(v))
        self._update_buttons()

    def _append(self, color: QColor) -> None:
        b = ColorButton(color)
        b.setFixedSize(26, 22)
        b.picked.connect(lambda _name: self.edited.emit(self.values()))
        self._lay.insertWidget(len(self.buttons), b)
        self.buttons.append(b)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(len(self.buttons) > 2)

    def values(self) -> list[str]:
        return [b.color.name() for b in self.buttons]

    def _add(self) -> None:
        self._append(self.buttons[-1].color if self.buttons else QColor("white"))
        self._update_buttons()
        self.edited.emit(self.values())

    def _remove(self) -> None:
        if len(self.buttons) > 2:
            b = self.buttons.pop()
            b.deleteLater()
            self._update_buttons()
            self.edited.emit(self.values())


def split_names(text: str) -> list[str]:
    return [w for w in (p.strip() for p in text.replace(";", ",").split(",")) if w]


class NodeInspector(QWidget):
    paramEdited = Signal(str, str, object)  # node id, parameter, value

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #e5484d;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.doc_label = QLabel()
        self.doc_label.setWordWrap(True)
        self.doc_label.setStyleSheet("color: #9a9ca3;")
        outer.addWidget(self.heading)
        outer.addWidget(self.error_label)
        outer.addWidget(self.doc_label)
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self._form_host)
        outer.addWidget(scroll, 1)
        self.node_id = ""
        self.kind: NodeTypeDef | None = None
        self.editors: dict[str, QWidget] = {}
        self.clear()

    def clear(self) -> None:
        self.node_id = ""
        self.kind = None
        self.heading.setText("<i>No node selected</i>")
        self.doc_label.setText("Select a node to edit its parameters.")
        self.set_error("")
        self._clear_form()

    def _clear_form(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors = {}

    def set_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def show_node(self, node_id: str, kind: NodeTypeDef, params: Mapping[str, Any],
                  suggestions: Callable[[str], Sequence[str]] | None = None) -> None:
        """Show the editors of ``node_id`` (values not in ``params`` show their default).

        Showing the node already shown updates the values in place (the editor
        being used keeps the keyboard focus)."""
        if node_id == self.node_id and kind == self.kind:
            self._update_values(params)
            return
        self._clear_form()
        self.node_id = node_id
        self.kind = kind
        self.heading.setText(f"<b>{kind.title or kind.type_id}</b> &nbsp;<span style='color:#9a9ca3'>{node_id}</span>")
        self.doc_label.setText(kind.doc)
        self.doc_label.setVisible(bool(kind.doc))
        if not kind.params:
            self._form.addRow(QLabel("This node has no parameters."))
        for p in kind.params:
            editor = self._editor(p, params.get(p.name, p.default), suggestions)
            label = QLabel(p.name)
            if p.doc:
                label.setToolTip(p.doc)
                editor.setToolTip(p.doc)
            if p.name in params:
                f = label.font()
                f.setBold(True)
                label.setFont(f)
            self._form.addRow(label, editor)
            self.editors[p.name] = editor

    def _update_values(self, params: Mapping[str, Any]) -> None:
        for p in self.kind.params:
            w = self.editors.get(p.name)
            if w is None:
                continue
            value = params.get(p.name, p.default)
            if isinstance(w, ColorsEditor):
                if isinstance(value, (list, tuple)) and w.values() != [to_qcolor(v).name() for v in value]:
                    self._replace_editor(p, value)
                continue
            label = self._form.labelForField(w)
            if label is not None:
                f = label.font()
                f.setBold(p.name in params)
                label.setFont(f)
            w.blockSignals(True)
            try:
                if isinstance(w, QDoubleSpinBox) and isinstance(value, (int, float)):
                    w.setValue(float(value))
                elif isinstance(w, QSpinBox) and isinstance(value, (int, float)):
                    w.setValue(int(value))
                elif isinstance(w, QCheckBox):
                    w.setChecked(bool(value))
                elif isinstance(w, QComboBox) and value in p.choices:
                    w.setCurrentIndex(list(p.choices).index(value))
                elif isinstance(w, ColorButton):
                    w.set_color(to_qcolor(value))
                elif isinstance(w, QLineEdit) and not w.hasFocus():
                    text = ", ".join(value) if p.kind == "names" and isinstance(value, (list, tuple)) else str(value)
                    w.setText(text)
                    w.setProperty("shown", text)
            finally:
                w.blockSignals(False)

    def _replace_editor(self, p: ParamDef, value: Any) -> None:
        old = self.editors[p.name]
        new = self._editor(p, value, None)
        row, _role = self._form.getWidgetPosition(old)
        self._form.removeRow(row)
        label = QLabel(p.name)
        if p.doc:
            label.setToolTip(p.doc)
            new.setToolTip(p.doc)
        self._form.insertRow(row, label, new)
        self.editors[p.name] = new

    def _emit(self, name: str, value: Any) -> None:
        if self.node_id:
            self.paramEdited.emit(self.node_id, name, value)

    def _editor(self, p: ParamDef, value: Any, suggestions) -> QWidget:
        name = p.name
        if p.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(3)
            w.setRange(p.min if p.min is not None else -1e9, p.max if p.max is not None else 1e9)
            span = (p.max - p.min) if p.min is not None and p.max is not None else 100.0
            w.setSingleStep(0.01 if span <= 2 else 0.1 if span <= 20 else 1.0)
            w.setKeyboardTracking(False)
            w.setValue(float(value) if isinstance(value, (int, float)) else float(p.default))
            w.valueChanged.connect(lambda v: self._emit(name, float(v)))
            return w
        if p.kind == "int":
            w = QSpinBox()
            lo = int(p.min) if p.min is not None else -(2**31 - 1)
            hi = int(p.max) if p.max is not None else 2**31 - 1
            w.setRange(lo, hi)
            w.setKeyboardTracking(False)
            w.setValue(int(value) if isinstance(value, (int, float)) else int(p.default))
            w.valueChanged.connect(lambda v: self._emit(name, int(v)))
            return w
        if p.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda on: self._emit(name, bool(on)))
            return w
        if p.kind == "choice":
            w = QComboBox()
            w.addItems(list(p.choices))
            if value in p.choices:
                w.setCurrentIndex(list(p.choices).index(value))
            w.activated.connect(lambda i: self._emit(name, p.choices[i]))
            return w
        if p.kind == "color":
            w = ColorButton(to_qcolor(value))
            w.picked.connect(lambda c: self._emit(name, c))
            return w
        if p.kind == "colors":
            w = ColorsEditor(value if isinstance(value, (list, tuple)) else p.default)
            w.edited.connect(lambda vs: self._emit(name, vs))
            return w
        w = QLineEdit()
        if p.kind == "names":
            w.setText(", ".join(value) if isinstance(value, (list, tuple)) else str(value or ""))
            words = list(suggestions(name)) if suggestions is not None else []
            if words:
                completer = QCompleter(words, w)
                completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                w.setCompleter(completer)
                w.setPlaceholderText(", ".join(words[:4]) + ("…" if len(words) > 4 else ""))
            w.setProperty("shown", w.text())

            def names_done() -> None:
                now = split_names(w.text())
                if now != split_names(w.property("shown") or ""):
                    w.setProperty("shown", w.text())
                    self._emit(name, now)

            w.editingFinished.connect(names_done)
            return w
        w.setText("" if value is None else str(value))
        w.setProperty("shown", w.text())

        def text_done() -> None:
            if w.text() != w.property("shown"):
                w.setProperty("shown", w.text())
                self._emit(name, w.text())

        w.editingFinished.connect(text_done)
        return w
