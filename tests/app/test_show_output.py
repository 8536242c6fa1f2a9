"""Live DMX out from the real main window: Send DMX on the viewer's transport, recorded and checked.

The project gets the demo lighting rig and a ``file://`` output; playing for
about a second must record exactly the show's DMX at the show times the
senders read from the transport, the DMX monitor must show the frame at the
playhead, and an unreachable USB interface must show up as disconnected
without stopping playback or opening a dialog. The transport bar's grand
master, Blackout and DMX controls drive an Art-Net output to a socket on
127.0.0.1: the bytes received are the engine's, scaled as the engine defines.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.gui import stylesheet

from core.lighting.buffer import CompositeBuffer
from core.lighting.demo import add_demo_rig
from core.lighting.store import load_show
from core.output.config import OutputConfig, load_outputs, save_outputs
from core.output.filerec import load_recording
from core.output.source import ShowDmxSource

MISSING_USB = "enttec-pro://NOSUCHSERIAL"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def window(shown_window, tmp_path):
    w = shown_window
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    yield w
    w.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith(("dmx-sender", "lighting-prefetch"))]


def lighting_project(qtbot, w, outputs):
    add_demo_rig(w.project)
    save_outputs(w.project, outputs)
    so = w.show_output
    qtbot.waitUntil(lambda: len(so.configs) == len(outputs) and so.source is not None and so.source.universes == [1],
                    timeout=5000)
    return so


def dialogs(w):
    return [b for b in w.findChildren(QMessageBox) if b.isVisible()]


def test_send_dmx_records_the_show_on_the_viewer_clock(qtbot, window, tmp_path):
    w = window
    rec = tmp_path / "show.dmxrec"
    so = lighting_project(qtbot, w, [OutputConfig(rec.as_uri(), name="recorder")])
    assert not so.send_action.isChecked() and so.state_label.text() == "DMX off"
    playback_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Playback")
    texts = [a.text() for a in playback_menu.actions()]
    assert {"Send DMX", "Blackout", "Outputs...", "Grand Master"} <= set(texts)
    view_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&View")
    assert so.monitor_action in view_menu.actions()

    ticks = []  # (show time the sender used, transport time right after it sent, what it sent)
    so.tick_listener = lambda sender, now, t, sent: ticks.append((t, w.playback.transport.time(), dict(sent)))
    so.monitor_action.trigger()
    assert so.dock.isVisible()
    so.send_action.trigger()
    assert so.sending and w.project.get_meta("dmx_send") == "1"
    qtbot.waitUntil(lambda: so.state_label.text() == "DMX: 1 output, connected", timeout=3000)

    start_frame = w.playback.transport.frame()
    w.toggle_play()  # what Space does
    qtbot.wait(1000)
    assert w.playback.transport.playing  # the lighting show (32 s) keeps the empty sequence playing
    w.toggle_play()
    played = w.playback.transport.frame() - start_frame
    assert played >= 20, played  # about 25 frames at 25 fps
    qtbot.wait(300)  # a few ticks at the paused position
    paused_at = so.show_time()
    last = so.source.frame(paused_at)[0]
    qtbot.waitUntil(lambda: np.array_equal(so.monitor.values(), last), timeout=2000)

    so.send_action.trigger()  # stops and joins the senders: the recording is complete
    assert not so.sending and so.state_label.text() == "DMX off"
    so.tick_listener = None

    times, universes, data = load_recording(rec)
    sent = [(t, u, d) for t, _, frames in ticks for u, d in frames.items()]
    assert len(sent) == len(times) > 20
    assert universes.tolist() == [u for _, u, _ in sent] and set(universes.tolist()) == {1}
    # the recording is the show rendered independently from the project at the show times sent
    reference = ShowDmxSource(CompositeBuffer(load_show(w.project)))
    for (t, u, d), recorded in zip(sent, data):
        assert recorded.tobytes() == bytes(d)
        assert np.array_equal(recorded, reference(t)[u]), t
    # the senders read the viewer's transport: their time is the transport's, read a moment earlier
    lag = np.array([after - t for t, after, _ in ticks])
    assert lag.min() >= -1e-6 and lag.max() < 0.05, (lag.min(), lag.max())
    show_times = np.array([t for t, _, _ in ticks])
    assert show_times.max() - show_times.min() > 0.8
    steps = np.diff(show_times)
    # forward while playing; pausing parks the transport on the start of the frame shown (< 1 frame back)
    assert steps.min() > -1 / 25 - 1e-9 and np.count_nonzero(steps < -1e-9) <= 1
    assert abs(show_times[-1] - paused_at) < 1e-9
    # a fade is playing: many different frames, and the last one is what the monitor shows
    assert len({d.tobytes() for d in data}) > 10 and data.max() > 0
    assert np.array_equal(data[-1], so.monitor.values())
    assert not dialogs(w) and not w.errors


def test_unreachable_interface_is_disconnected_and_playback_goes_on(qtbot, window, tmp_path):
    w = window
    rec = tmp_path / "show.dmxrec"
    so = lighting_project(qtbot, w, [OutputConfig(rec.as_uri(), name="recorder"),
                                     OutputConfig(MISSING_USB, [1], name="USB Pro")])
    so.send_action.trigger()
    w.toggle_play()
    qtbot.waitUntil(lambda: so.state_label.text() == "DMX: 2 outputs, 1 disconnected", timeout=5000)
    qtbot.waitUntil(lambda: any("USB Pro" in m and "disconnected" in m for m in so.messages), timeout=2000)
    assert "disconnected" in w.statusBar().currentMessage()
    # the transport bar's DMX dot is red and says which output failed and why
    qtbot.waitUntil(lambda: w.transport_bar.dmx_state() == "error", timeout=2000)
    tip = w.transport_bar.dmx.toolTip()
    assert "1 of 2" in tip and "USB Pro" in tip and "NOSUCHSERIAL" in tip

    dlg = so.open_outputs_dialog()
    assert dlg is not None and so.dialog is dlg
    qtbot.waitUntil(lambda: dlg.row_state(1).startswith("disconnected"), timeout=3000)
    assert dlg.row_state(0) == "connected"
    # playback is not disturbed: the transport keeps advancing while the interface is missing
    frame = w.playback.transport.frame()
    qtbot.wait(400)
    assert w.playback.transport.playing and w.playback.transport.frame() >= frame + 6
    recorder = next(s for s in so.stats() if s.url == rec.as_uri())
    assert recorder.frames_sent > 0
    # Test on the missing interface says why, in the dialog and the status bar
    dlg.table.selectRow(1)
    dlg.test_button.click()
    qtbot.waitUntil(lambda: "test failed" in dlg.row_state(1), timeout=10000)
    assert "NOSUCHSERIAL" in dlg.row_state(1)
    dlg.reject()
    assert so.dialog is None
    w.toggle_play()
    assert not dialogs(w) and not w.errors


def test_outputs_dialog_saves_with_undo_and_send_needs_an_output(qtbot, window, tmp_path):
    w = window
    so = lighting_project(qtbot, w, [])
    so.send_action.trigger()
    assert not so.send_action.isChecked() and not so.sending
    assert "No DMX outputs" in w.statusBar().currentMessage()

    dlg = so.open_outputs_dialog()
    dlg.add_preset("file")
    dlg.add_preset("artnet")
    dlg.set_text(1, 2, "artnet://10.0.0.1?universe=99999")  # refused by the app's validator
    dlg.accept()
    assert dlg.isVisible() and "99999" in dlg.error_label.text()
    dlg.set_text(1, 2, "artnet://127.0.0.1")
    dlg.accept()
    qtbot.waitUntil(lambda: len(so.configs) == 2, timeout=3000)
    assert [c.url for c in load_outputs(w.project)] == [(tmp_path / "proj" / "show.dmxrec").as_uri(),
                                                         "artnet://127.0.0.1"]
    w.undo_stack.undo()
    qtbot.waitUntil(lambda: so.configs == [], timeout=3000)
    assert load_outputs(w.project) == []
    w.undo_stack.redo()
    qtbot.waitUntil(lambda: len(so.configs) == 2, timeout=3000)

    # the choice to send is remembered with the project
    so.send_action.trigger()
    assert so.sending
    path = w.project.path
    w.close_project()
    assert not so.sending and not so.send_action.isEnabled()
    assert w.open_project(path)
    assert so.sending and so.send_action.isChecked()
    so.send_action.trigger()


def test_lighting_edits_rebuild_the_source_blackout_and_master(qtbot, window, tmp_path):
    w = window
    so = lighting_project(qtbot, w, [])
    so.monitor_action.trigger()
    w.seek(75)  # 3 s: the wash is up
    assert so.show_time() == pytest.approx(3.0)
    full = so.source.frame(3.0)[0]
    qtbot.waitUntil(lambda: np.array_equal(so.monitor.values(), full), timeout=3000)
    assert "Front par 1" in so.monitor.tooltip_text(1)
    old = so.source
    add_demo_rig(w.project, tempo_bpm=60)  # a lighting edit
    qtbot.waitUntil(lambda: so.source is not old, timeout=3000)
    assert so.source.universes == [1]
    so.set_grand_master(0.5)
    assert so.grand_master_actions[50].isChecked() and "master 50%" in so.state_label.text()
    qtbot.waitUntil(lambda: not np.array_equal(so.monitor.values(), full), timeout=3000)
    so.blackout_action.trigger()
    assert so.blackout and "BLACKOUT" in so.state_label.text()
    # intensities go to zero (position and colour channels keep their values)
    dark = ShowDmxSource(CompositeBuffer(load_show(w.project)), grand_master=0.0).frame(so.show_time())[0]
    qtbot.waitUntil(lambda: np.array_equal(so.monitor.values(), dark), timeout=3000)
    assert int(dark.sum()) < int(full.sum())
    so.blackout_action.trigger()
    so.set_grand_master(1.0)
    assert "BLACKOUT" not in so.state_label.text()


def test_output_that_comes_back_is_reported_connected_again(qtbot, window, tmp_path):
    w = window
    folder = tmp_path / "later"
    rec = folder / "show.dmxrec"
    so = lighting_project(qtbot, w, [OutputConfig(rec.as_uri(), name="late recorder")])
    so.send_action.trigger()
    w.toggle_play()
    qtbot.waitUntil(lambda: so.state_label.text() == "DMX: 1 output, 1 disconnected", timeout=5000)
    qtbot.waitUntil(lambda: any("late recorder" in m and "does not exist" in m for m in so.messages), timeout=2000)
    folder.mkdir()  # the sender retries (0.5 s, then 1 s, ...) and gets it
    qtbot.waitUntil(lambda: so.state_label.text() == "DMX: 1 output, connected", timeout=5000)
    qtbot.waitUntil(lambda: any("connected again" in m for m in so.messages), timeout=2000)
    assert w.playback.transport.playing
    w.toggle_play()
    so.send_action.trigger()
    times, universes, data = load_recording(rec)
    assert len(times) > 0 and not dialogs(w) and not w.errors


# ------------------------------------------------------------------ the transport bar's DMX controls


@pytest.fixture
def node():
    """A UDP socket on 127.0.0.1 standing in for an Art-Net node."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    yield sock
    sock.close()


