"""Python's cyclic garbage collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold
is crossed. If that is a job-runner thread and the garbage holds Qt objects
made on the GUI thread, their destructors run there too, and a Qt object lock
taken by one thread while the other waits for the GIL deadlocks the program
(seen as a frozen window while a background job runs). So automatic
collection is switched off and a timer on the GUI thread does the same
generational checks every half second; worker threads never collect.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


def collect_if_due() -> int:
    """Run the generations whose allocation counts passed their thresholds (what Python would do)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    found = 0
    for generation in (2, 1, 0):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            found += gc.collect(generation)  # a collection includes the younger generations
            break
    return found


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 500):
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(collect_if_due)
        self.timer.start()


_collector: MainThreadCollector | None = None


def install(app) -> MainThreadCollector:
    """Install the collector for ``app`` (a QApplication) once; call it on the GUI thread."""
    global _collector
    if _collector is None:
        _collector = MainThreadCollector(app)
    return _collector
