"""The pattern editor: a dock with the node view of one pattern of the project.

:class:`PatternEditorController` wires :class:`widgets.nodes.NodeEditor` to
:mod:`core.lighting`: every edit the view requests becomes a
:class:`PatternEditCommand` on the window's undo stack, whose redo/undo store
the pattern's graph JSON in the project (one transaction each); the view is
then reloaded from what was stored. Node positions are stored in the graph
(``NodeSpec.pos``). Badges show what core's validation says about each node;
the preview shows the selected node's output over the pattern's time range.

The main window installs it with ``PatternEditorController(window).install(window)``
and tells it about projects with :meth:`project_opened` / :meth:`project_closing`
(it also notices a changed ``window.project`` by itself).
"""

from __future__ import annotations

import hashlib
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QUndoCommand
from PySide6.QtWidgets import QDockWidget, QInputDialog

from app.pattern_model import (LightingNodeModel, empty_pattern_json, graph_errors, node_preview, pattern_names,
                               preview_times, stored_pattern_json, structure_error, to_graph_data, to_pattern,
                               write_pattern_json)
from app.project_follower import ProjectFollower, lighting_menu
from core.errors import LumaError
from core.lighting.pattern import PatternGraph
from core.lighting.store import load_show
from widgets.nodes import NodeEditor, Preview

log = logging.getLogger(__name__)
MERGE_ID = 0x4C504500  # QUndoCommand.id() of parameter edits that merge


class PatternEditCommand(QUndoCommand):
    """One edit of one pattern: redo stores ``after``, undo stores ``before`` (exact JSON texts;
    None: the pattern does not exist). Consecutive edits of one parameter merge into one step."""

    def __init__(self, controller: "PatternEditorController", name: str, before: str | None, after: str | None,
                 label: str, merge_key: str = ""):
        super().__init__(label)
        self.controller, self.name = controller, name
        self.before, self.after = before, after
        self.merge_key = merge_key

    def id(self) -> int:
        return MERGE_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, PatternEditCommand) or (other.name, other.merge_key) != (self.name, self.merge_key):
            return False
        self.after = other.after
        if self.after == self.before:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.controller.store(self.name, self.after, self.text())

    def undo(self) -> None:
        self.controller.store(self.name, self.before, f"undo {self.text()}")


