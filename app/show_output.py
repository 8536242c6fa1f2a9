"""Live DMX out of the main window: the project's lighting show played to its outputs on the viewer's clock.

:class:`ShowOutputController` (owned by the main window) keeps the project's
show loaded as a composite buffer and a :class:`~core.output.source.ShowDmxSource`,
and, while *Playback > Send DMX* is on, runs one sender per enabled output
(:class:`~core.output.manager.OutputManager`) plus the buffer prefetcher.
Everything follows ``playback.transport.time()``, the same transport the
viewer shows frames from: one master clock.

A timer on the GUI thread (20 Hz) feeds the DMX monitor dock with the frame
at the playhead and, four times a second, reads the senders' counters for the
outputs dialog and the status bar. An output that disconnects is reported in
the status bar and the ``DMX: ...`` label; it never stops playback and never
opens a dialog (its sender keeps retrying). When the project's lighting
changes the show is reloaded; when its output list changes the senders are
restarted. Closing the project or the window stops and joins every thread.

The transport bar carries the live controls: the grand master slider, the
Blackout button (in sync with *Playback > Blackout* and *Grand Master*, both
ways) and the DMX button (shows/hides the monitor dock; its dot is the output
state). Grand master and blackout are the engine's
(:class:`~core.lighting.dmx.DmxRenderer`): the grand master scales every
fixture's effective intensity (dimmer channels, or the colour of fixtures
that dim through a virtual dimmer), blackout renders with a grand master of 0.
Both apply to the next frame of every sender and of the monitor, playing or
stopped, and are saved with the project (``dmx_grand_master``,
``dmx_blackout``; written a moment after the last change).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel

from app.output_setup import SetOutputsCommand, output_problem, try_output, usb_device_choices
from core.errors import LumaError
from core.lighting.buffer import CompositeBuffer
from core.lighting.patch import Patch
from core.lighting.store import load_show
from core.output.base import OutputError
from core.output.config import META_KEY, OutputConfig, load_outputs, output_context
from core.output.manager import BufferPrefetcher, OutputManager
from core.output.sender import CONNECTED, DISCONNECTED, SenderStats
from core.output.source import ShowDmxSource
from widgets.dmx_monitor import DmxMonitor
from widgets.outputs_dialog import OutputsDialog
from widgets.transport_bar import DMX_CONNECTING, DMX_ERROR, DMX_OFF, DMX_OK

log = logging.getLogger(__name__)

SEND_META_KEY = "dmx_send"  # "1" when the user left Send DMX on in this project
MASTER_META_KEY = "dmx_grand_master"  # the grand master of this project, 0..1
BLACKOUT_META_KEY = "dmx_blackout"  # "1" when the project was left blacked out
SAVE_DELAY_MS = 400  # a slider drag writes the project once, after it settles
LIGHTING_TABLES = ("lighting_settings", "lighting_fixture_defs", "lighting_fixtures", "lighting_patterns",
                   "lighting_layers")
POLL_MS = 50  # monitor refresh (20 Hz)
STATS_EVERY = 5  # counters every 5th poll (4 Hz)
GRAND_MASTER_LEVELS = (100, 75, 50, 25)


def channel_labels(patch: Patch) -> dict[int, dict[int, str]]:
    """{universe: {address: "Front par 1 Red"}} for the hover text of the DMX monitor."""
    out: dict[int, dict[int, str]] = {}
    for f in patch:
        d = patch.definition_of(f)
        labels = out.setdefault(f.universe, {})
        for i, ch in enumerate(d.mode_channels(f.mode)):
            labels[f.address + i] = f"{f.label} {ch.name}"
    return out


class ShowOutputController(QObject):
    _projectChanged = Signal(str)  # project.changed, moved onto the GUI thread
    _testDone = Signal(int, str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.project = None
        self.transport = None
        self.playback = None
        self.show = None
        self._last_show_error: str | None = None  # shown once as a dialog, then in the status bar
        self.buffer: CompositeBuffer | None = None
        self.source: ShowDmxSource | None = None
        self.configs: list[OutputConfig] = []
        self.manager: OutputManager | None = None
        self.prefetcher: BufferPrefetcher | None = None
        self.dialog: OutputsDialog | None = None
        self.grand_master = 1.0
        self.blackout = False
        self.messages: list[str] = []  # what the status bar said about outputs, newest last
        self.tick_listener: Callable[[object, float, float, dict], None] | None = None  # sender threads
        self._last_time = 0.0
        self._states: dict[str, str] = {}  # url -> last state seen
        self._down: set[str] = set()  # urls that disconnected and have not come back yet
        self._fingerprints: tuple[str, str] = ("", "")
        self._polls = 0
        self._shown_error = ""
        self._tests: list[threading.Thread] = []
        self._restoring = False
        self._start_errors: list[str] = []  # why outputs did not start, for the DMX button's tooltip

        self.monitor = DmxMonitor()
        self.dock = QDockWidget("DMX Monitor", window)
        self.dock.setObjectName("dock-dmx-monitor")
        self.dock.setWidget(self.monitor)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(lambda visible: visible and self.poll())
        self.monitor_action = self.dock.toggleViewAction()
        self.monitor_action.setText("DMX Monitor")
        self.state_label = QLabel("DMX off")
        window.statusBar().addPermanentWidget(self.state_label)

        self.send_action = QAction("Send DMX", self, checkable=True)
        self.send_action.setToolTip("Play the lighting show to the project's DMX outputs")
        self.send_action.toggled.connect(self._send_toggled)
        self.blackout_action = QAction("Blackout", self, checkable=True)
        self.blackout_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.blackout_action.toggled.connect(self.set_blackout)
        self.outputs_action = QAction("Outputs...", self)
        self.outputs_action.triggered.connect(self.open_outputs_dialog)
        self.grand_master_group = QActionGroup(self)
        # optional: a level between the presets (from the transport bar) checks none of them
        self.grand_master_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.grand_master_actions: dict[int, QAction] = {}
        for level in GRAND_MASTER_LEVELS:
            act = QAction(f"{level}%", self, checkable=True)
            act.setChecked(level == 100)
            act.triggered.connect(lambda _=False, lv=level: self.set_grand_master(lv / 100.0))
            self.grand_master_group.addAction(act)
            self.grand_master_actions[level] = act

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_levels)

        self.bar = getattr(window, "transport_bar", None)
        if self.bar is not None:
            self.bar.set_grand_master(self.grand_master)
            self.bar.set_blackout(self.blackout)
            self.bar.set_blackout_shortcut(
                self.blackout_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            self.bar.grandMasterChanged.connect(self.set_grand_master)
            self.bar.blackoutToggled.connect(self.set_blackout)
            self.bar.dmxMonitorToggled.connect(self.dock.setVisible)
            self.monitor_action.toggled.connect(self.bar.set_dmx_monitor_visible)

        self._projectChanged.connect(self._on_project_changed)
        self._testDone.connect(self._test_done)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._update_actions()

    def install_menus(self, playback_menu, view_menu) -> None:
        playback_menu.addSeparator()
        for act in (self.send_action, self.blackout_action):
            playback_menu.addAction(act)
            self.window.addAction(act)
        gm = playback_menu.addMenu("Grand Master")
        for act in self.grand_master_actions.values():
            gm.addAction(act)
        playback_menu.addAction(self.outputs_action)
        view_menu.addSeparator()
        view_menu.addAction(self.monitor_action)

    # ================================================================ project and clock
    def set_project(self, project) -> None:
        """Follow ``project`` (None: the project closed; stops and joins everything)."""
        if self.project is not None:
            self.stop()
            if self._save_timer.isActive():  # a level changed a moment ago: keep it with its project
                self._save_timer.stop()
                self._save_levels()
            try:
                self.project.changed.disconnect(self._project_changed_any_thread)
            except (TypeError, ValueError, RuntimeError):
                pass
        self.project = project
        self.show = self.buffer = self.source = None
        self.configs = []
        self._fingerprints = ("", "")
        self._shown_error = ""
        if project is None:
            self.timer.stop()
            self.monitor.set_frames([], np.zeros((0, 512), np.uint8))
            self._update_actions()
            return
        project.changed.connect(self._project_changed_any_thread)
        self._fingerprints = (self._lighting_fingerprint(), self._outputs_fingerprint())
        self._restore_levels()
        self._load_show()
        self._load_outputs()
        self.timer.start()
        self._update_actions()
        remembered = project.get_meta(SEND_META_KEY) == "1"
        if remembered and any(c.enabled for c in self.configs):
            self._restoring = True
            try:
                self.send_action.setChecked(True)
            finally:
                self._restoring = False

    def set_playback(self, playback) -> None:
        """Follow the transport of ``playback`` (the viewer's); None while playback is rebuilt."""
        if self.transport is not None:
            self._last_time = max(0.0, self.transport.time())
        self.playback = playback
        self.transport = playback.transport if playback is not None else None
        self._update_content_end()

    def show_time(self) -> float:
        """The show position now, in seconds (called from the sender threads too)."""
        transport = self.transport
        if transport is None:
            return self._last_time
        return max(0.0, transport.time())

    def _render(self, seconds: float) -> dict:
        source = self.source  # swapped whole when the show is reloaded
        return source(seconds) if source is not None else {}

    # ================================================================ the show
    def _load_show(self) -> None:
        try:
            show = load_show(self.project)
            buffer = CompositeBuffer(show)
            source = ShowDmxSource(buffer, grand_master=self.grand_master)
            source.set_blackout(self.blackout)
        except LumaError as exc:
            self.show = self.buffer = self.source = None
            message = f"The lighting show cannot be played: {exc}"
            if message != self._last_show_error:  # a dialog once, not on every edit
                self._last_show_error = message
                self.window.show_error(message)
            else:
                self.window.statusBar().showMessage(message, 8000)
            return
        self._last_show_error = None
        self.show, self.buffer, self.source = show, buffer, source
        if self.prefetcher is not None:
            self.prefetcher.buffer = buffer
        self.monitor.clear_labels()
        for universe, labels in channel_labels(show.patch).items():
            self.monitor.set_labels(universe, labels)
        self._update_content_end()

    def _update_content_end(self) -> None:
        if self.playback is None:
            return
        end = self.show.end_seconds() if self.show is not None else 0.0
        rate = float(self.playback.transport.rate)
        self.playback.set_content_end(math.ceil(end * rate) - 1 if end > 0 else None)

    def _load_outputs(self) -> None:
        try:
            self.configs = load_outputs(self.project)
        except LumaError as exc:
            self.configs = []
            self.window.show_error(str(exc))

    def _lighting_fingerprint(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        for table in LIGHTING_TABLES:
            h.update(repr(self.project.query(f"SELECT * FROM {table} ORDER BY rowid")).encode())
        return h.hexdigest()

    def _outputs_fingerprint(self) -> str:
        return self.project.get_meta(META_KEY) or ""

    def _project_changed_any_thread(self, label: str = "") -> None:
        self._projectChanged.emit(str(label))

    def _on_project_changed(self, _label: str) -> None:
        if self.project is None or self.project.closed:
            return
        lighting, outputs = self._lighting_fingerprint(), self._outputs_fingerprint()
        if lighting != self._fingerprints[0]:
            self._load_show()
        if outputs != self._fingerprints[1]:
            self._load_outputs()
            if self.sending and any(c.enabled for c in self.configs):
                self._start_senders()
            elif self.sending:
                self.set_sending(False)
                self._status("DMX sending stopped: no output is enabled")
        self._fingerprints = (lighting, outputs)
        self.poll()

    # ================================================================ sending
    @property
    def sending(self) -> bool:
        return self.manager is not None

    def set_sending(self, on: bool) -> None:
        self.send_action.setChecked(bool(on))

    def _send_toggled(self, on: bool) -> None:
        if on:
            if self.project is None or not any(c.enabled for c in self.configs):
                self.send_action.blockSignals(True)
                self.send_action.setChecked(False)
                self.send_action.blockSignals(False)
                self._status("No DMX outputs are enabled: add one in Playback > Outputs...")
                return
            self._start_senders()
        else:
            self.stop()
        if self.project is not None and not self._restoring:
            self.project.set_meta(SEND_META_KEY, "1" if on else "0")
        self._update_label()

    def _start_senders(self) -> None:
        self._stop_senders()
        self._states.clear()
        self._down.clear()
        self._start_errors = []
        self.manager = OutputManager(self._render, self.show_time, output_context(self.project),
                                     on_tick=self._on_tick)
        for error in self.manager.start(self.configs):
            self._start_errors.append(str(error))
            self._status(f"DMX output not started: {error}")
        if self.buffer is not None:
            self.prefetcher = BufferPrefetcher(self.buffer, self.show_time)
            self.prefetcher.start()
        self._update_label()

    def _on_tick(self, sender, now: float, show_time: float, sent: dict) -> None:  # a sender thread
        listener = self.tick_listener
        if listener is not None:
            listener(sender, now, show_time, sent)

    def _stop_senders(self) -> None:
        manager, self.manager = self.manager, None
        prefetcher, self.prefetcher = self.prefetcher, None
        if manager is not None:
            manager.stop()  # joins the sender threads; their outputs are closed
        if prefetcher is not None:
            prefetcher.stop()

    def stop(self) -> None:
        """Stop sending (the Send DMX toggle goes off without forgetting the project's choice)."""
        self._stop_senders()
        if self.send_action.isChecked():
            self.send_action.blockSignals(True)
            self.send_action.setChecked(False)
            self.send_action.blockSignals(False)
        for t in self._tests:
            t.join(5.0)
        self._tests.clear()
        self._update_label()

    # ================================================================ grand master and blackout
    def set_blackout(self, on: bool) -> None:
        """Blackout on or off (the menu action, the transport bar button, or code): the next frame."""
        on = bool(on)
        changed = on != self.blackout
        self.blackout = on
        if self.source is not None:
            self.source.set_blackout(on)
        self._show_levels()
        if changed:
            self._levels_changed()
        self._update_label()
        self.poll()

    def set_grand_master(self, level: float) -> None:
        """The grand master, 0..1 (the menu presets, the transport bar slider, or code): the next frame."""
        level = float(np.clip(level, 0.0, 1.0))
        changed = level != self.grand_master
        self.grand_master = level
        if self.source is not None:
            self.source.set_grand_master(level)
        self._show_levels()
        if changed:
            self._levels_changed()
        self._update_label()
        self.poll()

    def _show_levels(self) -> None:
        """Make the menu actions and the transport bar show the levels (without echoing back)."""
        if self.blackout_action.isChecked() != self.blackout:
            with QSignalBlocker(self.blackout_action):
                self.blackout_action.setChecked(self.blackout)
        percent = self.grand_master * 100
        preset = self.grand_master_actions.get(round(percent)) if abs(percent - round(percent)) < 1e-6 else None
        for act in self.grand_master_actions.values():
            if act.isChecked() != (act is preset):
                act.setChecked(act is preset)
        if self.bar is not None:
            self.bar.set_blackout(self.blackout)
            self.bar.set_grand_master(self.grand_master)

    def _levels_changed(self) -> None:
        if self.project is not None and not self._restoring:
            self._save_timer.start()

    def _save_levels(self) -> None:
        project = self.project
        if project is None or project.closed:
            return
        try:
            project.set_meta(MASTER_META_KEY, repr(self.grand_master))
            project.set_meta(BLACKOUT_META_KEY, "1" if self.blackout else "0")
        except LumaError as exc:
            self._status(f"The grand master and blackout could not be saved: {exc}")

    def _restore_levels(self) -> None:
        """The project's grand master and blackout (full and off when it never had them)."""
        raw = self.project.get_meta(MASTER_META_KEY)
        try:
            level = float(raw) if raw is not None else 1.0
        except ValueError:
            level = 1.0
        if not math.isfinite(level):
            level = 1.0
        self._restoring = True
        try:
            self.set_grand_master(level)
            self.set_blackout(self.project.get_meta(BLACKOUT_META_KEY) == "1")
        finally:
            self._restoring = False

    # ================================================================ polling
    def stats(self) -> list[SenderStats]:
        return self.manager.stats() if self.manager is not None else []

    def poll(self) -> None:
        """Feed the monitor (the frame at the playhead) and, now and then, the counters."""
        if self.project is None:
            return
        t = self.show_time()
        self._last_time = t
        if self.source is not None and self.dock.isVisible():
            try:
                frames = self.source.frame(t)
            except Exception as exc:  # a broken pattern: say it once, keep the last picture
                self._report_once(f"The lighting show failed at {t:.2f} s: {exc}")
            else:
                self.monitor.set_frames(self.source.universes, frames)
        self._polls += 1
        if self._polls % STATS_EVERY == 0 or self.dialog is not None:
            stats = self.stats()
            self._check_states(stats)
            self._update_label(stats)
            if self.dialog is not None:
                self.dialog.update_stats(stats)
            if self.prefetcher is not None and self.prefetcher.error:
                self._report_once(f"The lighting show failed: {self.prefetcher.error}")

    def _check_states(self, stats: list[SenderStats]) -> None:
        for s in stats:
            before = self._states.get(s.url)
            self._states[s.url] = s.state
            if s.state == before:
                continue
            name = self._name_of(s.url)
            if s.state == DISCONNECTED:
                self._down.add(s.url)
                self._status(f"DMX output {name} disconnected: {s.message}")
            elif s.state == CONNECTED and s.url in self._down:  # back after a disconnect
                self._down.discard(s.url)
                self._status(f"DMX output {name} connected again")

    def _name_of(self, url: str) -> str:
        for c in self.configs:
            if c.url == url and c.name:
                return f"{c.name} ({url})"
        return url

    def _update_label(self, stats: list[SenderStats] | None = None) -> None:
        if self.manager is None:
            text = "DMX off"
        else:
            stats = self.stats() if stats is None else stats
            n = len(stats)
            down = sum(1 for s in stats if s.state != CONNECTED)
            text = f"DMX: {n} output{'s' if n != 1 else ''}"
            if not n:
                text += ", none started"
            elif down:
                states = sorted({s.state for s in stats if s.state != CONNECTED})
                text += f", {down} {'/'.join(states)}"
            else:
                text += ", connected"
        if self.blackout:
            text += ", BLACKOUT"
        elif self.grand_master < 1.0:
            text += f", master {round(self.grand_master * 100)}%"
        if self.state_label.text() != text:
            self.state_label.setText(text)
            bad = "disconnected" in text or "none started" in text or "BLACKOUT" in text
            self.state_label.setStyleSheet("color: #e05050;" if bad else "")
        if self.bar is not None:
            self.bar.set_dmx_state(*self._dmx_state(stats))

    def _dmx_state(self, stats: list[SenderStats] | None) -> tuple[str, str]:
        """The transport bar's DMX dot: (state, what its tooltip says)."""
        if self.manager is None:
            return DMX_OFF, "DMX output is off (Playback > Send DMX)"
        stats = self.stats() if stats is None else stats
        if not stats:
            why = "; ".join(self._start_errors) or "no output is enabled"
            return DMX_ERROR, f"No DMX output started: {why}"
        failed = [s for s in stats if s.state == DISCONNECTED]
        if failed:
            lines = [f"{self._name_of(s.url)}: disconnected - {s.message or 'no reason given'}" for s in failed]
            return DMX_ERROR, f"{len(failed)} of {len(stats)} DMX output(s) failed:\n" + "\n".join(lines)
        waiting = [s for s in stats if s.state != CONNECTED]
        if waiting:
            return DMX_CONNECTING, f"Connecting to {len(waiting)} of {len(stats)} DMX output(s)"
        return DMX_OK, f"Sending DMX to {len(stats)} output{'s' if len(stats) != 1 else ''}"

    def _status(self, message: str) -> None:
        """Say something in the status bar (never a dialog: playback must go on)."""
        self.messages.append(message)
        log.warning("%s", message)
        self.window.statusBar().showMessage(message, 8000)

    def _report_once(self, message: str) -> None:
        if message != self._shown_error:
            self._shown_error = message
            self._status(message)

    def _update_actions(self) -> None:
        has = self.project is not None
        for act in (self.send_action, self.outputs_action):
            act.setEnabled(has)
        self._update_label()

    # ================================================================ the outputs dialog
    def validate(self, cfg: OutputConfig) -> str | None:
        """Why an output cannot be used as set up, or None (the outputs dialog's validator)."""
        context = output_context(self.project) if self.project is not None else None
        return output_problem(cfg, context, self.source.universes if self.source is not None else [])

    def open_outputs_dialog(self) -> OutputsDialog | None:
        if self.project is None:
            return None
        if self.dialog is not None:
            self.dialog.raise_()
            return self.dialog
        devices, note = usb_device_choices()
        dlg = OutputsDialog(self.configs, validator=self.validate, usb_devices=devices, usb_note=note,
                            recording_dir=self.project.folder, parent=self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.testRequested.connect(self._test_requested)
        dlg.finished.connect(lambda result, d=dlg: self._dialog_finished(d, result))
        self.dialog = dlg
        dlg.update_stats(self.stats())
        dlg.open()
        return dlg

    def _dialog_finished(self, dlg: OutputsDialog, result: int) -> None:
        self.dialog = None
        if result != OutputsDialog.DialogCode.Accepted or self.project is None:
            return
        try:
            after = dlg.configs()
            for c in after:
                c.validate()
        except LumaError as exc:
            self.window.show_error(str(exc))
            return
        before = list(self.configs)
        if [c.to_dict() for c in after] == [c.to_dict() for c in before]:
            return
        self.window.undo_stack.push(SetOutputsCommand(self.project, before, after))

    def _test_requested(self, row: int) -> None:
        dlg = self.dialog
        if dlg is None:
            return
        try:
            cfg = dlg.config_at(row)
        except OutputError as exc:
            dlg.set_row_message(row, f"test failed: {exc}")
            return
        context = output_context(self.project)
        frames = self._render(self.show_time())

        def work() -> None:
            self._testDone.emit(row, try_output(cfg, context, frames))

        thread = threading.Thread(target=work, name=f"dmx-test {cfg.url}", daemon=True)
        self._tests = [t for t in self._tests if t.is_alive()] + [thread]
        thread.start()

    def _test_done(self, row: int, message: str) -> None:
        if self.dialog is not None:
            self.dialog.set_row_message(row, message)
        self._status(message)
