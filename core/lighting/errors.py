"""Errors of the lighting engine; every message names what is wrong and where."""

from __future__ import annotations

from core.errors import LumaError


class LightingError(LumaError):
    """Base class of the lighting errors."""


class FixtureDefinitionError(LightingError):
    """A fixture definition file is unreadable, malformed or not found."""


class PatchError(LightingError):
    """A fixture cannot be patched (bad or overlapping DMX address, unknown mode...)."""


class PatternError(LightingError):
    """A pattern graph is invalid: unknown node type, bad parameter, bad link, cycle."""

    def __init__(self, message: str, node_id: str | None = None):
        super().__init__(message)
        self.node_id = node_id


class MergeConflictError(PatternError):
    """Two Apply nodes of one pattern write the same capability of the same primitive."""


class LayerError(LightingError):
    """A layer is placed or configured wrongly (end before start, opacity out of range...)."""


class ShowFileError(LightingError):
    """A show file (YAML) is invalid; the message starts with ``file:line:``."""
