"""Luma's own roto shapes JSON: the neutral, documented format (``RotoAnimation.to_json``).

The file is described by the JSON Schema (draft 2020-12)
``resources/schemas/roto-shapes-1.schema.json`` (its ``$id`` is
:data:`core.vision.roto_model.SCHEMA_ID`, which every file names in its
``$schema`` key). In short: pixels of the source frame, origin top-left, y
down, tangents as offsets from their vertex, frames as 0-based source frame
indices, the rate as an exact fraction; one entry per track with its keys.

``first_frame`` does not apply: the file keeps source frame indices so that
it reads back exactly (:func:`load`); a reader adds its own offset.

The file is written atomically (a ``.part`` file renamed over the target), so
a crash never leaves half a file under the real name.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from core.vision.roto_model import RotoAnimation
from core.vision.types import VisionError
from plugins.roto_exporters.common import output_path, write_text_atomic

__all__ = ["JsonExporter", "load", "schema_path"]


def schema_path() -> Path:
    """The JSON Schema of the format (shipped as package data of ``resources``)."""
    return Path(str(resources.files("resources") / "schemas" / "roto-shapes-1.schema.json"))


def load(path: Path) -> RotoAnimation:
    """Read a roto shapes file; anything that is not a valid one raises :class:`VisionError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VisionError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VisionError(f"{path.name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise VisionError(f"{path.name}: not a Luma roto shapes file (the top level is not an object)")
    try:
        return RotoAnimation.from_dict(data)
    except VisionError as exc:
        raise VisionError(f"{path.name}: {exc}") from None
    except (AttributeError, TypeError, ValueError, KeyError) as exc:  # a wrongly typed nested entry
        raise VisionError(f"{path.name}: malformed roto shapes ({type(exc).__name__}: {exc})") from None


class JsonExporter:
    """Luma roto shapes JSON (the documented neutral schema); see the module docstring."""

    name = "json"
    title = "Luma roto shapes JSON (documented schema)"
    extension = ".json"

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        path = output_path(path, ".json", animation.name)
        return [write_text_atomic(path, animation.to_json(indent=1) + "\n")]