def artdmx(packet: bytes) -> tuple[int, bytes]:
    """(port-address, slots) of an ArtDmx packet, read by the spec's layout."""
    assert packet[:8] == b"Art-Net\x00" and int.from_bytes(packet[8:10], "little") == 0x5000
    length = int.from_bytes(packet[16:18], "big")
    assert len(packet) == 18 + length
    return packet[14] | packet[15] << 8, packet[18:]


def drain(sock) -> list[bytes]:
    """Every ArtDmx slot block waiting on the socket (port-address 0 = show universe 1)."""
    out = []
    while True:
        try:
            packet = sock.recv(2048)
        except BlockingIOError:
            return out
        address, data = artdmx(packet)
        assert address == 0
        out.append(data)


def receive_until(sock, want: bytes, timeout: float = 3.0) -> list[bytes]:
    """Packets received (the event loop running) until one carries ``want``; fails after ``timeout``."""
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got += drain(sock)
        if got and got[-1] == want:
            return got
        QApplication.processEvents()
        time.sleep(0.005)
    raise AssertionError(f"never received the expected frame ({len(got)} packets)")


def intensity_channels(patch) -> list[int]:
    """0-based slots of universe 1 that carry intensity: dimmer channels, and the colour of fixtures
    without one (they dim through the engine's virtual dimmer)."""
    out = []
    for f in patch:
        chans = patch.definition_of(f).mode_channels(f.mode)
        roles = [c.role for c in chans]
        dimmed = "dimmer" in roles
        for i, role in enumerate(roles):
            if role == "dimmer" or (not dimmed and role in ("red", "green", "blue")):
                out.append(f.address - 1 + i)
    return out


