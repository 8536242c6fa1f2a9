"""DMX monitor: cost of a full repaint of the 512 cells (goal: under 5 ms; budget: one DMX frame, 1/44 s).

Every repaint shows new values (a random universe each time, all 512 cells
non-zero so every cell draws its number and bar). Measured, at a typical
dock size (900x420) and a large one (1600x800):

* ``grid.repaint()``: what the screen gets (offscreen: the backing store);
* reference, same run: the naive way the monitor does not paint, 512
  ``fillRect`` + 512 ``drawText`` per repaint into a QImage of the same size.

Each figure is the median of 5 batches (mean ms per call in each batch).
Printed: milliseconds, the ratio to the 1/44 s budget, and the ratio to the
reference.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q -s -o addopts="" tests/benchmarks/bench_dmx_monitor.py``
or ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_dmx_monitor.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

GOAL_MS = 5.0
BUDGET_MS = 1000.0 / 44.0
SIZES = ((900, 420), (1600, 800))


def _time(fn, iterations: int, batches: int = 5) -> float:
    """Median over ``batches`` of the mean ms per call."""
    fn()
    fn()
    per_batch = max(1, iterations // batches)
    results = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        results.append((time.perf_counter() - t0) * 1000.0 / per_batch)
    return sorted(results)[len(results) // 2]


def measure(iterations: int = 300) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from widgets.dmx_monitor import COLUMNS, DmxMonitor

    app = QApplication.instance() or QApplication(sys.argv[:1])
    rng = np.random.default_rng(5)
    frames = rng.integers(1, 256, size=(64, 1, 512), dtype=np.uint8)
    out = {}
    for w, h in SIZES:
        monitor = DmxMonitor()
        monitor.resize(w, h)
        monitor.show()
        app.processEvents()
        grid = monitor.grid
        i = [0]

        def repaint():
            i[0] += 1
            monitor.set_frames([1], frames[i[0] % len(frames)])
            grid.repaint()

        repaint_ms = _time(repaint, iterations)
        rects = [grid.cell_rect(s) for s in range(512)]
        image = QImage(grid.width(), grid.height(), QImage.Format.Format_RGB32)
        texts = [str(v) for v in range(256)]
        colours = [QColor(30 + v // 4, 60 + v // 3, 90 + v // 2) for v in range(256)]

        def reference():
            values = frames[i[0] % len(frames)][0]
            i[0] += 1
            p = QPainter(image)
            p.fillRect(image.rect(), QColor(20, 20, 20))
            p.setPen(QColor(240, 240, 240))
            for r, v in zip(rects, values.tolist()):
                p.fillRect(r, colours[v])
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, texts[v])
            p.end()

        reference_ms = _time(reference, iterations // 3)
        cell = grid.cell_rect(0)
        out[(w, h)] = {"repaint_ms": repaint_ms, "reference_ms": reference_ms,
                       "cell": (cell.width(), cell.height()), "columns": COLUMNS}
        monitor.close()
        monitor.deleteLater()
        app.processEvents()
    return out


def report(r: dict) -> None:
    print(f"\nDMX monitor full repaint, 512 cells changing every repaint (goal {GOAL_MS:g} ms, "
          f"budget 1/44 s = {BUDGET_MS:.1f} ms):")
    for (w, h), m in r.items():
        ms, ref = m["repaint_ms"], m["reference_ms"]
        print(f"  {w}x{h} (cells {m['cell'][0]}x{m['cell'][1]} px): repaint {ms:.3f} ms = "
              f"{ms / BUDGET_MS:.3f} x the 1/44 s budget, {ms / GOAL_MS:.2f} x the {GOAL_MS:g} ms goal; "
              f"naive per-cell QPainter reference {ref:.3f} ms (repaint / reference = {ms / max(ref, 1e-9):.2f})")


def test_bench_dmx_monitor(qapp):
    r = measure()
    report(r)
    for (w, h), m in r.items():
        assert m["repaint_ms"] < GOAL_MS, f"{w}x{h}: a repaint takes {m['repaint_ms']:.2f} ms (goal {GOAL_MS} ms)"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    report(measure())
