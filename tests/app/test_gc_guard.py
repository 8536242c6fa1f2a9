"""The app's garbage collection runs on the GUI thread only (app.gc_guard)."""

from __future__ import annotations

import gc
import threading

from app import gc_guard


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_collection_is_off_and_the_timer_collects(qapp, qtbot):
    collector = gc_guard.install(qapp)
    assert not gc.isenabled()
    assert collector.timer.isActive() and collector.timer.interval() == 500
    gc.collect()
    collected = []

    def make_garbage():  # a worker thread allocates plenty and must not collect
        for _ in range(5000):
            Node()
        collected.append(gc.get_count()[0])

    t = threading.Thread(target=make_garbage)
    t.start()
    t.join()
    assert collected[0] >= 5000  # nothing collected in the worker: the young generation kept counting
    assert gc_guard.collect_if_due() >= 5000  # the GUI thread's check frees the cycles
    assert gc.get_count()[0] < 100


def test_nothing_is_collected_below_the_threshold():
    gc.collect()
    Node()
    assert gc_guard.collect_if_due() == 0