def playback_action(w, text):
    menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Playback")
    return next(a for a in menu.actions() if a.text() == text)


def test_transport_bar_grand_master_blackout_and_monitor_on_artnet(qtbot, window, node):
    w = window
    bar = w.transport_bar
    port = node.getsockname()[1]
    so = lighting_project(qtbot, w, [OutputConfig(f"artnet://127.0.0.1:{port}", name="loopback node")])
    assert so.blackout_action.shortcut().toString() == "Ctrl+Shift+B" and "(Ctrl+Shift+B)" in bar.blackout.toolTip()
    assert bar.dmx_state() == "off" and bar.grand_master() == 1.0 and not bar.blackout.isChecked()
    w.seek(75)  # 3 s, stopped: the wash is up
    t = so.show_time()
    assert t == pytest.approx(3.0)
    reference = CompositeBuffer(load_show(w.project))
    full = bytes(ShowDmxSource(reference)(t)[1])
    half = bytes(ShowDmxSource(reference, grand_master=0.5)(t)[1])
    dark = bytes(ShowDmxSource(reference, grand_master=0.0)(t)[1])
    lit = intensity_channels(so.show.patch)
    assert len(set(full[i] for i in lit)) > 1 and half != full

    so.send_action.trigger()
    qtbot.waitUntil(lambda: bar.dmx_state() == "ok", timeout=3000)  # green: the sender runs, connected
    assert "1 output" in bar.dmx.toolTip()
    receive_until(node, full)

    # grand master 50 % on the slider: the next frame is the engine's frame at 0.5 (stopped transport)
    bar.master_slider.setValue(50)
    got = receive_until(node, half)
    assert set(got) <= {full, half}  # one frame already on its way at most; nothing in between
    assert bar.master_readout.text() == "50 %" and so.grand_master == 0.5
    assert so.grand_master_actions[50].isChecked() and "master 50%" in so.state_label.text()
    h, f = np.frombuffer(half, np.uint8), np.frombuffer(full, np.uint8)
    assert np.all(h <= f) and np.all(np.abs(h[lit].astype(int) - np.floor(f[lit] * 0.5 + 0.5)) <= 1)
    bar.master_slider.setValue(63)  # between the menu presets: none is checked
    assert not any(a.isChecked() for a in so.grand_master_actions.values())
    bar.master_slider.setValue(50)
    receive_until(node, half)

    # Blackout on the transport bar: intensities to zero, the Playback menu action is checked too
    bar.blackout.click()
    got = receive_until(node, dark)
    assert set(got) <= {half, dark}
    assert all(dark[i] == 0 for i in lit) and dark != bytes(512)  # position and colour channels stay
    blackout = playback_action(w, "Blackout")
    assert blackout is so.blackout_action and blackout.isChecked() and "BLACKOUT" in so.state_label.text()

    # the DMX button opens the monitor dock; it shows the bytes the node receives
    bar.dmx.click()
    assert so.dock.isVisible() and so.monitor_action.isChecked()
    qtbot.waitUntil(lambda: so.monitor.values().tobytes() == dark, timeout=2000)

    # screenshot (the app's style): master 50 %, blackout on, sending, monitor open
    w.setStyleSheet(stylesheet())
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    assert bar.grab().save(str(ARTIFACTS / "transport_bar.png"))
    w.setStyleSheet("")

    # Blackout off through the menu: the button unchecks, the 50 % frame comes back, the monitor follows
    blackout.trigger()
    assert not so.blackout and not bar.blackout.isChecked()
    receive_until(node, half)
    qtbot.waitUntil(lambda: so.monitor.values().tobytes() == half, timeout=2000)
    # and closing the dock from the View menu unchecks the DMX button
    so.monitor_action.trigger()
    assert not so.dock.isVisible() and not bar.dmx.isChecked()

    # live while playing (the chase at 20 s: frames change every tick): every frame sent is the engine's
    # at its show time with the master then in force, and the node gets exactly what was sent
    w.seek(500)
    qtbot.wait(100)
    drain(node)
    ticks = []  # (sender clock, show time, bytes sent)
    so.tick_listener = lambda sender, now, st, sent: ticks.append((now, st, sent.get(1)))
    w.toggle_play()
    qtbot.wait(400)
    before = time.monotonic()
    bar.blackout.click()
    after = time.monotonic()
    assert so.blackout_action.isChecked()
    qtbot.wait(400)
    w.toggle_play()
    so.send_action.trigger()  # joins the sender: every tick is in
    so.tick_listener = None
    assert bar.dmx_state() == "off"
    received = drain(node)
    sent = [(now, st, d) for now, st, d in ticks if d is not None]
    frames = [d for _, _, d in sent]
    # (a packet sent just as the listener was set may be on one side only)
    assert received in (frames, frames[1:]) or received[1:] == frames
    half_src, dark_src = ShowDmxSource(reference, grand_master=0.5), ShowDmxSource(reference, grand_master=0.0)
    early = [d == bytes(half_src(st)[1]) for now, st, d in sent if now < before]
    late = [d == bytes(dark_src(st)[1]) for now, st, d in sent if now > after]
    assert len(early) > 8 and all(early) and len(late) > 8 and all(late)
    assert all(d in (bytes(half_src(st)[1]), bytes(dark_src(st)[1])) for _, st, d in sent)
    assert len(set(frames)) > 10 and sent[-1][1] - sent[0][1] > 0.6  # the show moved on while it went dark
    assert not dialogs(w) and not w.errors


