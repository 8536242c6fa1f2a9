"""Helpers for setting up DMX outputs from the GUI: validation, the USB interface list, a one-shot test, undo.

Used by :class:`app.show_output.ShowOutputController` for the outputs dialog;
nothing here touches a device or the network except :func:`try_output`,
which runs on a worker thread.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from core.output.base import OutputContext, OutputError, open_output
from core.output.config import OutputConfig, save_outputs


def output_problem(cfg: OutputConfig, context: OutputContext | None, show_universes: list[int]) -> str | None:
    """Why an output cannot be used as set up, or None (builds the output, opens nothing)."""
    try:
        cfg.validate()
        output = open_output(cfg.url, context)
    except OutputError as exc:
        return str(exc)
    wanted = cfg.universes or show_universes
    if output.max_universes is not None and len(wanted) > output.max_universes:
        return (f"{cfg.url} carries {output.max_universes} universe(s), not {len(wanted)}: "
                "give it one universe and add another output for the others")
    return None


def usb_device_choices() -> tuple[list[tuple[str, str]], str]:
    """(selector, description) of each Enttec-style FTDI interface, and a note when none can be listed."""
    from core.output.ftdi_usb import dmx_devices, list_devices

    try:
        devices = dmx_devices(list_devices())
    except OutputError as exc:
        return [], str(exc)
    return [(d.serial or str(i), d.describe()) for i, d in enumerate(devices)], ""


def try_output(cfg: OutputConfig, context: OutputContext | None, frames: dict) -> str:
    """Open the output, send it ``frames`` (the show now) once, close it; what happened, for the user."""
    try:
        output = open_output(cfg.url, context)
        output.open()
        try:
            universes = cfg.universes or sorted(frames) or [1]
            for u in universes:
                output.send(u, frames.get(u, bytes(512)))
            output.end_tick()
        finally:
            output.close()
    except (OutputError, OSError) as exc:
        return f"test failed: {exc}"
    return f"test OK: sent {len(universes)} universe(s)"


class SetOutputsCommand(QUndoCommand):
    """Replace the project's output list (undoable)."""

    def __init__(self, project, before: list[OutputConfig], after: list[OutputConfig]):
        super().__init__("set DMX outputs")
        self.project, self.before, self.after = project, before, after

    def redo(self) -> None:
        if not self.project.closed:
            save_outputs(self.project, self.after)

    def undo(self) -> None:
        if not self.project.closed:
            save_outputs(self.project, self.before)
