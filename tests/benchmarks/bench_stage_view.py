"""Stage view: 500 fixtures updating at 44 Hz - CPU share and paint time per frame.

The rig: 500 fixtures (RGB pars, RGBW pars, 16-bit moving heads, dimmers;
tests/benchmarks/lighting_bench_rig.py) on a 50 x 10 m grid, 8 overlapping
layers, in 8 universes. Each frame does what the app's StageController does
at every tick of its 44 Hz timer: sample the show's DMX at t through
:class:`core.output.source.ShowDmxSource` (composite buffer + DMX render),
decode the frame (:class:`core.lighting.visualize.FixtureVisualizer`),
project the moving heads' beams and hand the view the light; the view
repaints (numpy scatter into its raster, one ``drawImage``).

Measured (buffer blocks built beforehand, as the prefetcher does during
playback; their build time is printed separately):

* **live**: a 44 Hz QTimer drives the frames for a few seconds of wall time
  with the view shown (900 x 600): process CPU time / wall time (this
  process, all threads; on this 2-core machine 100 % is one whole core),
  frames and paints done, and the paint time per frame (median, 95th
  percentile). Reference, same run: the CPU share of the same 44 Hz timer
  doing nothing.
* **per frame, tight loop** at 900 x 600 and 1600 x 900: sample + DMX render,
  decode, and the view's paint (``render`` into a QImage: what a repaint
  draws). Reference, same run: the same 500 fixtures (and beams) drawn the
  straightforward way - one antialiased QPainter ellipse with its own brush
  per fixture, one translucent line per beam - over the same cached grid.

Numbers are printed; nothing is asserted on time.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_stage_view.py``
or ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q -s -o addopts="" tests/benchmarks/bench_stage_view.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import numpy as np  # noqa: E402

FIXTURES = 500
RATE_HZ = 44.0
LIVE_SECONDS = 4.0
SIZES = ((900, 600), (1600, 900))


def _median_ms(fn, n: int = 60, batches: int = 5) -> float:
    fn()
    per = max(1, n // batches)
    out = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(per):
            fn()
        out.append((time.perf_counter() - t0) * 1000.0 / per)
    return statistics.median(out)


class Rig:
    """The show, its DMX source and decoder, and a frame function feeding a view."""

    def __init__(self):
        from core.lighting.buffer import CompositeBuffer
        from core.lighting.visualize import FixtureVisualizer
        from core.output.source import ShowDmxSource
        from lighting_bench_rig import big_show

        self.show = big_show(FIXTURES, universes=8, layers=8, seconds=30.0)
        self.buffer = CompositeBuffer(self.show)
        t0 = time.perf_counter()
        self.buffer.ensure(0.0, 30.0)
        self.build_s = time.perf_counter() - t0
        self.source = ShowDmxSource(self.buffer)
        rig = self.show.patch.rig()
        self.rig = rig
        self.vis = FixtureVisualizer(rig)
        fixtures = list(self.show.patch)
        self.ids = [f.id for f in fixtures]
        self.labels = [f.label for f in fixtures]
        self.positions = np.array([f.position for f in fixtures])
        self.heads = np.array([self.show.patch.head_count(f) for f in fixtures])

    def setup(self, view) -> None:
        view.set_fixtures(self.ids, self.labels, self.positions, self.heads)

    def look(self, t: float):
        from core.lighting.visualize import beam_floor_points

        look = self.vis.decode_universes(self.source(t))
        beams = np.full((self.rig.size, 2), np.nan)
        m = look.moving
        beams[m] = beam_floor_points(self.rig.positions[m], look.pan[m], look.tilt[m])
        return look.light, beams


def live_run(app, rig: Rig, size: tuple[int, int], work: bool) -> dict:
    """A 44 Hz timer for LIVE_SECONDS; with ``work`` each tick updates the shown view."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from widgets.stage import StageView

    view = StageView()
    view.resize(*size)
    rig.setup(view)
    view.show()
    deadline = time.monotonic() + 5.0
    while (view.windowHandle() is None or not view.windowHandle().isExposed()) and time.monotonic() < deadline:
        app.processEvents()
    app.processEvents()
    paint_ms: list[float] = []
    state = {"paints": view.paints, "ticks": 0}
    clock = QElapsedTimer()

    def tick():
        if view.paints != state["paints"]:
            state["paints"] = view.paints
            paint_ms.append(view.last_paint_ms)
        state["ticks"] += 1
        if work:
            light, beams = rig.look(2.0 + clock.elapsed() / 1000.0)
            view.set_look(light, beams)

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(int(1000 / RATE_HZ))
    timer.timeout.connect(tick)
    paints0 = view.paints
    cpu0, wall0 = time.process_time(), time.perf_counter()
    clock.start()
    timer.start()
    while time.perf_counter() - wall0 < LIVE_SECONDS:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    view.close()
    return {"cpu_share": cpu / wall, "ticks": state["ticks"], "paints": view.paints - paints0, "wall": wall,
            "paint_ms": paint_ms}


