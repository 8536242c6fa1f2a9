"""Undoable commands: each wraps a core edit and persists through core."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from core.timeline import edit
from core.timeline.edit import ClipChange
from core.timeline.model import Timeline


class ClipChangeCommand(QUndoCommand):
    """A timeline edit already applied by core; undo/redo re-apply it exactly.

    Push it with :func:`push_edit`, which runs the edit first so that an edit
    core refuses never lands on the undo stack.
    """

    def __init__(self, timeline: Timeline, change: ClipChange):
        super().__init__(change.label)
        self.timeline = timeline
        self.change = change
        self._first = True

    def redo(self) -> None:
        if self._first:  # already applied when the command was made
            self._first = False
            return
        edit.apply(self.timeline, self.change)

    def undo(self) -> None:
        edit.undo(self.timeline, self.change)


def push_edit(stack, timeline: Timeline, fn, *args, **kwargs) -> ClipChange:
    """Run ``fn(timeline, *args)`` (a core.timeline.edit operation) and record it for undo.

    Raises the LumaError of a refused edit; nothing is pushed then.
    """
    change = fn(timeline, *args, **kwargs)
    if not change.empty:
        stack.push(ClipChangeCommand(timeline, change))
    return change


def push_track_flag(stack, timeline: Timeline, track_id: int, flag: str, value: bool) -> ClipChange:
    """Mute / solo / lock / hide a track as one undoable step (:func:`core.timeline.edit.track_state`)."""
    return push_edit(stack, timeline, edit.track_state, int(track_id), flag, bool(value))


class EditMacro:
    """Several edits as one undo step: ``with EditMacro(stack, "insert 3 clips", len(ids) > 1): ...``.

    ``active=False`` groups nothing (a single edit is one step by itself)."""

    def __init__(self, stack, label: str, active: bool = True):
        self.stack, self.label, self.active = stack, label, active

    def __enter__(self) -> "EditMacro":
        if self.active:
            self.stack.beginMacro(self.label)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            self.stack.endMacro()