def test_grand_master_and_blackout_are_kept_with_the_project(qtbot, window, tmp_path):
    w = window
    bar = w.transport_bar
    so = lighting_project(qtbot, w, [])
    so.grand_master_actions[25].trigger()  # the menu preset moves the slider
    assert bar.master_slider.value() == 25 and bar.master_readout.text() == "25 %"
    bar.master_slider.setValue(40)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    # the Blackout shortcut (the menu action's) latches the transport bar button
    QTest.keyClick(w, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert bar.blackout.isChecked() and so.source.blackout and so.source.grand_master == 0.4
    qtbot.waitUntil(lambda: w.project.get_meta("dmx_blackout") == "1", timeout=2000)
    assert float(w.project.get_meta("dmx_grand_master")) == 0.4
    bar.master_slider.setValue(35)  # closed before the delayed save: still kept
    path = w.project.path
    w.close_project()
    assert w.new_project(tmp_path / "proj" / "other.luma")  # another project: its own (default) levels
    assert bar.grand_master() == 1.0 and not bar.blackout.isChecked() and not so.blackout_action.isChecked()
    assert w.open_project(path)
    qtbot.waitUntil(lambda: so.source is not None, timeout=5000)
    assert bar.grand_master() == 0.35 and bar.blackout.isChecked() and so.blackout_action.isChecked()
    assert so.source.grand_master == 0.35 and so.source.blackout
    assert not so.grand_master_actions[25].isChecked()
    bar.blackout.click()
    assert not so.blackout and not so.source.blackout and not so.blackout_action.isChecked()