def naive_reference(rig: Rig, size: tuple[int, int], light: np.ndarray, beams: np.ndarray):
    """Draw the same fixtures the straightforward QPainter way; returns a function doing one frame."""
    from PySide6.QtCore import QLineF, QPointF
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    from widgets.stage import StageView

    view = StageView()
    view.resize(*size)
    rig.setup(view)
    view.grab()  # lays out: the same grid picture, the same fixture centres
    background = view._raster._bg.copy()
    w, h = view._raster.width, view._raster.height
    bg_image = QImage(background.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied)
    centres = view.head_centres()
    radius = view._radius
    cols = np.floor(np.clip(light, 0, 1) * 255 + 0.5).astype(int)
    ends = view.to_widget(np.nan_to_num(beams))
    has_beam = np.isfinite(beams).all(axis=1)
    target = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    ring = QPen(QColor("#8d939c"), 1.4)

    def frame():
        p = QPainter(target)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.drawImage(0, 0, bg_image)
        for i in np.flatnonzero(has_beam):
            c = cols[i]
            p.setPen(QPen(QColor(int(c[0]), int(c[1]), int(c[2]), 210), 2.0))
            p.drawLine(QLineF(centres[i, 0], centres[i, 1], ends[i, 0], ends[i, 1]))
        p.setPen(ring)
        for (x, y), c in zip(centres, cols):
            p.setBrush(QColor(int(c[0]), int(c[1]), int(c[2])))
            p.drawEllipse(QPointF(x, y), radius, radius)
        p.end()

    return frame


def run_benchmark(app) -> None:
    from PySide6.QtGui import QImage

    from widgets.stage import StageView

    rig = Rig()
    print(f"\nStage view benchmark: {FIXTURES} fixtures ({rig.rig.size} heads, "
          f"{int(rig.vis.moving.sum())} moving), {len(rig.vis.universes)} universes, "
          f"{len(rig.show.layers)} layers; machine: {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"  composite buffer built ahead: {rig.build_s:.2f} s for 30 s of show (not in the figures below)")

    idle = live_run(app, rig, SIZES[0], work=False)
    live = live_run(app, rig, SIZES[0], work=True)
    pm = sorted(live["paint_ms"]) or [float("nan")]
    print(f"\n  live, {SIZES[0][0]}x{SIZES[0][1]}, {RATE_HZ:g} Hz timer for {live['wall']:.1f} s:")
    print(f"    frames {live['ticks']} ({live['ticks'] / live['wall']:.1f}/s), paints {live['paints']} "
          f"({live['paints'] / live['wall']:.1f}/s)")
    print(f"    CPU share (process CPU time / wall time): {100 * live['cpu_share']:.1f} % of one core "
          f"({100 * live['cpu_share'] / (os.cpu_count() or 1):.1f} % of the machine)")
    print(f"    reference, the same timer idle: {100 * idle['cpu_share']:.1f} % -> the stage view costs "
          f"{100 * (live['cpu_share'] - idle['cpu_share']):.1f} % of a core")
    print(f"    paint per frame: median {statistics.median(pm):.2f} ms, 95th percentile "
          f"{pm[int(0.95 * (len(pm) - 1))]:.2f} ms (budget 1/{RATE_HZ:g} s = {1000 / RATE_HZ:.1f} ms)")

    sample_ms = _median_ms(lambda: rig.source(7.31 + np.random.rand()), 200)
    light, beams = rig.look(12.0)
    frames = rig.source(12.0)
    decode_ms = _median_ms(lambda: rig.vis.decode_universes(frames), 200)
    print("\n  per frame, tight loop (median of 5 batches):")
    print(f"    sample buffer + DMX render: {sample_ms:.3f} ms;  decode to light + beams: {decode_ms:.3f} ms")
    for size in SIZES:
        view = StageView()
        view.resize(*size)
        rig.setup(view)
        image = QImage(view.size(), QImage.Format.Format_ARGB32_Premultiplied)
        view.render(image)  # layout
        lights = [rig.look(t)[0] for t in np.linspace(5, 25, 8)]
        k = [0]

        def paint():
            k[0] += 1
            view.set_look(lights[k[0] % len(lights)], beams)
            view.render(image)

        paint_ms = _median_ms(paint, 100)
        t0 = time.perf_counter()
        view.relayout()
        view.render(image)
        layout_ms = (time.perf_counter() - t0) * 1000
        ref_ms = _median_ms(naive_reference(rig, size, light, beams), 30)
        print(f"    {size[0]}x{size[1]}: paint {paint_ms:.2f} ms (reference, a QPainter ellipse per fixture: "
              f"{ref_ms:.2f} ms, {ref_ms / paint_ms:.1f}x slower); a re-layout (zoom/pan/move) {layout_ms:.1f} ms")
        view.deleteLater()


def test_stage_view_benchmark(qapp):
    run_benchmark(qapp)


if __name__ == "__main__":
    from PySide6.QtWidgets import QApplication

    run_benchmark(QApplication.instance() or QApplication(sys.argv))
