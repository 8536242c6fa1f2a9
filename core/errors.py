"""Errors the user can act on.

Every error core raises on purpose is a :class:`LumaError`; its message names
the thing that is wrong and, where possible, what to do about it. The GUI shows
the message in a dialog, the CLI prints it on stderr and exits non-zero.
"""

from __future__ import annotations


class LumaError(Exception):
    """Base class: the message is meant for the user."""


class MediaError(LumaError):
    """A media file is missing, corrupt or unsupported."""


class ProjectError(LumaError):
    """The project file cannot be opened, read or written."""


class ProjectVersionError(ProjectError):
    """The project was written by a newer Luma Studio."""


class EditError(LumaError):
    """A timeline edit cannot be done (overlap, locked track, bad range)."""


class JobCancelled(LumaError):
    """A job stopped because the user cancelled it."""


class TimecodeError(LumaError, ValueError):
    """A timecode string or frame rate is malformed."""
