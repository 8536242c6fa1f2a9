"""The timeline widget: tracks, clips, ruler and playhead of one sequence.

:class:`TimelineView` shows a :class:`core.timeline.model.Timeline` and emits
intent signals (move, trim, scrub, delete, split, drops, selection); the app
turns them into undoable edits.
"""

from widgets.timeline.palette import TimelinePalette
from widgets.timeline.view import MEDIA_MIME, TimelineView

__all__ = ["MEDIA_MIME", "TimelinePalette", "TimelineView"]
