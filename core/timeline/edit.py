"""Timeline edit operations (the public module; the code lives in the modules below).

Each operation computes a :class:`ClipChange`: the table rows (clips,
transitions, markers, tracks, sequence properties; see core.timeline.model)
before and after. :func:`apply` validates it (no overlaps on a track, locked
tracks untouched, clips inside their source media, transitions on abutting
clips with enough media handles) and writes it in ONE transaction: rows only
in ``before`` are deleted, rows only in ``after`` inserted, rows in both
updated. The same change, inverted, undoes it exactly (ids are kept), which is
what the GUI's undo commands use. Transitions whose clips stop meeting at
their cut are removed by the same change (so undo brings them back).

Every operation builds its whole change first (most through a
:class:`_Draft`, a working copy of the rows) and calls :func:`apply` once, so
it is one transaction and an impossible request (locked track, overlap, past
the media, no neighbour...) raises EditError before anything is written. The
operations return the change as written: ``undo(tl, change)`` reverts it and
``apply(tl, change)`` does it again.

Clip keyframes count from the clip's start, so whatever moves a clip's in
point (trim, roll, slide, blade, overwrite) shifts them to keep them on the
same source moments. ``source_in`` is a whole frame: on a retimed clip an in
point that falls between source frames rounds down to the frame on screen.

The code is split by idea: core.timeline.change (ClipChange, validation, the
transaction, undo, drafts), core.timeline.edit_clips (placing, trimming,
splitting, removing clips, speed), core.timeline.edit_props (properties,
keyframes, blend, filters, track properties) and core.timeline.edit_structure
(transitions, markers, tracks, snapping). Import the operations from here.
"""

from __future__ import annotations

from core.timeline.change import (
    _DELETE_ORDER, _INSERT_ORDER, ClipChange, _check_transition, _clip, _clips, _Draft, _high_water_key, _label,
    _next_ids, _validate_tracks_and_markers, _write, apply, clips_after, media_length_needed, next_ids, normalize,
    undo, validate,
)
from core.timeline.edit_clips import (
    add_clip, add_media, delete_clips, extract, extract_range, insert_clip, lift, lift_range, move_clips,
    overwrite_clip, ripple_trim, roll_edit, set_speed, slide, slip, split_at, split_clips, trim_clip,
)
from core.timeline.edit_props import (
    add_filter, enable_filter, move_filter, remove_filter, remove_keyframe, set_blend, set_filter_key,
    set_filter_param, set_keyframe, set_property, set_track_props,
)
from core.timeline.edit_structure import (
    TRACK_FLAGS, add_marker, add_track, add_transition, remove_marker, remove_track, remove_transition,
    set_track_flag, set_transition, snap, track_state, update_marker,
)

__all__ = [
    # changes: core.timeline.change
    "ClipChange", "apply", "clips_after", "media_length_needed", "next_ids", "normalize", "undo", "validate",
    # clips: core.timeline.edit_clips
    "add_clip", "add_media", "delete_clips", "extract", "extract_range", "insert_clip", "lift", "lift_range",
    "move_clips", "overwrite_clip", "ripple_trim", "roll_edit", "set_speed", "slide", "slip", "split_at",
    "split_clips", "trim_clip",
    # properties, keyframes, filters: core.timeline.edit_props
    "add_filter", "enable_filter", "move_filter", "remove_filter", "remove_keyframe", "set_blend", "set_filter_key",
    "set_filter_param", "set_keyframe", "set_property", "set_track_props",
    # transitions, markers, tracks, snapping: core.timeline.edit_structure
    "TRACK_FLAGS", "add_marker", "add_track", "add_transition", "remove_marker", "remove_track",
    "remove_transition", "set_track_flag", "set_transition", "snap", "track_state", "update_marker",
    # machinery that used to live here, kept importable from this module
    "_DELETE_ORDER", "_INSERT_ORDER", "_Draft", "_check_transition", "_clip", "_clips", "_high_water_key",
    "_label", "_next_ids", "_validate_tracks_and_markers", "_write",
]
