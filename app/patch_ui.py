"""The patch dock: browse the fixture library, add fixtures, edit the patch - every change undoable.

:class:`PatchController` wires :class:`widgets.patch_panel.PatchPanel` to
:mod:`core.lighting`:

* the fixture library (:class:`~core.lighting.library.FixtureLibrary`: bundled
  definitions, the user's folder, an installed QLC+ library) is scanned on
  the job runner the first time the dock shows; searching uses
  :meth:`~core.lighting.library.FixtureLibrary.search`, a mode's channel
  list comes from the loaded definition;
* "Add N fixtures" places them with :func:`core.lighting.addressing.plan_fixtures`
  (next free addresses, back to back, on into the next universe);
* every change - add, edit of a cell, remove, a move in the stage view - is a
  QUndoCommand on the window's undo stack whose redo/undo store the fixtures
  through :mod:`core.lighting.patch_store` in one transaction;
* the table is rebuilt from the project after every change of it, with the
  overlaps :func:`core.lighting.addressing.find_conflicts` finds painted red.

Install with ``PatchController(window).install(window)`` (a dock tabbed
beside the timeline and Lighting > Patch); tell it about projects with
:meth:`project_opened` / :meth:`project_closing` (it also notices a new
``window.project`` by itself when its dock shows).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand
from PySide6.QtWidgets import QDockWidget

from app.project_follower import ProjectFollower, lighting_menu
from core.errors import LumaError
from core.lighting.addressing import find_conflicts, plan_fixtures
from core.lighting.errors import PatchError
from core.lighting.fixture_def import ChannelDef, FixtureDef
from core.lighting.library import FixtureLibrary, LibraryEntry
from core.lighting.patch import FixtureInstance
from core.lighting.patch_store import (add_fixtures, check_fixture, load_fixtures, parse_groups,
                                       remove_fixtures, restore_fixtures, span_of, update_fixtures)
from core.lighting.store import stored_definitions
from widgets.patch_panel import PatchPanel, PatchRow


_ROLE_NAMES = {"color_wheel": "Colour wheel", "uv": "UV", "other": ""}


def channel_function(ch: ChannelDef) -> str:
    """What a channel does, in words: ``Red``, ``Pan (fine)``, ``Colour wheel``, or its QLC+ group."""
    role = ch.role[:-5] if ch.fine else ch.role
    text = _ROLE_NAMES.get(role, role.replace("_", " ").capitalize()) or ch.group or "Other"
    return f"{text} (fine)" if ch.fine else text


def mode_summary(d: FixtureDef, mode: str) -> str:
    m = d.mode(mode)
    phys = d.mode_physical(m)
    parts = [f"{len(m.channels)} channel{'s' if len(m.channels) != 1 else ''}"]
    if len(m.heads) > 1:
        parts.append(f"{len(m.heads)} heads")
    if phys.pan_max or phys.tilt_max:
        parts.append(f"pan {phys.pan_max:g}°, tilt {phys.tilt_max:g}°")
    return f"{d.manufacturer} {d.model} — {mode}: {', '.join(parts)} ({d.type})"


class LibraryScanJob:
    """Lists the fixture library (reads the head of every definition file)."""

    title = "Scan fixture library"

    def __init__(self, library: FixtureLibrary):
        self.library = library

    def run(self, progress, cancelled) -> list[LibraryEntry]:
        progress(0.0, "scanning fixture folders")
        entries = self.library.entries()
        progress(1.0, f"{len(entries)} fixture definitions")
        return entries


# ==================================================================== undo commands
class _PatchCommand(QUndoCommand):
    def __init__(self, controller, label: str):
        super().__init__(label)
        self.ctl = controller
        self.project = controller.project  # the project the change belongs to

    def _do(self, fn, *args) -> None:
        try:
            fn(*args)
        except LumaError as exc:
            self.ctl.show_error(str(exc))
            self.setObsolete(True)


class AddFixturesCommand(_PatchCommand):
    def __init__(self, controller, fixtures: list[FixtureInstance], definition: FixtureDef):
        n = len(fixtures)
        super().__init__(controller, f"patch {n} {definition.model} fixture{'s' if n != 1 else ''}")
        self.fixtures, self.definition = list(fixtures), definition

    def redo(self) -> None:
        self._do(add_fixtures, self.project, self.fixtures, [self.definition], self.text())

    def undo(self) -> None:
        self._do(remove_fixtures, self.project, [f.id for f in self.fixtures], f"undo {self.text()}")


class EditFixturesCommand(_PatchCommand):
    """New name/universe/address/groups/position for fixtures; undo stores the old ones."""

    def __init__(self, controller, before: list[FixtureInstance], after: list[FixtureInstance], label: str):
        super().__init__(controller, label)
        self.before, self.after = list(before), list(after)

    def redo(self) -> None:
        self._do(update_fixtures, self.project, self.after, self.text())

    def undo(self) -> None:
        self._do(update_fixtures, self.project, self.before, f"undo {self.text()}")


class RemoveFixturesCommand(_PatchCommand):
    def __init__(self, controller, ids: list[str]):
        n = len(ids)
        super().__init__(controller, f"unpatch {ids[0]}" if n == 1 else f"unpatch {n} fixtures")
        self.ids = list(ids)
        self.removed = []

    def redo(self) -> None:
        try:
            self.removed = remove_fixtures(self.project, self.ids, self.text())
        except LumaError as exc:
            self.ctl.show_error(str(exc))
            self.setObsolete(True)

    def undo(self) -> None:
        self._do(restore_fixtures, self.project, self.removed, f"undo {self.text()}")


def push_fixture_edits(controller, after: list[FixtureInstance], label: str) -> bool:
    """Check and push one undoable edit of stored fixtures (``controller`` has ``project``,
    ``undo_stack`` and ``show_error``); False (and the error shown) when it cannot be done."""
    project = controller.project
    if project is None or not after:
        return False
    try:
        stored = {f.id: f for f in load_fixtures(project)}
        defs = stored_definitions(project)
        before = []
        for f in after:
            if f.id not in stored:
                raise PatchError(f"no fixture {f.id!r} in the patch")
            check_fixture(f, defs)
            before.append(stored[f.id])
    except LumaError as exc:
        controller.show_error(str(exc))
        return False
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    if not changed:
        return False
    controller.undo_stack.push(EditFixturesCommand(controller, [b for b, _ in changed], [a for _, a in changed], label))
    return True


# ==================================================================== the controller
class PatchController(ProjectFollower):
    def __init__(self, window=None, library: FixtureLibrary | None = None):
        super().__init__(window)
        self.library = library if library is not None else FixtureLibrary()
        self.panel = PatchPanel()
        self.dock: QDockWidget | None = None
        self.entries: list[LibraryEntry] | None = None  # None until the library is scanned
        self.fixtures: list[FixtureInstance] = []
        self.conflicts: dict = {}
        self._scan_job: int | None = None
        self._dirty = True
        self._shown_fp = ""
        b = self.panel.browser
        b.searchChanged.connect(self._search)
        b.modesWanted.connect(self._modes_wanted)
        b.modeSelected.connect(self._mode_selected)
        b.addRequested.connect(self.add_fixtures)
        self.panel.editRequested.connect(self.edit_field)
        self.panel.removeRequested.connect(self.remove_fixtures)
        b.set_status("The fixture library is scanned when this panel opens")

    # ================================================================ installation
    def install(self, window) -> None:
        """Add the Patch dock (a tab beside the timeline, hidden) and Lighting > Patch."""
        self.window = window
        if self.parent() is None:
            self.setParent(window)
        dock = QDockWidget("Patch", window)
        dock.setObjectName("dock-patch")
        dock.setWidget(self.panel)
        timeline = window.findChild(QDockWidget, "dock-timeline")
        if timeline is not None and window.dockWidgetArea(timeline) != Qt.DockWidgetArea.NoDockWidgetArea:
            window.tabifyDockWidget(timeline, dock)
        else:
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        dock.visibilityChanged.connect(self._visibility_changed)
        self.dock = dock
        self.action = QAction("Patch…", window)
        self.action.setShortcut(QKeySequence("Ctrl+Alt+P"))
        self.action.setToolTip("The fixture library and the patch: add fixtures, edit addresses and positions")
        self.action.triggered.connect(lambda _checked=False: self.open())
        lighting_menu(window.menuBar()).addAction(self.action)
        window.addAction(self.action)
        self._bind_project()

    def open(self) -> None:
        """Show the dock (and scan the library if not done yet)."""
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
        self._visibility_changed(True)

    # ================================================================ project
    def _project_switched(self) -> None:
        self._dirty = True
        self._shown_fp = ""
        self.refresh()  # with no project: an empty table

    def _on_project_changed(self, _label: str) -> None:
        self._dirty = True
        if self.dock is None or self.dock.isVisible():
            self.refresh()

    def _visibility_changed(self, visible: bool) -> None:
        if not visible:
            return
        self._bind_project()
        if self._dirty:
            self.refresh()
        if self.entries is None and self._scan_job is None:
            self.scan_library()

    def _fingerprint(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(repr(self._project.query("SELECT * FROM lighting_fixtures ORDER BY patch_order")).encode())
        h.update(repr(self._project.query("SELECT key, source FROM lighting_fixture_defs ORDER BY key")).encode())
        return h.hexdigest()

    def refresh(self) -> None:
        """Rebuild the table from the project: fixtures in patch order, overlaps red."""
        project = self._project
        if project is None or project.closed:
            self.fixtures, self.conflicts = [], {}
            self._shown_fp = ""
            self.panel.set_rows([])
            return
        fingerprint = self._fingerprint()
        if fingerprint == self._shown_fp:  # the change was elsewhere in the project
            self._dirty = False
            return
        try:
            fixtures = load_fixtures(project)
            defs = stored_definitions(project)
            spans = [span_of(f, defs) for f in fixtures]
        except LumaError as exc:
            self.show_error(f"The patch cannot be shown: {exc}")
            return
        self.fixtures = fixtures
        self.conflicts = find_conflicts(spans)
        rows = []
        for f, s in zip(fixtures, spans):
            clash = self.conflicts.get(f.id, [])
            why = "; ".join(c.describe() for c in clash)
            rows.append(PatchRow(f.id, f.name, f.definition, f.mode, f.universe, f.address, s.footprint, f.groups,
                                 f.position[0], f.position[1],
                                 f"{f.id} {why} - move one of them to a free address" if why else ""))
        self.panel.set_rows(rows)
        self._dirty = False
        self._shown_fp = fingerprint

    # ================================================================ library
    def scan_library(self) -> None:
        jobs = getattr(self.window, "jobs", None)
        self.panel.browser.set_status("Scanning the fixture library…")
        if jobs is None:
            self._scanned(LibraryScanJob(self.library).run(lambda *a: None, lambda: False))
            return
        self._scan_job = jobs.submit(LibraryScanJob(self.library), on_done=self._scanned, on_error=self._scan_failed)

    def _scanned(self, entries: list[LibraryEntry]) -> None:
        self._scan_job = None
        self.entries = list(entries)
        self.panel.browser.set_entries([(e.key, e.manufacturer, e.model, e.type) for e in self.entries])
        text = f"{len(self.entries)} fixtures"
        if self.library.problems:
            text += f" ({len(self.library.problems)} files could not be read)"
        self.panel.browser.set_status(text)
        if self.panel.browser.search.text():
            self._search(self.panel.browser.search.text())

    def _scan_failed(self, message: str) -> None:
        self._scan_job = None
        self.panel.browser.set_status(f"The fixture library could not be read: {message}")

    def _search(self, text: str) -> None:
        if self.entries is None:
            return
        keys = None if not text.strip() else {e.key for e in self.library.search(text)}
        self.panel.browser.show_only(keys)

    def _definition(self, key: str) -> FixtureDef | None:
        try:
            return self.library.load(key)
        except LumaError as exc:
            self.panel.browser.set_status(str(exc))
            return None

    def _modes_wanted(self, key: str) -> None:
        d = self._definition(key)
        if d is not None:
            self.panel.browser.set_modes(key, [(m.name, len(m.channels)) for m in d.modes])

    def _mode_selected(self, key: str, mode: str) -> None:
        d = self._definition(key)
        if d is None:
            return
        chans = d.mode_channels(mode)
        self.panel.browser.set_preview(mode_summary(d, mode),
                                       [(i + 1, c.name, channel_function(c)) for i, c in enumerate(chans)])

    # ================================================================ edits
    def add_fixtures(self, key: str, mode: str, count: int, universe: int, address: int = 0) -> list[str]:
        """Patch ``count`` fixtures of ``key`` in ``mode`` from the next free address (undoable); their ids."""
        project = self.project
        if project is None:
            self.show_error("Open or create a project first (File > New Project).")
            return []
        d = self._definition(key)
        if d is None:
            self.show_error(f"Fixture definition {key!r} cannot be loaded: {self.panel.browser.status.text()}")
            return []
        try:
            existing = load_fixtures(project)
            defs = stored_definitions(project)
            fixtures = plan_fixtures(existing, defs, d, mode, int(count), int(universe), max(1, int(address)))
        except LumaError as exc:
            self.show_error(str(exc))
            return []
        if not fixtures:
            return []
        self.undo_stack.push(AddFixturesCommand(self, fixtures, d))
        return [f.id for f in fixtures]

    def edit_field(self, fixture_id: str, field: str, value) -> bool:
        """One cell of the table: name, universe, address, groups, x or y (undoable)."""
        current = next((f for f in self.fixtures if f.id == fixture_id), None)
        if current is None:
            return False
        try:
            if field == "name":
                new = replace(current, name=str(value).strip())
            elif field in ("universe", "address"):
                new = replace(current, **{field: int(value)})
            elif field == "groups":
                new = replace(current, groups=parse_groups(str(value)))
            elif field in ("x", "y"):
                x, y, z = current.position
                new = replace(current, position=(float(value), y, z) if field == "x" else (x, float(value), z))
            else:
                return False
        except (TypeError, ValueError) as exc:
            self.show_error(f"{fixture_id}: {value!r} is not a valid {field} ({exc})")
            return False
        except LumaError as exc:
            self.show_error(str(exc))
            return False
        label = {"x": "move", "y": "move"}.get(field, f"set {field} of")
        return push_fixture_edits(self, [new], f"{label} {fixture_id}")

    def move_fixtures(self, moves: dict[str, tuple[float, float]]) -> bool:
        """New stage x, y (metres) of fixtures, as one undoable step."""
        by_id = {f.id: f for f in (load_fixtures(self.project) if self.project is not None else [])}
        after = [replace(by_id[i], position=(float(x), float(y), by_id[i].position[2]))
                 for i, (x, y) in moves.items() if i in by_id]
        label = f"move {after[0].id}" if len(after) == 1 else f"move {len(after)} fixtures"
        return push_fixture_edits(self, after, label) if after else False

    def remove_fixtures(self, ids: list[str]) -> None:
        if self.project is not None and ids:
            self.undo_stack.push(RemoveFixturesCommand(self, list(ids)))