class PatternEditorController(ProjectFollower):
    def __init__(self, window=None, use_pyqtgraph: bool | None = None):
        super().__init__(window)
        self.editor = NodeEditor(use_pyqtgraph=use_pyqtgraph)
        self.model = LightingNodeModel()
        self.editor.set_model(self.model)
        self.name: str | None = None  # the pattern shown
        self.shown_json: str | None = None
        self.dock: QDockWidget | None = None
        self.edit_action: QAction | None = None
        self.show = None  # the project's lighting show (rig, tempo, layers) as last loaded
        self._fingerprint = ""
        self._storing = False
        self.editor.changeRequested.connect(self._on_change)
        self.editor.currentNodeChanged.connect(lambda _nid: self.update_preview())
        self.editor.setEnabled(False)

    # ================================================================ installation
    def install(self, window) -> None:
        """Add the dock (a tab beside the timeline, hidden until a pattern is edited) and
        Lighting > Edit Pattern… to ``window``."""
        self.window = window
        if self.parent() is None:
            self.setParent(window)
        dock = QDockWidget("Pattern Editor", window)
        dock.setObjectName("dock-pattern-editor")
        dock.setWidget(self.editor)
        timeline = window.findChild(QDockWidget, "dock-timeline")
        if timeline is not None and window.dockWidgetArea(timeline) != Qt.DockWidgetArea.NoDockWidgetArea:
            window.tabifyDockWidget(timeline, dock)  # a tab beside the timeline: the whole bottom width
        else:
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        self.dock = dock
        menu = lighting_menu(window.menuBar())
        self.edit_action = QAction("Edit Pattern…", window)
        self.edit_action.triggered.connect(self.ask_pattern)
        menu.addAction(self.edit_action)
        self._bind_project()

    def _project_switched(self) -> None:
        self.name = self.shown_json = None
        self.show = None
        self._fingerprint = ""
        self._show_nothing()

    def _show_error(self, message: str) -> None:
        if self.window is not None and hasattr(self.window, "show_error"):
            self.window.show_error(message)
        else:
            log.warning("%s", message)
        self.editor.status.setStyleSheet("color: #e5484d;")
        self.editor.status.setText(message)

    # ================================================================ choosing a pattern
    def ask_pattern(self) -> None:
        """Lighting > Edit Pattern…: pick a pattern of the project or type a new name."""
        project = self.project
        if project is None:
            self._show_error("Open or create a project first (File > New Project).")
            return
        dlg = QInputDialog(self.window)
        dlg.setObjectName("editPatternDialog")
        dlg.setWindowTitle("Edit Pattern")
        dlg.setLabelText("Pattern (pick one, or type a new name):")
        names = pattern_names(project)
        dlg.setComboBoxItems(names or ["pattern 1"])
        dlg.setComboBoxEditable(True)
        if self.name in names:
            dlg.setTextValue(self.name)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.textValueSelected.connect(lambda text: self.edit_pattern(text.strip()))
        dlg.open()

    def edit_pattern(self, name: str) -> bool:
        """Show pattern ``name`` in the dock; a name not in the project creates it (undoably)."""
        project = self.project
        if project is None:
            self._show_error("Open or create a project first (File > New Project).")
            return False
        name = (name or "").strip()
        if not name:
            self._show_error("A pattern needs a name.")
            return False
        self.name = name
        if stored_pattern_json(project, name) is None:
            self.undo_stack.push(PatternEditCommand(self, name, None, empty_pattern_json(name), f"new pattern {name}"))
        else:
            self.reload()
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
        self.editor.frame_all()
        return True

    # ================================================================ storing
    def store(self, name: str, text: str | None, label: str) -> None:
        """Write one pattern's JSON (one transaction) and show that pattern as stored."""
        project = self.project
        if project is None:
            return
        self._storing = True
        try:
            write_pattern_json(project, name, text, label)
        except LumaError as exc:
            self._show_error(str(exc))
        finally:
            self._storing = False
        self.name = name
        self.reload()

    def stored_json(self, name: str | None = None) -> str | None:
        project = self.project
        name = name or self.name
        return stored_pattern_json(project, name) if project is not None and name else None

    def _on_change(self, data, label: str, merge_key: str) -> None:
        project = self.project
        if project is None or self.name is None or self.shown_json is None:
            return
        graph = to_pattern(self.name, data)
        err = structure_error(graph)
        if err is not None:
            self._show_error(str(err))
            return
        after = graph.to_json()
        before = stored_pattern_json(project, self.name)
        if after == before:
            return
        self.undo_stack.push(PatternEditCommand(self, self.name, before, after, f"{label} in {self.name}", merge_key))

    # ================================================================ showing
    def _show_nothing(self) -> None:
        self.editor.set_graph(to_graph_data(PatternGraph("-")))
        self.editor.set_errors({})
        self.editor.setEnabled(False)
        self.editor.show_preview(Preview("text", text="Lighting > Edit Pattern… opens a pattern here."))
        if self.dock is not None:
            self.dock.setWindowTitle("Pattern Editor")

    def _lighting_fingerprint(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        for table in ("lighting_settings", "lighting_fixtures", "lighting_fixture_defs", "lighting_layers"):
            h.update(repr(self._project.query(f"SELECT * FROM {table} ORDER BY rowid")).encode())
        return h.hexdigest()

    def reload(self) -> None:
        """Show the stored state of the current pattern: graph, badges, preview."""
        project = self.project
        if project is None or self.name is None:
            self._show_nothing()
            return
        text = stored_pattern_json(project, self.name)
        if text is None:  # its creation was undone
            self.name = self.shown_json = None
            self._show_nothing()
            return
        try:
            graph = PatternGraph.from_json(text)
            fingerprint = self._lighting_fingerprint()
            if self.show is None or fingerprint != self._fingerprint:
                self.show = load_show(project)
                self._fingerprint = fingerprint
                self.model.rig = self.show.patch.rig()
        except LumaError as exc:
            self._show_error(f"Pattern {self.name!r} cannot be shown: {exc}")
            self.shown_json = None
            self._show_nothing()
            return
        self.shown_json = text
        self.editor.setEnabled(True)
        self.editor.set_graph(to_graph_data(graph))
        errors = graph_errors(graph, self.model.rig, self.show.tempo)
        general = errors.pop("", "")
        self.editor.set_errors(errors)
        if general:
            self.editor.status.setStyleSheet("color: #e5484d;")
            self.editor.status.setText(general)
        if self.dock is not None:
            self.dock.setWindowTitle(f"Pattern Editor - {self.name}")
        self.update_preview()

    def update_preview(self) -> None:
        nid = self.editor.current_node()
        if not nid or self.show is None or self.shown_json is None or self.name is None:
            self.editor.show_preview(Preview("text", text="Select a node to preview its output."))
            return
        graph = PatternGraph.from_json(self.shown_json)
        t, start = preview_times(self.show, self.name)
        self.editor.show_preview(node_preview(graph, nid, self.model.rig, self.show.tempo, t, start))

    # ================================================================ changes from elsewhere
    def _on_project_changed(self, _label: str) -> None:
        if self._storing or self._project is None or self._project.closed or self.name is None:
            return
        if stored_pattern_json(self._project, self.name) != self.shown_json or \
                self._lighting_fingerprint() != self._fingerprint:
            self.reload()
