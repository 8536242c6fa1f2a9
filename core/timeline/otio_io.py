"""Interchange of sequences with other editors through OpenTimelineIO.

:func:`export_timeline` writes a sequence as an OTIO file (``.otio``), an OTIO
bundle with its media (``.otioz``), a CMX 3600 EDL (``.edl``) or Final Cut Pro 7
XML (``.xml``), through OTIO's adapters. :func:`import_timeline` reads any of
them into a NEW sequence of a project, in one transaction.

Mapping (Luma -> OTIO):

* the sequence -> an ``otio.schema.Timeline`` named like it, global start time 0;
* each track -> an ``otio.schema.Track`` (video tracks bottom first, then audio),
  ``enabled`` = not hidden (video) / not muted (audio);
* each clip -> an ``otio.schema.Clip`` with an ``ExternalReference`` (absolute
  file URL, ``available_range`` from the media probe at the media's own rate)
  and ``source_range`` = (source_in, duration) at the sequence rate; empty
  space between clips -> ``otio.schema.Gap``;
* speed -> a ``LinearTimeWarp`` (``time_scalar`` = speed; the exact Fraction in
  its metadata);
* transitions -> ``otio.schema.Transition`` between their two clips:
  ``SMPTE_Dissolve`` for a crossfade, ``Custom_Transition`` for the other kinds,
  ``in_offset`` = duration // 2 and ``out_offset`` = the rest, which is OTIO's
  way of saying what the model says (centred on the cut, clip A plays on past
  its end and clip B starts early from their media handles);
* sequence markers -> markers on the timeline's stack (colour names mapped to
  ``MarkerColor``).

Everything only Luma knows (the exact rate, properties and filters, transition
parameters, track solo/lock/properties, media content hashes, marker colours
OTIO has no name for) goes under ``metadata["luma"]``, so Luma -> OTIO -> Luma
is lossless. Formats that hold less (EDL, FCP XML) are written with what their
adapter accepts and :class:`ExportResult` lists what was left out.

Import relinks media: a reference whose file exists is used (ingested once,
matched by content hash); otherwise a file of the same name (and the same
content hash when the file says which) is looked for in the relink folders, the
interchange file's folder and the project's folder; media still missing stop
the import with a list of them. Rows are written through
:func:`core.timeline.edit.apply`, which validates them; the media rows, the
sequence and all its rows are one transaction, so a failed import writes
nothing.

The code lives in core.timeline.otio_common (adapters, metadata key, marker
colours, exact time), core.timeline.otio_export (Luma -> OTIO),
core.timeline.otio_read (an interchange file read into sequence frames) and
core.timeline.otio_import (media relinking and the one-transaction write).
Import the API from here.
"""

from __future__ import annotations

from core.timeline.otio_common import (
    ADAPTER_LABELS, FORMAT_VERSION, LUMA, MARKER_COLORS, SUFFIX_ADAPTERS, adapter_for,
)
from core.timeline.otio_export import ExportResult, export_otio, export_timeline, to_otio
from core.timeline.otio_import import ImportResult, import_otio, import_timeline
from core.timeline.otio_read import read_otio

__all__ = [
    "ADAPTER_LABELS", "FORMAT_VERSION", "LUMA", "MARKER_COLORS", "SUFFIX_ADAPTERS", "adapter_for",
    "ExportResult", "export_otio", "export_timeline", "to_otio",
    "ImportResult", "import_otio", "import_timeline", "read_otio",
]
