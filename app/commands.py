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


class TrackFlagCommand(QUndoCommand):
    """Mute / lock / hide a track (undoable)."""

    def __init__(self, timeline: Timeline, track_id: int, flag: str, value: bool):
        name = timeline.track(track_id).name
        verb = {"muted": "mute", "locked": "lock", "hidden": "hide"}.get(flag, flag)
        super().__init__(f"{verb if value else 'un' + verb} {name}")
        self.timeline, self.track_id, self.flag, self.value = timeline, track_id, flag, value
        self.old = bool(getattr(timeline.track(track_id), flag))

    def redo(self) -> None:
        edit.set_track_flag(self.timeline, self.track_id, self.flag, self.value)

    def undo(self) -> None:
        edit.set_track_flag(self.timeline, self.track_id, self.flag, self.old)
